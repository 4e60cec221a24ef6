"""ORPR simulation-augmented OR model, PTO / BM baselines and the Algorithm-2 replay backend."""
from __future__ import annotations

import itertools
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

from inventory.observation import Observation
from inventory.orpr import (
    ORModelInfeasible,
    ORPRTable,
    bm_level,
    calibrate_alpha,
    fit_gamma_moments,
    orpr_labels,
    orpr_replay,
    orpr_replay_params,
    portfolio_turnover,
    pto_gamma_level,
    pto_normal_level,
    simulate_inventory_days,
    solve_or_model,
)
from inventory.policy import compile_policy
from inventory.replay import ReplayProblem
from inventory.tuning import tune_policy
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState, simulate
from inventory.tuning import TuningConfig

LIBRARY = Path(__file__).resolve().parents[2] / "inventory" / "library"
NEW_POLICIES = ("orpr_inventory_days", "pto_normal", "pto_gamma", "bm_quantile")

# Hand-computed 10-day example: R = 2, VLT = 1, window = 3, h = 1, p = 5, on-hand 6.
# Review days 0, 2, 4, 6, 8 with recent means 0, 3, 11/3, 8/3, 3; orders rint(v * mean)
# arrive the next day.
HAND_DEMAND = np.array([4, 2, 6, 3, 5, 0, 7, 2, 4, 3], dtype=float)
HAND_ENDS = {
    2.0: [2, 0, 0, 3, 0, 7, 0, 3, 0, 3],      # orders 0, 6, 7, 5, 6
    3.0: [2, 0, 0, 6, 1, 12, 5, 11, 7, 13],   # orders 0, 9, 11, 8, 9
}
HAND_LOST = {2.0: [0, 0, 6, 0, 2, 0, 0, 0, 1, 0], 3.0: [0, 0, 6, 0, 0, 0, 0, 0, 0, 0]}


def _source(name: str) -> str:
    return (LIBRARY / f"{name}.py").read_text(encoding="utf-8")


def _problem(demand: np.ndarray, L: int, *, init: InitialState = InitialState(), integer: bool = True,
             h: float = 1.0, p: float = 9.0) -> ReplayProblem:
    seq = DemandSequence([f"2024-01-{i:03d}" for i in range(len(demand))], demand)
    return ReplayProblem(seq, (), CostModel(h, p, L, integer_orders=integer), init)


def _table(stock: list[float], loss: list[float]) -> ORPRTable:
    n = len(stock)
    return ORPRTable(
        v_grid=np.arange(1.0, n + 1), stock=np.array(stock, float), loss=np.array(loss, float),
        avg_on_hand=np.array(stock, float) / 10.0, turnover_days=np.array(stock, float) / 10.0,
        instock_rate=np.ones(n), mean_demand=1.0, horizon=10, holding=1.0, penalty=1.0,
    )


# --------------------------------------------------------------------------- Algorithm 2

def test_algorithm2_hand_computed_ten_days() -> None:
    tab = simulate_inventory_days(
        HAND_DEMAND, np.array([2.0, 3.0]), review_period=2, vlt=1, mean_window=3,
        holding=1.0, penalty=5.0, init_on_hand=6.0,
    )
    np.testing.assert_array_equal(tab.stock, [18.0, 57.0])
    np.testing.assert_array_equal(tab.loss, [45.0, 30.0])
    np.testing.assert_allclose(tab.avg_on_hand, [1.8, 5.7])
    np.testing.assert_allclose(tab.turnover_days, [1.8 / 3.6, 5.7 / 3.6])
    np.testing.assert_allclose(tab.instock_rate, [0.7, 0.9])
    assert tab.mean_demand == pytest.approx(3.6) and tab.horizon == 10
    assert tab.sales_value == pytest.approx(5.0 * 36)

    prob = _problem(HAND_DEMAND, 1, init=InitialState(6.0), h=1.0, p=5.0)
    costs = orpr_replay(prob, np.array([2.0, 3.0]), review_period=2, mean_window=3)
    for row, v in enumerate((2.0, 3.0)):
        expect = np.array(HAND_ENDS[v], float) + 5.0 * np.array(HAND_LOST[v], float)
        np.testing.assert_array_equal(costs[row], expect)


def test_algorithm2_lead_time_zero_and_continuous_orders() -> None:
    d = np.array([2.0, 3.0, 1.0, 4.0])
    tab = simulate_inventory_days(d, [1.5], review_period=1, vlt=0, mean_window=2,
                                  holding=2.0, penalty=3.0, init_on_hand=2.0, integer_orders=False)
    # orders 0, 3, 3.75, 3 arrive at once; on-hand ends 0, 0, 2.75, 1.75; lost 0, 0, 0, 0
    assert tab.stock[0] == pytest.approx(2.0 * (2.75 + 1.75))
    assert tab.loss[0] == 0.0 and tab.instock_rate[0] == 1.0


