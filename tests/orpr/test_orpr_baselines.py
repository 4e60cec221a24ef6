"""PTO / BM formulas (orpr.baselines) and the library policy files that implement them."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

from inventory.observation import Observation
from inventory.policy import compile_policy
from inventory.simulator import InitialState, simulate
from inventory.tuning import TuningConfig, tune_policy
from orpr.baselines import bm_level, fit_gamma_moments, pto_gamma_level, pto_normal_level
from orpr_helpers import NEW_POLICIES, problem, source


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
    normal = compile_policy(source("pto_normal"), "pto_normal")
    want = pto_normal_level(recent.mean(), recent.std(ddof=1), R, L, 9.0, 1.0) - pos
    assert float(np.squeeze(normal.order(obs, {"R": R, "window": w}))) == pytest.approx(want, rel=1e-9)
    gamma = compile_policy(source("pto_gamma"), "pto_gamma")
    k, theta = fit_gamma_moments(recent)
    want = pto_gamma_level(k, theta, R, L, 9.0, 1.0) - pos
    assert float(np.squeeze(gamma.order(obs, {"R": R, "window": w}))) == pytest.approx(want, rel=1e-8)
    bm = compile_policy(source("bm_quantile"), "bm_quantile")
    totals = np.convolve(past, np.ones(R + L), mode="valid")
    assert float(np.squeeze(bm.order(obs, {"R": R, "x": 85.0}))) == pytest.approx(bm_level(totals, 85.0) - pos)
    off = _obs(past, 61, L, pos)
    for prog, prm in ((normal, {"R": R, "window": w}), (gamma, {"R": R, "window": w}), (bm, {"R": R, "x": 85.0})):
        assert float(np.squeeze(prog.order(off, prm))) == 0.0


def test_gamma_policy_quantile_matches_scipy() -> None:
    g = compile_policy(source("pto_gamma"), "pto_gamma").order.__globals__
    shapes = np.array([0.2, 0.9, 1.0, 2.5, 12.0, 80.0, 900.0, 3e4, 3e5])
    for p in (0.05, 0.5, 0.9, 0.99):
        np.testing.assert_allclose(g["_gamma_ppf"](p, shapes), stats.gamma.ppf(p, shapes), rtol=1e-7)


@pytest.mark.parametrize("name", NEW_POLICIES)
def test_library_policies_compile_tune_and_replay(name: str) -> None:
    rng = np.random.default_rng(5)
    prob = problem(rng.poisson(5.0, 60).astype(float), 2, init=InitialState(10.0, (5.0, 5.0)))
    prog = compile_policy(source(name), name)
    res = tune_policy(prog, prob, TuningConfig(n_trials=12, batch_size=6, n_startup_trials=6))
    assert prog.vectorised is True
    assert math.isfinite(res.value) and res.value > 0
    replay = simulate(prog, prob.seq, prob.specs, prob.model, {k: np.array([v]) for k, v in res.params.items()},
                      init=prob.init)
    assert replay.mean_cost[0] == pytest.approx(res.value, rel=1e-12)
    assert np.all(replay.orders >= 0) and np.all(replay.orders == np.rint(replay.orders))


@pytest.mark.parametrize("name", NEW_POLICIES)
def test_library_policies_pass_the_static_validator(name: str) -> None:
    validator = pytest.importorskip("sandbox.validator")
    result = validator.validate_policy(source(name))
    assert result.ok, result.reasons
