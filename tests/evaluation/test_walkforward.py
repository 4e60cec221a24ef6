"""Walk-forward replay: schedules, bookkeeping, and a planted look-ahead that must not pay."""
import numpy as np
import pytest

from evaluation.walkforward import (
    Fold,
    InProcessFolds,
    OutOfSample,
    Plan,
    Scheme,
    cross_fit_plan,
    out_of_sample,
    walk_forward_plan,
)
from inventory.library import policy_source
from inventory.policy import compile_policy
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState, simulate
from inventory.tuning import TuningConfig

# Orders up to S_early before day 60 and up to S_late from day 60 on. Its S_late pays only
# on days >= 60, so a tuner that saw those days would learn it; one that did not cannot.
PLANTED = '''
import numpy as np
PARAMS = {"S_early": (0.0, 80.0), "S_late": (0.0, 80.0)}

def order(obs, params):
    level = params["S_late"] if obs.t >= 60 else params["S_early"]
    return np.maximum(level - obs.position, 0.0)
'''


def shift_problem():
    demand = np.r_[np.full(60, 2.0), np.full(40, 20.0)]
    seq = DemandSequence([f"d{i}" for i in range(100)], demand)
    return ReplayProblem(seq, (), CostModel(1.0, 9.0, 1), InitialState(4.0, (2.0,)))


def test_walk_forward_plan_counts_back_from_the_end():
    plan = walk_forward_plan(100, 30)
    assert [(f.tune_days.stop, f.score_days.start, f.score_days.stop) for f in plan.folds] == [
        (34, 34, 67), (67, 67, 100)]
    assert all(f.tune_days.start == 0 for f in plan.folds)
    assert (plan.first_day, plan.last_day, plan.scored.size) == (34, 99, 66)
    long = walk_forward_plan(365, 30)     # 8 origins would fit; capped at 4 longer segments
    assert [f.score_days.start for f in long.folds] == [121, 182, 243, 304]
    assert walk_forward_plan(40, 30).folds == (Fold(slice(0, 14), slice(14, 40)),)


def test_plans_refuse_scoring_tuned_days():
    with pytest.raises(ValueError, match="tunes on days it scores"):
        Fold(slice(0, 50), slice(40, 60))
    with pytest.raises(ValueError, match="already scores"):
        Plan(Scheme.WALK_FORWARD, 10, (Fold(slice(0, 3), slice(3, 6)), Fold(slice(0, 4), slice(5, 8))))
    with pytest.raises(ValueError, match="min_history"):
        walk_forward_plan(20, 5, min_history=20)


def test_cross_fit_plan_scores_every_day_once():
    plan = cross_fit_plan(10)
    assert plan.scored.tolist() == list(range(10))
    assert plan.folds[1].tune_days == slice(5, 10) and plan.folds[1].score_days == slice(0, 5)


def test_planted_look_ahead_is_never_shown_to_the_tuner():
    problem = shift_problem()
    folds = InProcessFolds(compile_policy(PLANTED, "planted"), problem, TuningConfig(n_trials=30))
    seen: list[np.ndarray] = []

    def spy_tune(days):
        seen.append(problem.seq.demand[days])
        return folds.tune(days)

    out_of_sample(spy_tune, folds.replay, walk_forward_plan(100, 20, min_history=60))
    # two folds (origins 60 and 80): the tuner saw days 0..59 and 0..79, never a day it scores
    assert [len(d) for d in seen] == [60, 80]
    assert not np.any(seen[0] == 20.0)


def test_planted_look_ahead_does_not_pay():
    """Demand jumps from 2 to 20 at the origin: a tuner that saw the scored days would stock up."""
    problem = shift_problem()
    program = compile_policy(policy_source("base_stock"), "base_stock")
    folds = InProcessFolds(program, problem, TuningConfig(n_trials=40, seed=0))
    oos = out_of_sample(folds.tune, folds.replay, walk_forward_plan(100, 40, min_history=60))
    full = folds.tune(slice(0, 100))
    insample = folds.replay(full, 100)[60:]
    assert oos.params[0]["S"] < 10.0 < 30.0 < full["S"]
    assert oos.costs.mean() > insample.mean() + 20.0
    # the out-of-sample costs are exactly the frozen history-tuned policy's on days 60..99
    frozen = simulate(program, problem.seq, (), problem.model,
                      {k: np.array([v]) for k, v in oos.params[0].items()}, init=problem.init)
    np.testing.assert_allclose(oos.costs, frozen.costs[0, 60:])


def test_reference_and_candidate_scored_on_the_same_days():
    problem = shift_problem()
    plan = walk_forward_plan(100, 20, min_history=40)
    out = {}
    for name in ("base_stock", "capped_base_stock"):
        f = InProcessFolds(compile_policy(policy_source(name), name), problem, TuningConfig(n_trials=20))
        out[name] = out_of_sample(f.tune, f.replay, plan)
    gains = out["base_stock"].costs - out["capped_base_stock"].costs
    assert gains.shape == (60,) and out["base_stock"].plan == out["capped_base_stock"].plan
    assert len(out["base_stock"].params) == 3


def test_replay_of_the_wrong_length_is_refused():
    plan = walk_forward_plan(30, 10)
    with pytest.raises(ValueError, match="expected 30"):
        out_of_sample(lambda days: {}, lambda params, stop: np.zeros(stop - 1), plan)


def test_out_of_sample_round_trips():
    plan = cross_fit_plan(8)
    oos = out_of_sample(lambda d: {"S": float(d.start)}, lambda p, stop: np.arange(stop, dtype=float), plan)
    assert oos.costs.tolist() == list(range(8)) and oos.params == ({"S": 0.0}, {"S": 4.0})
    again = OutOfSample.from_dict(oos.to_dict())
    assert again.plan == plan and again.params == oos.params
    np.testing.assert_array_equal(again.costs, oos.costs)
