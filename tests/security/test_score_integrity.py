"""Class 1 (score integrity): a policy cannot fake its trusted score.

Each hostile policy's trick works where the policy is tuned (its untrusted tuned cost is far
below its honest cost, which proves the trick is real), yet its trusted replay and forward
costs equal those of its benign twin with the same parameters: the replay runs in a fresh
process that never held more than the days revealed so far.
"""
import json

import pytest

from evaluation.factory import open_hosts
from evaluation.hosts import InProcessProvider, SandboxProvider
from evaluation.trusted import TrustedEvaluator
from evolve.config import EvolveConfig, with_overrides
from evolve.proposer import Proposal, Proposer
from evolve.run import execute
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace
from tests.security.policies import BENIGN, FRAME_WALKER, MEMORISER, STASHER

TOL = 1e-9


def _provider(kind: str):
    if kind == "none":
        return InProcessProvider()
    from sandbox.backends import SandboxUnavailable
    try:
        return SandboxProvider(kind)
    except SandboxUnavailable as exc:
        pytest.skip(f"{kind} unavailable: {exc}")


def _honest(ev, rec):
    """The benign twin's trusted costs with the hostile policy's own tuned parameters."""
    twin = ev.evaluate(BENIGN, "benign", f"twin-{rec.candidate_id}", params=rec.params)
    assert twin.ok, twin.error
    return twin


@pytest.fixture(params=["none", pytest.param("bwrap", marks=pytest.mark.slow)])
def evaluator(request, workspace_dir):
    ws = load_workspace(workspace_dir)
    ev = TrustedEvaluator(ws, _provider(request.param), TuningConfig(n_trials=20))
    yield ev
    ev.close()


@pytest.mark.parametrize("source", [MEMORISER, FRAME_WALKER], ids=["memoriser", "frame-walker"])
def test_hostile_policy_scores_its_honest_cost(evaluator, source):
    rec = evaluator.evaluate(source, "hostile", "hostile")
    assert rec.ok, rec.error
    twin = _honest(evaluator, rec)
    assert rec.tuned_cost < 0.6 * rec.replay_cost, "the trick did not work while tuning; the test proves nothing"
    assert abs(rec.replay_cost - twin.replay_cost) <= TOL
    fwd = evaluator.forward(source, "hostile", "hostile", rec.params, vectorised=rec.vectorised)
    twin_fwd = evaluator.forward(BENIGN, "benign", "twin", rec.params)
    assert fwd.ok and twin_fwd.ok
    assert abs(fwd.forward_cost - twin_fwd.forward_cost) <= TOL


def test_no_state_is_shared_between_candidates(workspace_dir):
    """With --sandbox none, tuning shares the evaluator's process, so a stash on numpy survives
    from one candidate to the next there; the trusted replays still never see it."""
    ws = load_workspace(workspace_dir)
    ev = TrustedEvaluator(ws, InProcessProvider(), TuningConfig(n_trials=10))
    try:
        first = ev.evaluate(STASHER, "stash", "stash-1")
        second = ev.evaluate(STASHER, "stash", "stash-2")
        for rec in (first, second):
            assert rec.ok, rec.error
            assert abs(rec.replay_cost - _honest(ev, rec).replay_cost) <= TOL
        assert second.tuned_cost < 0.6 * second.replay_cost  # the stash was there while tuning
    finally:
        import numpy as np
        if hasattr(np, "invevolve_stash"):
            del np.invevolve_stash
        ev.close()


class _Scripted(Proposer):
    name = "scripted"

    def __init__(self, proposals):
        self.proposals = proposals

    def propose(self, ctx):
        return list(self.proposals) if ctx.round == 1 else []


@pytest.mark.parametrize("sandbox", ["none", pytest.param("bwrap", marks=pytest.mark.slow)])
def test_evolve_is_not_fooled_by_a_memoriser(workspace_dir, tmp_path, sandbox):
    if sandbox != "none":
        _provider(sandbox)
    cfg = with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=2, tuning_n_trials=20,
                         sandbox=sandbox)
    props = [Proposal(MEMORISER, "memoriser"), Proposal(BENIGN, "benign")]
    out = execute(workspace_dir, cfg, lambda c, w, r: _Scripted(props), run_dir=tmp_path / "run", progress=False)
    rows = {r["name"]: r for r in map(json.loads, (out.run_dir / "candidates.jsonl").read_text().splitlines())}
    mem = rows["memoriser"]
    assert mem["status"] == "ok"
    ws = load_workspace(workspace_dir)
    ev = TrustedEvaluator(ws, open_hosts("none"), TuningConfig(n_trials=20))
    try:
        twin = ev.evaluate(BENIGN, "benign", "twin", params=mem["params"])
        assert abs(mem["replay_cost"] - twin.replay_cost) <= TOL
        assert mem["tuned_cost"] < 0.6 * mem["replay_cost"]
        dep = json.loads((out.run_dir / "deployment.json").read_text())
        if dep["name"] == "memoriser":  # deployed on its honest numbers, and its test cost is honest
            assert abs(dep["forward"]["deployed"] - ev.forward(BENIGN, "b", "twin", mem["params"]).forward_cost) <= TOL
    finally:
        ev.close()
