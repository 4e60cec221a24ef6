"""The replay simulator agrees with the exact Markov-chain values of SPEC §8, and Optuna
tuning of CBS through the simulator lands near the exact best CBS."""
import numpy as np
import pytest

from inventory.dp import best_cbs, evaluate_cbs, poisson_pmf, solve_lost_sales
from inventory.library import policy_source
from inventory.policy import compile_policy
from inventory.reference_values import SPEC8
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState, simulate
from inventory.tuning import TuningConfig, tune_policy

DAYS = 40_000


def _problem(L: int, p: float, seed: int) -> ReplayProblem:
    demand = np.random.default_rng(seed).poisson(5, DAYS).astype(float)
    seq = DemandSequence(["2024-01-01"] * DAYS, demand, {})
    return ReplayProblem(seq, (), CostModel(1.0, p, L), InitialState(5.0 * (L + 1), (5.0,) * L))


@pytest.mark.parametrize("L,p", [(1, 4), (2, 19)])
def test_simulated_cbs_matches_exact_value(L, p):
    exact, S, r = SPEC8["poisson"][(L, p)][2]
    problem = _problem(L, p, seed=L)
    prog = compile_policy(policy_source("capped_base_stock"))
    res = simulate(prog, problem.seq, (), problem.model, {"S": np.array([S]), "r": np.array([r])}, init=problem.init)
    daily = res.costs[0, 500:]
    stderr = daily.reshape(-1, 500).mean(axis=1).std(ddof=1) / np.sqrt(len(daily) // 500)
    assert abs(daily.mean() - exact) < 4 * stderr + 1e-3
    assert evaluate_cbs(poisson_pmf(5), L, 1.0, p, S, r) == pytest.approx(exact, abs=1e-4)


@pytest.mark.parametrize("L,p", [(1, 9), (2, 4)])
def test_tuned_cbs_is_close_to_exact_best_cbs_and_above_the_optimum(L, p):
    opt = solve_lost_sales(poisson_pmf(5), L, 1.0, p).avg_cost
    best, S, r = best_cbs(poisson_pmf(5), L, 1.0, p)
    problem = _problem(L, p, seed=10 + L)
    tuned = tune_policy(compile_policy(policy_source("capped_base_stock")), problem, TuningConfig(n_trials=50))
    # The tuned parameters, evaluated exactly, are near the best CBS. 50 TPE trials on a
    # rounded (piecewise-flat) landscape leave up to ~5% on the table (measured over seeds).
    exact_at_tuned = evaluate_cbs(poisson_pmf(5), L, 1.0, p, int(round(tuned.params["S"])), int(round(tuned.params["r"])))
    assert best - 1e-9 <= exact_at_tuned <= best * 1.06
    assert opt <= best
    # and the in-sample simulated cost is within sampling error of the exact one
    assert tuned.value == pytest.approx(exact_at_tuned, rel=0.03)