@pytest.mark.parametrize("bad", [
    dict(holding=0.0), dict(penalty=-1.0), dict(vlt=-1), dict(init_on_hand=-1.0), dict(review_period=0),
])
def test_algorithm2_rejects_bad_inputs(bad: dict) -> None:
    kw = dict(review_period=1, vlt=1, mean_window=3, holding=1.0, penalty=1.0, init_on_hand=0.0)
    kw.update(bad)
    with pytest.raises(ValueError):
        simulate_inventory_days(HAND_DEMAND, [1.0], **kw)


# --------------------------------------------------------------------------- OR model

def _brute(tables: list[ORPRTable], budget: float) -> float | None:
    best = None
    for combo in itertools.product(*(range(len(t)) for t in tables)):
        loss = sum(t.loss[c] for t, c in zip(tables, combo))
        if loss <= budget:
            stock = sum(t.stock[c] for t, c in zip(tables, combo))
            best = stock if best is None else min(best, stock)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_or_model_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    if seed % 2:   # unstructured coefficients
        tables = [_table(list(rng.uniform(1, 100, 4)), list(rng.uniform(0, 50, 4))) for _ in range(3)]
    else:          # the Algorithm-2 shape: stock rises and loss falls with v
        tables = [_table(list(np.cumsum(rng.uniform(1, 30, 4))), list(np.cumsum(rng.uniform(1, 20, 4))[::-1]))
                  for _ in range(3)]
    sale = 200.0
    floor = sum(t.loss.min() for t in tables)
    for alpha in np.linspace(0.0, (1.0 - floor / sale) * (1 - 1e-12), 9):
        choices = solve_or_model(tables, sale, float(alpha))
        budget = sale * (1 - alpha)
        assert sum(t.loss[c] for t, c in zip(tables, choices)) <= budget
        assert sum(t.stock[c] for t, c in zip(tables, choices)) == pytest.approx(_brute(tables, budget), rel=1e-12)


def test_or_model_single_sku_and_infeasible() -> None:
    tab = _table([5.0, 9.0, 20.0, 40.0], [30.0, 12.0, 4.0, 0.0])
    assert solve_or_model([tab], 100.0, 0.80) == [1]      # budget 20: losses 12, 4, 0 allowed
    assert solve_or_model([tab], 100.0, 0.95) == [2]      # budget 5: losses 4, 0 allowed
    assert solve_or_model([tab], 100.0, 1.0) == [3]       # budget 0
    assert solve_or_model([tab], 100.0, 0.0) == [0]
    with pytest.raises(ORModelInfeasible, match="least achievable loss"):
        solve_or_model([_table([1.0, 2.0], [10.0, 8.0])] * 2, 10.0, 0.5)
    with pytest.raises(ValueError):
        solve_or_model([tab], 100.0, 1.5)


def _calibration_tables() -> list[ORPRTable]:
    rng = np.random.default_rng(7)
    tables = []
    for i in range(5):
        mean = 3.0 + 2.0 * i
        d = rng.negative_binomial(3, 3 / (3 + mean), size=120).astype(float)
        tables.append(simulate_inventory_days(
            d, np.linspace(2.0, 5.0, 13), review_period=3, vlt=2, mean_window=14,
            holding=1.0 + 0.5 * i, penalty=6.0 + i, init_on_hand=2 * mean,
        ))
    return tables


def test_calibration_recovers_planted_turnover() -> None:
    tables = _calibration_tables()
    sale = sum(t.sales_value for t in tables)
    planted_alpha = 0.97
    planted = solve_or_model(tables, sale, planted_alpha)
    target = portfolio_turnover(tables, planted)
    alpha, choices = calibrate_alpha(tables, sale, target, tol=1e-9)
    assert portfolio_turnover(tables, choices) == pytest.approx(target, abs=1e-9)
    assert sum(t.stock[c] for t, c in zip(tables, choices)) == pytest.approx(
        sum(t.stock[c] for t, c in zip(tables, planted)), rel=1e-12)
    assert solve_or_model(tables, sale, alpha) == choices
    # the recovered alpha lies in the interval of alphas that give the planted decisions
    lo = solve_or_model(tables, sale, max(0.0, alpha - 1e-6))
    assert portfolio_turnover(tables, lo) <= target + 1e-9


