"""Walk-forward costs of pool members from the trusted evaluator, kept in the run directory.

For each member, :class:`OutOfSampleScorer` runs the schedule of
:func:`evaluation.walkforward.walk_forward_plan` through the evaluator's two building
blocks: ``tune`` in an untrusted host that holds only the days before an origin, and
``replay`` of the frozen parameters in a fresh, data-free host. Each fold tunes under its
own candidate id (``<id>@wf<start>-<stop>``), so its seed, and therefore its result, does
not depend on anything else that ran. Results (or the failure) are appended to
``walkforward.jsonl``; a resumed run reads them back instead of re-tuning, so it gates on
exactly the same numbers.
"""
from __future__ import annotations

import logging

import numpy as np

from certify import GateConfig
from evaluation.trusted import TrustedEvaluator
from evaluation.walkforward import OutOfSample, Plan, out_of_sample, walk_forward_plan
from evolve.rundir import RunDir
from inventory.policy import PolicyError
from sandbox.errors import SandboxUnavailable
from inventory.workspace import Workspace

log = logging.getLogger(__name__)

LOG_FILE = "walkforward.jsonl"


def plan_for(ws: Workspace, gate: GateConfig) -> Plan:
    """The walk-forward schedule of ``ws``: h = ``gate.horizon`` or the workspace's forward days."""
    n = len(ws.replay)
    horizon = gate.horizon or ws.spec.problem.forward_days or max(7, ws.spec.problem.lead_time + 1)
    return walk_forward_plan(n, min(horizon, n - 1), min_history=gate.min_history or None,
                             max_folds=gate.max_folds)


class OutOfSampleScorer:
    def __init__(self, ws: Workspace, evaluator: TrustedEvaluator, gate: GateConfig, run_dir: RunDir):
        self.ws, self.ev, self.rd = ws, evaluator, run_dir
        self.plan = plan_for(ws, gate)
        self.done: dict[str, OutOfSample | None] = {}
        for raw in run_dir.read(LOG_FILE):
            self.done[raw["candidate_id"]] = None if raw.get("error") else OutOfSample.from_dict(raw)

    def score(self, candidate_id: str, source: str, name: str) -> OutOfSample | None:
        """Walk-forward costs of one member (``None`` if the policy fails on a fold)."""
        if candidate_id in self.done:
            return self.done[candidate_id]
        return self.record(walk_forward_row(self.ev, self.plan, candidate_id, source, name))

    def record(self, row: dict) -> OutOfSample | None:
        """Log a :func:`walk_forward_row` (computed here or by an executor's worker) and keep it."""
        self.rd.append(LOG_FILE, row)
        result = None if row.get("error") else OutOfSample.from_dict(row)
        self.done[str(row["candidate_id"])] = result
        return result


def walk_forward_row(ev: TrustedEvaluator, plan: Plan, candidate_id: str, source: str, name: str) -> dict:
    """The ``walkforward.jsonl`` row of one member: its walk-forward costs, or the failure.

    A pure function of the evaluator's workspace and tuning seed, the plan and the member:
    each fold tunes under its own id (``<id>@wf<start>-<stop>``), so the row does not depend
    on the process that computes it or on what it computed before.
    """
    ids = {f.score_days.stop: f"{candidate_id}@wf{f.tune_days.start}-{f.tune_days.stop}" for f in plan.folds}
    stops = {(f.tune_days.start, f.tune_days.stop): f.score_days.stop for f in plan.folds}

    def tune(days: slice) -> dict[str, float]:
        return ev.tune(source, name, ids[stops[(days.start, days.stop)]], days=days).params

    def replay(params, stop: int) -> np.ndarray:
        return ev.replay(source, name, params, ev.workspace.replay.slice(0, stop), candidate_id=ids[stop])

    try:
        return {"candidate_id": candidate_id, "error": None, **out_of_sample(tune, replay, plan).to_dict()}
    except SandboxUnavailable:
        raise  # the machine, not the policy: the run stops (exit 3) and a resume retries
    except (PolicyError, RuntimeError, OSError) as exc:
        log.info("walk-forward of %s failed: %s", candidate_id, exc)
        return {"candidate_id": candidate_id, "error": str(exc)}
