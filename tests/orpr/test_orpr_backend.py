"""Replay backends (orpr.backend): the periodic-review simulator equals the daily one at R = 1,
bit for bit, on random workspaces and policies; at R > 1 it equals the daily simulator on the
policy gated to review days, and it never consults the policy on other days."""
from __future__ import annotations

import numpy as np
import pytest

from inventory.library import KNOWN, policy_source
from inventory.policy import PolicyError, compile_policy, params_for_row
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState, simulate, simulate_fn
from orpr.backend import BackendConfig, BackendKind, DailyBackend, PeriodicBackend, make_backend, periodic_replay

from tests.conftest import make_sequence

FIELDS = ("costs", "orders", "on_hand_end", "lost")

# Policies written the way an LLM writes them: features, scalar-only branches, pipeline reads.
FEATURE_POLICY = '''
import numpy as np

PARAMS = {"S": (0.0, 80.0), "lift": (0.0, 2.0), "r": (0.0, 40.0)}

def order(obs, params):
    promo = obs.features["promo"]
    boost = params["lift"] * promo[obs.t] if len(promo) > obs.t else 0.0
    level = params["S"] * (1.0 + boost)
    recent = obs.demand[-7:].mean() if len(obs.demand) else 0.0
    gap = np.maximum(level + 0.1 * recent - obs.position, 0.0)
    return np.minimum(gap, params["r"])
'''
SCALAR_POLICY = '''
PARAMS = {"s": (0.0, 40.0), "S": (0.0, 90.0)}

def order(obs, params):
    if obs.position <= params["s"]:
        return max(params["S"] - obs.position, 0.0)
    if obs.pipeline.size and obs.pipeline[-1] > 20:
        return 0.0
    return 0.5 if obs.t % 5 == 0 else 0.0
'''
CUSTOM = {"feature_policy": FEATURE_POLICY, "scalar_policy": SCALAR_POLICY}


def _source(name: str) -> str:
    return CUSTOM[name] if name in CUSTOM else policy_source(name)


def _random_problem(seed: int) -> ReplayProblem:
    rng = np.random.default_rng(seed)
    days = int(rng.integers(40, 120))
    seq, specs = make_sequence(days, seed)
    L = int(rng.integers(0, 5))
    integer = bool(rng.random() < 0.75)
    demand = seq.demand if integer else seq.demand * rng.uniform(0.5, 1.5, days)
    seq = DemandSequence(list(seq.dates), demand, dict(seq.features))
    model = CostModel(float(rng.uniform(0.2, 2.0)), float(rng.uniform(2.0, 20.0)), L, integer_orders=integer)
    init = InitialState(float(rng.integers(0, 20)), tuple(float(x) for x in rng.integers(0, 8, int(rng.integers(0, L + 1)))))
    return ReplayProblem(seq, specs, model, init)