def test_calibration_turnover_is_monotone_and_clamps() -> None:
    tables = _calibration_tables()
    sale = sum(t.sales_value for t in tables)
    alpha_max = 1.0 - sum(t.loss.min() for t in tables) / sale
    grid = np.linspace(0, alpha_max * (1 - 1e-12), 12)
    turns = [portfolio_turnover(tables, solve_or_model(tables, sale, a)) for a in grid]
    assert all(b >= a - 1e-12 for a, b in zip(turns, turns[1:]))
    assert turns[-1] > turns[0]
    alpha_hi, ch_hi = calibrate_alpha(tables, sale, 1e6)
    alpha_lo, ch_lo = calibrate_alpha(tables, sale, 0.0)
    assert alpha_lo == 0.0 and alpha_hi == pytest.approx(alpha_max, abs=1e-12)
    with pytest.raises(ORModelInfeasible):
        solve_or_model(tables, sale, min(1.0, alpha_max + 1e-6))
    assert portfolio_turnover(tables, ch_hi) >= turns[-1] - 1e-12


def test_orpr_labels_end_to_end() -> None:
    rng = np.random.default_rng(3)
    demand = rng.poisson(6.0, size=(4, 90)).astype(float)
    lab_a = orpr_labels(demand, np.linspace(1, 4, 7), review_period=2, vlt=1, mean_window=7,
                        holding=1.0, penalty=[4.0, 5.0, 6.0, 7.0], init_on_hand=10.0, alpha_loss=0.9)
    assert len(lab_a.v) == 4 and lab_a.loss <= lab_a.total_sales * 0.1 + 1e-9
    lab_t = orpr_labels(demand, np.linspace(1, 4, 7), review_period=2, vlt=1, mean_window=7,
                        holding=1.0, penalty=[4.0, 5.0, 6.0, 7.0], init_on_hand=10.0,
                        observed_turnover=lab_a.turnover_days, tol=1e-9)
    assert lab_t.turnover_days == pytest.approx(lab_a.turnover_days, abs=1e-9)
    assert 0.0 <= lab_t.instock_rate <= 1.0
    with pytest.raises(ValueError):
        orpr_labels(demand, [1.0], review_period=1, vlt=0, mean_window=3, holding=1.0, penalty=1.0)


# --------------------------------------------------------------------------- PTO / BM

def test_pto_formulas() -> None:
    z = NormalDist().inv_cdf(0.9)
    assert pto_normal_level(5.0, 2.0, 2, 1, 9.0, 1.0) == pytest.approx(15.0 + z * 2.0 * math.sqrt(3.0), rel=1e-12)
    assert fit_gamma_moments(np.array([2.0, 4.0, 6.0])) == pytest.approx((4.0, 1.0))
    # Erlang check: shape (R + LT) k = 3 * 2 = 6 is an integer, so the CDF has a closed form.
    level = pto_gamma_level(2.0, 1.5, 2, 1, 9.0, 1.0)
    y = level / 1.5
    erlang_cdf = 1.0 - math.exp(-y) * sum(y ** j / math.factorial(j) for j in range(6))
    assert erlang_cdf == pytest.approx(0.9, abs=1e-10)
    assert bm_level(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 50) == 3.0
    assert bm_level(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 85) == pytest.approx(4.4)
    with pytest.raises(ValueError):
        bm_level(np.array([1.0]), 150)
    with pytest.raises(ValueError):
        fit_gamma_moments(np.array([3.0, 3.0, 3.0]))


def _obs(past: np.ndarray, t: int, L: int, position: float, h: float = 1.0, p: float = 9.0) -> Observation:
    return Observation(t=t, date="d", on_hand=position, pipeline=np.zeros(max(L - 1, 0)), position=position,
                       demand=past, features={}, h=h, p=p, lead_time=L)


def test_policy_files_implement_the_pto_formulas() -> None:
    rng = np.random.default_rng(11)
    past = rng.negative_binomial(4, 0.4, size=60).astype(float)
    L, R, w, pos = 2, 3, 21, 4.0
    obs = _obs(past, 60, L, pos)   # 60 % 3 == 0: review day
    recent = past[-w:]
    normal = compile_policy(_source("pto_normal"), "pto_normal")
    want = pto_normal_level(recent.mean(), recent.std(ddof=1), R, L, 9.0, 1.0) - pos
    assert float(np.squeeze(normal.order(obs, {"R": R, "window": w}))) == pytest.approx(want, rel=1e-9)
    gamma = compile_policy(_source("pto_gamma"), "pto_gamma")
    k, theta = fit_gamma_moments(recent)
    want = pto_gamma_level(k, theta, R, L, 9.0, 1.0) - pos
    assert float(np.squeeze(gamma.order(obs, {"R": R, "window": w}))) == pytest.approx(want, rel=1e-8)
    bm = compile_policy(_source("bm_quantile"), "bm_quantile")
    totals = np.convolve(past, np.ones(R + L), mode="valid")
    assert float(np.squeeze(bm.order(obs, {"R": R, "x": 85.0}))) == pytest.approx(bm_level(totals, 85.0) - pos)
    off = _obs(past, 61, L, pos)
    for prog, prm in ((normal, {"R": R, "window": w}), (gamma, {"R": R, "window": w}), (bm, {"R": R, "x": 85.0})):
        assert float(np.squeeze(prog.order(off, prm))) == 0.0


