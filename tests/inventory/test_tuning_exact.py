"""The exact path of the tuner: integer spaces small enough are enumerated, not sampled."""
import numpy as np
import optuna
import pytest

from inventory.dp import best_cbs, evaluate_cbs, poisson_pmf
from inventory.library import policy_source
from inventory.policy import SpaceInfo, compile_policy, parse_space
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState
from inventory.tuning import Method, TuningConfig, grid_points, tune, tune_policy


def _poisson_problem(days: int, lead: int, p: float, seed: int = 0) -> ReplayProblem:
    rng = np.random.default_rng(seed)
    demand = rng.poisson(5.0, days).astype(float)
    dates = [str(np.datetime64("2000-01-01") + i) for i in range(days)]
    return ReplayProblem(DemandSequence(dates, demand, {}), (), CostModel(1.0, p, lead), InitialState(10.0, (5.0,) * lead))


def test_grid_points_only_for_small_integer_spaces():
    assert grid_points(parse_space({"a": (0, 2, "int"), "b": (1, 1)}), 100) == [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]
    assert grid_points(parse_space({"a": (0, 2, "int"), "x": (0.0, 1.0)}), 100) is None
    assert grid_points(parse_space({"a": (0, 99, "int"), "b": (0, 99, "int")}), 9999) is None


def test_integer_demand_makes_cbs_an_integer_space():
    prog = compile_policy(policy_source("capped_base_stock"))
    count = prog.space(SpaceInfo(5, 2, 12, 1, 1, 9, 100, integer=True))
    cont = prog.space(SpaceInfo(5, 2, 12, 1, 1, 9, 100))
    assert all(s.integer for s in count) and not any(s.integer for s in cont)


def test_exact_path_finds_the_replay_optimum_of_cbs():
    problem = _poisson_problem(600, 2, 9.0)
    prog = compile_policy(policy_source("capped_base_stock"))
    res = tune_policy(prog, problem, TuningConfig(max_batch=97))  # uneven chunks on purpose
    assert res.method is Method.EXACT
    space = prog.space(problem.info)
    S = np.arange(int(space[0].low), int(space[0].high) + 1)
    r = np.arange(int(space[1].low), int(space[1].high) + 1)
    grid = {"S": np.repeat(S, len(r)).astype(float), "r": np.tile(r, len(S)).astype(float)}
    costs = problem.mean_costs(prog, grid)
    assert res.n_trials == len(costs)
    assert res.value == pytest.approx(costs.min(), abs=1e-12)
    assert (res.params["S"], res.params["r"]) == (grid["S"][costs.argmin()], grid["r"][costs.argmin()])


def test_brute_force_finds_the_exact_best_cbs_on_a_long_replay():
    """Poisson(5), L = 1, p = 9: the tuned CBS, evaluated exactly, is the DP's best CBS (SPEC §8: (14, 6))."""
    problem = _poisson_problem(20000, 1, 9.0, seed=1)
    res = tune_policy(compile_policy(policy_source("capped_base_stock")), problem, TuningConfig())
    assert res.method is Method.EXACT
    best_cost, S, r = best_cbs(poisson_pmf(5.0), 1, 1.0, 9.0)
    tuned = evaluate_cbs(poisson_pmf(5.0), 1, 1.0, 9.0, int(res.params["S"]), int(res.params["r"]))
    assert (S, r) == (14, 6)
    assert tuned <= best_cost * 1.001


def test_exact_study_is_recorded_and_resumed_without_rescoring(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = parse_space({"x": (-5, 5, "int"), "y": (0, 3, "int")})
    calls = []

    def objective(batch):
        calls.append(len(batch["x"]))
        return (batch["x"] - 2) ** 2 + batch["y"]

    first = tune(objective, space, TuningConfig(max_batch=16), storage=url, study_name="g")
    assert first.params == {"x": 2.0, "y": 0.0} and first.method is Method.EXACT and sum(calls) == 44
    assert len(optuna.load_study(study_name="g", storage=url).trials) == 44
    again = tune(objective, space, TuningConfig(max_batch=16), storage=url, study_name="g")
    assert again == first and sum(calls) == 44


def test_grid_limit_zero_falls_back_to_tpe_and_is_seeded():
    space = parse_space({"x": (-5, 5, "int"), "y": (0, 3, "int")})
    f = lambda b: (b["x"] - 2) ** 2 + b["y"]  # noqa: E731
    a = tune(f, space, TuningConfig(grid_limit=0, n_trials=30, batch_size=10, n_startup_trials=10, seed=4))
    b = tune(f, space, TuningConfig(grid_limit=0, n_trials=30, batch_size=10, n_startup_trials=10, seed=4))
    assert a == b and a.method is Method.TPE and a.n_trials == 30
