"""exp3 job: one classical scenario (paper Sec. 5.3).

Per scenario, on its test (forward) window, each replayed from the workspace's start
state through replay + forward days as the trusted evaluator does:

1. the five baselines, pre-tuned on the replay window (which one is cheapest: Table 5);
2. Tilted-CBS and Tilted-PIC from the policy library, tuned on the replay window with the
   evolve tuning rule and the run seed (their win/tie/loss against CBS: Tables 6-7);
3. ``evolve`` (the configured proposer, trusted evaluator, sandbox, gates) and its
   deployed policy;
4. the exact optimum (``bench.classical_exact``) and the exact cost of the tuned CBS.

Items 1-2 are sealed-workspace baselines and library code, so they are simulated here,
vectorised; the deployed policy of item 3 is candidate code and is replayed by the trusted
evaluator in a fresh sandboxed host (unless it is one of the baselines, whose numbers are
then the same). ``evolve.run.execute`` is not used because its closing report replays all
five baselines day by day through the sandbox over windows of up to 70,000 days, which
alone would cost more than the rest of the scenario.

Optimality gaps use common random numbers against CBS, whose exact cost is known:
``C(pi) ~ C_exact(CBS) + (forward cost of pi - forward cost of CBS)`` (the paired
difference on one long window is far less noisy than either cost).
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from bench.classical_exact import cbs_cost, optimum
from bench.sweep import JobOutcome, WorkspaceJob, run_job

log = logging.getLogger(__name__)

LIBRARY_VARIANTS = ("tilted_cbs", "tilted_pic")
CBS = "capped_base_stock"


@dataclass(frozen=True)
class ClassicalResult:
    workspace: str
    distribution: str
    lead_time: int
    p: float
    forward_days: int
    baseline_costs: dict[str, float]          # test-window cost per day
    variant_costs: dict[str, float]           # tilted_cbs, tilted_pic
    variant_params: dict[str, dict[str, float]]
    deployed_id: str | None                   # None: evolve was not run (``--no-evolve``)
    deployed_name: str | None
    deployed_cost: float | None
    candidates: int
    optimum: float | None
    optimum_source: str | None
    cbs_exact: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ClassicalResult":
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__})

    @property
    def best_baseline(self) -> str:
        """Cheapest baseline; ties go to the earlier one in the paper's column order."""
        from bench.paper import BASELINES
        names = [b for b in BASELINES if b in self.baseline_costs] + sorted(set(self.baseline_costs) - set(BASELINES))
        return min(names, key=lambda b: self.baseline_costs[b])

    def estimate(self, cost: float | None) -> float | None:
        """Long-run cost estimate: by common random numbers against the exactly known CBS, or,
        where CBS's exact cost could not be computed, the test-window cost itself (the window
        was sized to resolve 0.5% at 95%)."""
        if cost is None:
            return None
        if self.cbs_exact is None:
            return cost
        return self.cbs_exact + cost - self.baseline_costs[CBS]

    def gap(self, cost: float | None) -> float | None:
        """Relative optimality gap of a policy with this test-window cost (None where no DP)."""
        est = self.estimate(cost)
        return None if est is None or not self.optimum else est / self.optimum - 1.0


def _simulate_forward(ws: Any, source: str, name: str, params: dict[str, float]) -> float:
    """Test-window cost per day of a baseline or library policy, replayed from the start state.

    These are vectorised numpy rules (the library's), so the replay skips ``simulate``'s
    scalar cross-check, which would double the cost on windows of up to 70,000 days; a rule
    that is not vectorised falls back to ``simulate``.
    """
    from inventory.policy import PolicyError, compile_policy
    from inventory.simulator import simulate, simulate_fn

    full = ws.replay.concat(ws.load_forward())
    n = len(ws.replay)
    prog = compile_policy(source, name)
    batch = {k: np.array([float(v)]) for k, v in params.items()}
    args = (full, ws.spec.features, ws.spec.model, batch)
    try:
        res = simulate_fn(prog.order, *args, init=ws.spec.initial)
    except PolicyError:
        res = simulate(prog, *args, init=ws.spec.initial)
    return float(np.asarray(res.costs[0])[n:].mean())


@dataclass(frozen=True)
class _Deployed:
    id: str
    name: str
    is_baseline: bool
    cost: float | None       # test-window cost (None for a baseline: simulated with the others)
    candidates: int


