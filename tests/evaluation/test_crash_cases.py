"""Class 5 (evaluator side): a killed worker is retried once; a policy failing in the test
window still gets a report and a deployment.json saying so."""
import json
import os
import signal

import pytest

from evaluation.hosts import SandboxProvider
from evaluation.trusted import TrustedEvaluator
from evolve.config import EvolveConfig, with_overrides
from evolve.proposer import Proposal, Proposer
from evolve.run import execute
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace

CBS = """import numpy as np
PARAMS = {"S": (0.0, 40.0), "r": (0.0, 20.0)}
def order(obs, params):
    return np.minimum(np.maximum(params["S"] - obs.position, 0.0), params["r"])
"""


class _KillingProvider(SandboxProvider):
    """Real bwrap hosts; the tuning sandbox is SIGKILLed once, just before its first batch."""

    def __init__(self):
        from sandbox.backends import SandboxUnavailable
        try:
            super().__init__("bwrap")
        except SandboxUnavailable as exc:
            pytest.skip(f"bwrap unavailable: {exc}")
        self.kills, self.opens, self.hosts = 0, 0, []

    def tuning_host(self, problem):
        host = super().tuning_host(problem)
        self.hosts.append(host)
        provider, real_open = self, host.open

        def open_(source, name, **kw):
            provider.opens += 1
            handle = real_open(source, name, **kw)
            real_mean = handle.mean_costs

            def mean_costs(params):
                if provider.kills == 0:
                    provider.kills += 1
                    os.kill(host._worker.channel.proc.pid, signal.SIGKILL)  # as the OOM killer would
                    host._worker.channel.proc.wait()
                return real_mean(params)

            handle.mean_costs = mean_costs
            return handle

        host.open = open_
        return host


def test_worker_killed_mid_tuning_is_retried_once_on_a_fresh_worker(workspace_dir):
    ws = load_workspace(workspace_dir)
    provider = _KillingProvider()
    ev = TrustedEvaluator(ws, provider, TuningConfig(n_trials=10))
    try:
        rec = ev.evaluate(CBS, "cbs", "cbs")
        assert provider.kills == 1 and provider.opens == 2
        assert rec.ok, rec.error
        assert provider.hosts[0].recycles == 1
        clean = TrustedEvaluator(ws, SandboxProvider(provider.backend), TuningConfig(n_trials=10))
        try:
            again = clean.evaluate(CBS, "cbs", "cbs")
        finally:
            clean.close()
        assert again.params == rec.params and again.replay_costs == rec.replay_costs  # same as never killed
        bad = ev.evaluate("def order(obs, params):\n    raise ValueError('no')\n", "bad", "bad")
        assert bad.status == "failed" and provider.opens == 3  # a policy failure is not retried
    finally:
        ev.close()


# Promotion-aware base stock: certified (delta=0.5) against the newsvendor reference on the test
# workspace (deterministic with the run seed), and it raises on every test-window day.
FAILS_IN_TEST_WINDOW = """import numpy as np
PARAMS = {"S": (0.0, 40.0), "P": (0.0, 40.0)}
def order(obs, params):
    if obs.t >= 100:
        raise RuntimeError("boom in the test window")
    promo = obs.features["promo"]
    nxt = promo[obs.t + 1] if len(promo) > obs.t + 1 else 0.0
    return np.maximum(params["S"] + params["P"] * nxt - obs.position, 0.0)
"""


class _Scripted(Proposer):
    name = "scripted"

    def propose(self, ctx):
        return [Proposal(FAILS_IN_TEST_WINDOW, "fails-late")] if ctx.round == 1 else []


def test_deployed_policy_that_raises_in_the_forward_window_still_gets_a_report(workspace_dir, tmp_path):
    cfg = with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=1, tuning_n_trials=40,
                         sandbox="none", search_reference="newsvendor",
                         # a loose in-sample screen certifies the planted policy, so it is deployed
                         certify_method="blockwise_t", certify_gains="in_sample", certify_delta=0.5)
    out = execute(workspace_dir, cfg, lambda c, w, r: _Scripted(), run_dir=tmp_path / "run", progress=False)
    dep = json.loads((out.run_dir / "deployment.json").read_text())
    assert dep["name"] == "fails-late", "the test needs the failing policy deployed"
    assert dep["forward"]["deployed"] is None and "boom in the test window" in dep["forward"]["deployed_error"]
    assert dep["forward"]["success"] is False and len(dep["forward"]["baselines"]) == 5
    assert "FAILED in the test window" in out.report
