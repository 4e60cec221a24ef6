"""exp1 / exp2 job: ``evolve`` on one workspace, exactly as the CLI runs it, then its test verdict.

The run directory lives in the sweep (``runs/<ws>``). A run that a killed worker left
behind is resumed (``evolve --resume`` semantics: nothing is evaluated twice and the
result is the one an uninterrupted run gives); a finished one is only read.
Success (SPEC §3): the deployed policy's test-window cost is strictly below the minimum
test-window cost of the five tuned baselines; ``reduction`` = 1 - deployed / best.
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from typing import Any

from bench.sweep import JobOutcome, WorkspaceJob, run_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvolveResult:
    """One workspace of exp1/exp2 (test-window costs per day)."""

    workspace: str
    group: str
    group_label: str
    ood: bool
    deployed_id: str
    deployed_name: str
    reference_id: str
    deployed_cost: float | None
    baseline_costs: dict[str, float]
    best_baseline: str
    best_baseline_cost: float
    success: bool
    reduction: float | None        # 1 - deployed / best baseline on the test window
    candidates: int                # evaluated candidates besides the five baselines

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "EvolveResult":
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__})


def _evolve(job: WorkspaceJob) -> dict[str, Any]:
    from evolve.run import execute

    rd = job.run_dir
    deployment = rd / "deployment.json"
    if not deployment.exists():
        cfg, factory = job.settings.config, job.settings.proposer.make
        if (rd / "run.json").exists():
            log.info("%s: resuming the run a stopped worker left in %s", job.entry.name, rd)
            execute(None, cfg, factory, resume=rd, progress=False)
        else:
            if rd.exists():  # created but stopped before run.json: nothing was evaluated
                shutil.rmtree(rd)
            execute(job.entry.path, cfg, factory, run_dir=rd, progress=False)
    dep = json.loads(deployment.read_text(encoding="utf-8"))
    fwd = dep.get("forward")
    if not fwd:
        raise RuntimeError(f"{job.entry.path}: the workspace has no test (forward) window")
    baselines = {str(k): float(v) for k, v in fwd["baselines"].items()}
    if not baselines:
        raise RuntimeError(f"{rd}: no baseline has a test-window cost ({fwd.get('baseline_errors')})")
    best = min(sorted(baselines), key=lambda k: baselines[k])
    cost = fwd.get("deployed")
    success = cost is not None and cost < baselines[best]
    n_cand = sum(1 for line in (rd / "candidates.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip() and not json.loads(line)["candidate_id"].startswith("baseline-"))
    e = job.entry
    return EvolveResult(
        e.name, e.group, e.group_label, e.ood, dep["deployed_id"], dep["name"], dep["reference_id"],
        None if cost is None else float(cost), baselines, best, baselines[best], bool(success),
        (1.0 - cost / baselines[best]) if success and baselines[best] > 0 else None, n_cand,
    ).to_dict()


def evolve_job(job: WorkspaceJob) -> JobOutcome:
    """The module-level task an executor runs for exp1/exp2."""
    return run_job(job, _evolve)