def test_gamma_policy_quantile_matches_scipy() -> None:
    g = compile_policy(_source("pto_gamma"), "pto_gamma").order.__globals__
    shapes = np.array([0.2, 0.9, 1.0, 2.5, 12.0, 80.0, 900.0, 3e4, 3e5])
    for p in (0.05, 0.5, 0.9, 0.99):
        np.testing.assert_allclose(g["_gamma_ppf"](p, shapes), stats.gamma.ppf(p, shapes), rtol=1e-7)


@pytest.mark.parametrize("name", NEW_POLICIES)
def test_library_policies_compile_tune_and_replay(name: str) -> None:
    rng = np.random.default_rng(5)
    prob = _problem(rng.poisson(5.0, 60).astype(float), 2, init=InitialState(10.0, (5.0, 5.0)))
    prog = compile_policy(_source(name), name)
    res = tune_policy(prog, prob, TuningConfig(n_trials=12, batch_size=6, n_startup_trials=6))
    assert prog.vectorised is True
    assert math.isfinite(res.value) and res.value > 0
    replay = simulate(prog, prob.seq, prob.specs, prob.model, {k: np.array([v]) for k, v in res.params.items()},
                      init=prob.init)
    assert replay.mean_cost[0] == pytest.approx(res.value, rel=1e-12)
    assert np.all(replay.orders >= 0) and np.all(replay.orders == np.rint(replay.orders))


# --------------------------------------------------------------------------- backend equivalence

@pytest.mark.parametrize("L", [0, 1, 3])
@pytest.mark.parametrize("kind", ["poisson", "fractional", "continuous_orders"])
def test_backend_is_bit_identical_to_simulate(L: int, kind: str) -> None:
    rng = np.random.default_rng(100 + L)
    T, n = 80, 40
    demand = rng.poisson(6.0, T).astype(float)
    if kind == "fractional":
        demand = rng.gamma(2.0, 3.0, T)
    init = InitialState(on_hand=9.0 if kind != "fractional" else 9.25, pipeline=(4.0, 1.0, 3.0)[:L])
    prob = _problem(demand, L, init=init, integer=kind != "continuous_orders")
    params = {"v": rng.uniform(0, 14, n), "R": rng.integers(1, 8, n).astype(float),
              "window": rng.integers(1, 29, n).astype(float)}
    prog = compile_policy(_source("orpr_inventory_days"), "orpr")
    for score_from in (0, 17):
        sim = simulate(prog, prob.seq, prob.specs, prob.model, params, init=prob.init, score_from=score_from)
        fast = orpr_replay(prob, params["v"], review_period=params["R"], mean_window=params["window"],
                           score_from=score_from)
        assert fast.shape == sim.costs.shape
        assert np.array_equal(fast, sim.costs)
    np.testing.assert_array_equal(orpr_replay_params(prob, params), prob.mean_costs(prog, params))


def test_backend_agrees_with_algorithm2_table() -> None:
    rng = np.random.default_rng(9)
    d = rng.poisson(4.0, 50).astype(float)
    grid = np.linspace(0.5, 6.0, 12)
    tab = simulate_inventory_days(d, grid, review_period=3, vlt=2, mean_window=10, holding=1.5,
                                  penalty=7.0, init_on_hand=8.0)
    prob = _problem(d, 2, init=InitialState(8.0), h=1.5, p=7.0)
    costs = orpr_replay(prob, grid, review_period=3, mean_window=10)
    np.testing.assert_allclose(costs.sum(axis=1), tab.stock + tab.loss, rtol=1e-12)


@pytest.mark.parametrize("name", NEW_POLICIES)
def test_library_policies_pass_the_static_validator(name: str) -> None:
    validator = pytest.importorskip("sandbox.validator")
    result = validator.validate_policy(_source(name))
    assert result.ok, result.reasons
