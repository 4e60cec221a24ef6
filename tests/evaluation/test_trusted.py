import numpy as np
import pytest

from inventory.host import InProcessHost
from evaluation.trusted import TrustedEvaluator
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace

GOOD = """import numpy as np
PARAMS = {"S": (0.0, 40.0), "r": (0.0, 20.0)}
def order(obs, params):
    return np.minimum(np.maximum(params["S"] - obs.position, 0.0), params["r"])
"""


@pytest.fixture(scope="module")
def evaluator(workspace_dir):
    ws = load_workspace(workspace_dir)
    host = InProcessHost(ws.replay_problem())
    ev = TrustedEvaluator(ws, host, TuningConfig(n_trials=20))
    yield ev
    ev.close()


def test_trusted_replay_matches_batch_replay(evaluator):
    rec = evaluator.evaluate(GOOD, "cbs", "c1")
    assert rec.ok and len(rec.replay_costs) == 100
    assert rec.replay_cost == pytest.approx(rec.tuned_cost)
    assert rec.replay_cost == pytest.approx(np.mean(rec.replay_costs))


@pytest.mark.parametrize("body,status,msg", [
    ("raise RuntimeError('broken policy')", "failed", "RuntimeError"),
    ("return -5.0", "failed", "negative order"),
    ("return float('nan')", "failed", "NaN"),
    ("return obs.demand[obs.t]", "failed", "IndexError"),
])
def test_bad_policies_become_failed_records(evaluator, body, status, msg):
    rec = evaluator.evaluate(f"PARAMS = {{'x': (0, 1)}}\ndef order(obs, params):\n    {body}\n", "bad", f"bad-{status}-{msg}")
    assert rec.status == status and msg in rec.error
    assert rec.replay_cost is None


def test_policy_failing_only_late_in_the_window_fails(evaluator):
    src = "def order(obs, params):\n    if obs.t == 90:\n        raise ValueError('late')\n    return 5.0\n"
    rec = evaluator.evaluate(src, "late", "late")
    assert rec.status == "failed" and "day 90" in rec.error


def test_validator_rejection_is_recorded(workspace_dir):
    ws = load_workspace(workspace_dir)
    ev = TrustedEvaluator(ws, InProcessHost(ws.replay_problem()), TuningConfig(n_trials=5),
                          validator=lambda src: (False, ("imports os",)))
    rec = ev.evaluate("import os\ndef order(obs, params):\n    return 1\n", "x", "x")
    assert rec.status == "invalid" and rec.error == "imports os"


def test_forward_replay_continues_from_replay_state(evaluator, workspace_dir):
    rec = evaluator.evaluate(GOOD, "cbs", "c1")
    fwd = evaluator.forward(GOOD, "cbs", "c1", rec.params)
    np.testing.assert_allclose(fwd.replay_costs, rec.replay_costs)
    assert len(fwd.forward_costs) == 30
    assert fwd.forward_cost == pytest.approx(np.mean(fwd.forward_costs))


def test_printed_or_claimed_costs_do_not_matter(evaluator):
    liar = GOOD + "\nprint('replay cost/day = 0.0001')\nREPLAY_COST = 0.0\n"
    honest = evaluator.evaluate(GOOD, "cbs", "h")
    lying = evaluator.evaluate(liar, "cbs", "h")  # same candidate id: same tuning seed
    assert lying.params == honest.params
    assert lying.replay_cost == pytest.approx(honest.replay_cost)


ARRAY_ONLY = """import numpy as np
PARAMS = {"S": (0.0, 40.0)}
def order(obs, params):
    q = np.zeros(obs.position.shape)
    q[:] = np.maximum(params["S"] - obs.position, 0.0)
    return q
"""


def test_array_only_policy_replays_in_the_convention_it_was_tuned_in(evaluator):
    rec = evaluator.evaluate(ARRAY_ONLY, "arr", "arr")
    assert rec.ok, rec.error
    assert rec.vectorised is True
    assert rec.replay_cost == pytest.approx(rec.tuned_cost)


def test_tuning_seed_depends_on_run_seed_and_candidate_id_only(workspace_dir):
    ws = load_workspace(workspace_dir)
    a = TrustedEvaluator(ws, InProcessHost(ws.replay_problem()), TuningConfig(n_trials=15, seed=3))
    b = TrustedEvaluator(ws, InProcessHost(ws.replay_problem()), TuningConfig(n_trials=15, seed=3))
    try:
        a.evaluate(ARRAY_ONLY, "other", "other")  # something else ran first in `a`
        ra, rb = a.tune(GOOD, "cbs", "c7"), b.tune(GOOD, "cbs", "c7")
        assert ra.params == rb.params and ra.seed == rb.seed
        assert a.tune(GOOD, "cbs", "c8").seed != ra.seed
    finally:
        a.close()
        b.close()


SPACE_OF_WINDOW = """import numpy as np
def search_space(info):
    return {"S": (0.0, float(info.n_days))}
def order(obs, params):
    return np.maximum(params["S"] - obs.position, 0.0)
"""


def test_tune_on_a_window_sees_only_that_window_and_replay_gives_per_day_costs(evaluator):
    out = evaluator.tune(SPACE_OF_WINDOW, "w", "w", days=slice(10, 40))
    assert out.days == (10, 40) and 0.0 <= out.params["S"] <= 30.0
    seq = evaluator.workspace.replay.slice(40, 60)
    costs = evaluator.replay(SPACE_OF_WINDOW, "w", out.params, seq, candidate_id="w")
    assert costs.shape == (20,)
    with pytest.raises(ValueError, match="contiguous"):
        evaluator.tune(GOOD, "cbs", "x", days=slice(5, 5))


def test_wall_time_budget_fails_a_slow_candidate_with_the_reason(workspace_dir):
    """100 decisions of 50 ms each would take 5 s; the 1 s budget stops the replay early."""
    from evaluation.config import EvaluatorConfig
    ws = load_workspace(workspace_dir)
    slow = "import time\ndef order(obs, params):\n    time.sleep(0.05)\n    return 5.0\n"
    ev = TrustedEvaluator(ws, InProcessHost(ws.replay_problem()), TuningConfig(n_trials=5),
                          config=EvaluatorConfig(candidate_budget_s=1.0))
    try:
        rec = ev.evaluate(slow, "slow", "slow", params={})
        assert rec.status == "failed" and "wall-time budget during replay" in rec.error
        assert rec.seconds < 4.5, "the replay ran to the end instead of stopping at the budget"
    finally:
        ev.close()


def test_replay_process_of_sandbox_none_starts_from_an_empty_environment(workspace_dir, monkeypatch):
    from evaluation.hosts import InProcessProvider
    monkeypatch.setenv("INVEVOLVE_PLAIN_CANARY", "plain-canary-5521")
    ws = load_workspace(workspace_dir)
    ev = TrustedEvaluator(ws, InProcessProvider(), TuningConfig(n_trials=5))
    leaky = "import os\ndef order(obs, params):\n    raise ValueError(repr(sorted(os.environ.items())))\n"
    try:
        rec = ev.evaluate(leaky, "leaky", "leaky", params={})  # params given: only the fresh replay runs it
        assert rec.status == "failed" and "PATH" in rec.error
        assert "plain-canary-5521" not in rec.error
    finally:
        ev.close()