def _evolve(job: WorkspaceJob, ws: Any) -> _Deployed:
    """Run the loop (resuming a stopped one) and replay its deployed candidate on the test window."""
    from evaluation.factory import open_hosts, policy_validator
    from evaluation.trusted import TrustedEvaluator
    from evolve.controller import Controller
    from evolve.rundir import RunDir, file_digest
    from inventory.workspace import HIDDEN_DIR, MANIFEST_FILE

    cfg = job.settings.config
    rd = RunDir(job.run_dir)
    if not (job.run_dir / "run.json").exists():
        if job.run_dir.exists():
            shutil.rmtree(job.run_dir)
        rd.lock()
        rd.create({"workspace": str(ws.root.resolve()), "workspace_manifest_sha256": file_digest(ws.root / MANIFEST_FILE),
                   "started": datetime.now(timezone.utc).isoformat()}, cfg.to_dict())
    else:
        rd.lock()
    proposer = job.settings.proposer.make(cfg, ws, rd.root)
    evaluator = TrustedEvaluator(ws, open_hosts(cfg.sandbox, hidden=(ws.root / HIDDEN_DIR,)), cfg.tuning, validator=policy_validator(),
                                 config=cfg.evaluation)
    try:
        pool, deployment = Controller(ws, rd, cfg, evaluator, proposer).run(progress=False)
        member = pool.members[deployment.deployed_id]
        n_cand = sum(1 for m in pool.members.values() if m.origin != "baseline")
        cost: float | None = None
        if member.origin != "baseline":
            fwd = evaluator.forward(member.source, member.record.name, member.id, member.record.params,
                                    vectorised=member.record.vectorised)
            cost = None if fwd.error else float(np.mean(fwd.forward_costs))
        rd.write_text("bench_deployment.json", json.dumps(
            {"deployed_id": member.id, "name": member.record.name, "origin": member.origin,
             "params": member.record.params, "forward_cost": cost, "reason": deployment.reason}, indent=1) + "\n")
        return _Deployed(member.id, member.record.name, member.origin == "baseline", cost, n_cand)
    finally:
        for closing in (evaluator.close, proposer.close, rd.unlock):
            try:
                closing()
            except Exception as exc:  # noqa: BLE001 - a failing close must not hide the run's own error
                log.error("%s: while closing: %s", job.entry.name, exc)


def _scenario(job: WorkspaceJob) -> dict[str, Any]:
    from inventory.library import policy_source
    from inventory.policy import compile_policy
    from inventory.tuning import tune_policy
    from inventory.workspace import load_workspace

    ws = load_workspace(job.entry.path)
    dist, lead, _ = job.entry.classical_key()
    model = ws.spec.model
    baselines = {name: _simulate_forward(ws, ws.baseline_source(name), name, rec.params)
                 for name, rec in ws.baselines.items()}
    if CBS not in baselines:
        raise RuntimeError(f"{ws.root}: no {CBS} baseline")
    variants, vparams = {}, {}
    tuning = job.settings.config.tuning
    for name in LIBRARY_VARIANTS:
        src = policy_source(name)
        tuned = tune_policy(compile_policy(src, name), ws.replay_problem(), tuning,
                            study_name=name)
        vparams[name] = {k: float(v) for k, v in tuned.params.items()}
        variants[name] = _simulate_forward(ws, src, name, vparams[name])
    dep = _evolve(job, ws) if job.settings.evolve else None
    dep_cost = None if dep is None else baselines[dep.name] if dep.is_baseline else dep.cost
    opt = optimum(dist, lead, model.h, model.p)
    cbs = ws.baselines[CBS].params
    return ClassicalResult(
        ws.name, dist, lead, float(model.p), len(ws.load_forward()), baselines, variants, vparams,
        dep and dep.id, dep and dep.name, dep_cost, dep.candidates if dep else 0, None if opt is None else opt.cost, None if opt is None else opt.source,
        None if opt is None else cbs_cost(dist, lead, model.h, model.p, cbs["S"], cbs["r"]),
    ).to_dict()


def classical_job(job: WorkspaceJob) -> JobOutcome:
    """The module-level task an executor runs for exp3."""
    return run_job(job, _scenario)