def _random_params(program, problem: ReplayProblem, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    space = program.space(problem.info)
    out = {}
    for s in space:
        x = rng.uniform(s.low, s.high, n)
        out[s.name] = np.round(x) if s.integer else x
    return out


def _assert_same(a, b) -> None:
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


POLICIES = tuple(KNOWN) + tuple(CUSTOM)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", POLICIES)
def test_periodic_at_r1_is_the_daily_simulator_bit_for_bit(seed: int, name: str) -> None:
    problem = _random_problem(seed)
    rng = np.random.default_rng(1000 + seed)
    daily_prog, periodic_prog = compile_policy(_source(name), name), compile_policy(_source(name), name)
    params = _random_params(daily_prog, problem, 6, rng)
    score_from = int(rng.integers(0, len(problem.seq) // 2))
    want = simulate(daily_prog, problem.seq, problem.specs, problem.model, params, init=problem.init,
                    score_from=score_from)
    got = PeriodicBackend(1).simulate(periodic_prog, problem.seq, problem.specs, problem.model, params,
                                      init=problem.init, score_from=score_from)
    _assert_same(want, got)
    assert periodic_prog.vectorised == daily_prog.vectorised
    # the scalar path too (the trusted evaluator's day-by-day replay uses it)
    row = {k: v[:1] for k, v in params.items()}
    want_s = simulate_fn(daily_prog.order, problem.seq, problem.specs, problem.model, row, init=problem.init, scalar=True)
    got_s = periodic_replay(daily_prog.order, problem.seq, problem.specs, problem.model, row, review_period=1,
                            init=problem.init, scalar=True)
    _assert_same(want_s, got_s)
    np.testing.assert_array_equal(PeriodicBackend(1).mean_costs(problem, periodic_prog, params),
                                  problem.mean_costs(daily_prog, params))


@pytest.mark.parametrize("R", [2, 3, 7])
@pytest.mark.parametrize("name", ["capped_base_stock", "newsvendor", "feature_policy", "scalar_policy", "tilted_pic"])
def test_periodic_equals_daily_on_the_gated_policy(R: int, name: str) -> None:
    problem = _random_problem(R * 31)
    program = compile_policy(_source(name), name)
    params = _random_params(program, problem, 4, np.random.default_rng(R))
    calls: list[int] = []

    def counted(obs, prm):
        calls.append(obs.t)
        return program.order(obs, prm)

    def gated(obs, prm):
        return program.order(obs, prm) if obs.t % R == 0 else 0.0

    for i in range(4):
        row = {k: v[i:i + 1] for k, v in params.items()}
        want = simulate_fn(gated, problem.seq, problem.specs, problem.model, row, init=problem.init, scalar=True)
        calls.clear()
        got = periodic_replay(counted, problem.seq, problem.specs, problem.model, row, review_period=R,
                              init=problem.init, scalar=True)
        _assert_same(want, got)
        assert calls == list(range(0, len(problem.seq), R))
        assert np.all(got.orders[0][np.arange(len(problem.seq)) % R != 0] == 0.0)


def test_periodic_scalar_and_vectorised_paths_agree() -> None:
    problem = _random_problem(3)
    program = compile_policy(_source("capped_base_stock"), "cbs")
    params = _random_params(program, problem, 5, np.random.default_rng(0))
    vec = periodic_replay(program.order, problem.seq, problem.specs, problem.model, params, review_period=4,
                          init=problem.init)
    sca = periodic_replay(program.order, problem.seq, problem.specs, problem.model, params, review_period=4,
                          init=problem.init, scalar=True)
    _assert_same(vec, sca)
    assert params_for_row(params, 0)  # sanity: params were non-empty


def test_periodic_review_never_reveals_future_demand() -> None:
    problem = _random_problem(5)
    seen: list[tuple[int, int, bool]] = []

    def spy(obs, prm):
        seen.append((obs.t, len(obs.demand), bool(np.isnan(obs.demand).any())))
        return 0.0

    periodic_replay(spy, problem.seq, problem.specs, problem.model, {}, review_period=3, init=problem.init, scalar=True)
    assert seen and all(t == n and not nan for t, n, nan in seen)


def test_policy_errors_surface_as_policy_errors() -> None:
    problem = _random_problem(1)

    def broken(obs, prm):
        if obs.t >= 6:
            raise ZeroDivisionError("boom")
        return 1.0

    with pytest.raises(PolicyError, match="day 6: order\\(\\) raised ZeroDivisionError"):
        periodic_replay(broken, problem.seq, problem.specs, problem.model, {}, review_period=3, init=problem.init)
    # R = 7 never reaches a raising review day before t = 7
    with pytest.raises(PolicyError, match="day 7"):
        periodic_replay(broken, problem.seq, problem.specs, problem.model, {}, review_period=7, init=problem.init)


def test_backend_config_and_factory() -> None:
    assert isinstance(make_backend(BackendConfig()), DailyBackend)
    b = make_backend(BackendConfig("periodic", 7))
    assert isinstance(b, PeriodicBackend) and b.review_period == 7
    assert b.config == BackendConfig(BackendKind.PERIODIC, 7)
    assert make_backend(DailyBackend().config).config.kind is BackendKind.DAILY
    with pytest.raises(ValueError, match="review_period applies to the periodic backend only"):
        BackendConfig("daily", 3)
    with pytest.raises(ValueError, match="must be one of"):
        BackendConfig("weekly", 1)
    with pytest.raises(ValueError, match="integer >= 1"):
        BackendConfig("periodic", 0)
    with pytest.raises(ValueError, match="integer >= 1"):
        PeriodicBackend(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["capped_base_stock", "scalar_policy", "pto_normal"])
def test_tuning_source_replayed_daily_equals_the_periodic_backend(name: str) -> None:
    problem = _random_problem(11)
    backend = PeriodicBackend(5)
    plain = compile_policy(_source(name), name)
    gated = compile_policy(backend.tuning_source(_source(name)), name)
    params = _random_params(plain, problem, 4, np.random.default_rng(2))
    np.testing.assert_array_equal(problem.mean_costs(gated, params), backend.mean_costs(problem, plain, params))
    assert DailyBackend().tuning_source(_source(name)) == _source(name)
    assert {s.name for s in gated.space(problem.info)} == {s.name for s in plain.space(problem.info)}
