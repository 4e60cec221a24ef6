"""Assemble and execute one evolve run: workspace, run directory, host, evaluator, loop, report."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from evaluation.factory import open_hosts, policy_validator
from evaluation.redact import Redactor, install_log_redaction
from evaluation.trusted import TrustedEvaluator
from evolve.config import EvolveConfig
from evolve.controller import Controller
from evolve.executor import Executor, default_workers, make_executor
from evolve.proposer import Proposer
from evolve.report import ForwardSummary, forward_summary, render_report
from evolve.report_html import write_run_report
from evolve.rundir import RunDir, RunDirError
from evolve.runinfo import deployable_source, record_resume, report_notice
from inventory.workspace import HIDDEN_DIR, Workspace, load_workspace, manifest_digest
from orpr.backend import make_backend

log = logging.getLogger(__name__)

ProposerFactory = Callable[[EvolveConfig, Workspace, RunDir], Proposer]


@dataclass
class RunOutcome:
    run_dir: Path
    deployed_id: str
    report: str
    forward: ForwardSummary | None
    seconds: float


def default_run_dir(ws: Workspace, root: Path = Path("runs")) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return root / f"{ws.name}-{stamp}"


@dataclass(frozen=True)
class PeriodContext:
    """What a period inherits (``evolve --periods``): incumbent policies and past gaps.

    With a context the run also replays every safety-certified member on the forward
    window and writes ``period.json``: per member, the certified mean gain, the gain it
    realised forward, and their gap (the next period's eps data).
    """

    incumbents: tuple[tuple[str, str], ...] = ()
    period_gaps: tuple[float, ...] = ()


def execute(
    workspace: Path | None,
    config: EvolveConfig | None,
    proposer_factory: ProposerFactory,
    *,
    run_dir: Path | None = None,
    resume: Path | None = None,
    progress: bool = True,
    meta: Mapping[str, Any] | None = None,
    resume_changes: Mapping[str, Any] | None = None,
    period: PeriodContext | None = None,
    executor: Executor | None = None,
) -> RunOutcome:
    """Run (or resume) evolve on a workspace and write the report into the run directory.

    ``executor``: where candidates are evaluated, owned (and closed) by the caller, e.g. a
    :class:`~evolve.executor_ray.RayExecutor`; default a local one for ``search.workers``.

    ``meta``: extra run.json fields for a new run (:func:`evolve.runinfo.run_meta`). On
    resume, ``config=None`` uses the recorded config; a config is the one
    :func:`evolve.runinfo.resume_settings` allowed, with ``resume_changes`` noted in run.json.

    One process per run directory (an flock; a second one gets :class:`RunDirBusy`). A run
    directory that cannot be written stops the run with :class:`RunDirError`; everything
    recorded before stays valid for ``--resume``.
    """
    start = time.perf_counter()
    install_log_redaction(Redactor())  # no host secret in a log line, whatever a policy or endpoint says
    if resume is not None:
        rd = RunDir(resume)
        meta_on_disk = rd.meta()
        rd.lock()
        if config is None:
            config = EvolveConfig.from_dict(rd.config_dict(), str(rd.root / "config.toml"))
        ws = load_workspace(meta_on_disk["workspace"])
        if manifest_digest(ws.root) != meta_on_disk["workspace_manifest_sha256"]:
            raise RunDirError(f"{ws.root}: workspace changed since the run started; cannot resume {rd.root}")
        record_resume(rd.root, config, resume_changes or {}, (meta or {}).get("command_line", []))
        log.info("resuming %s: %d candidates already evaluated", rd.root, len(rd.evaluated()))
    else:
        if workspace is None:
            raise ValueError("either a workspace or --resume RUN_DIR is required")
        ws = load_workspace(workspace)
        rd = RunDir(run_dir or default_run_dir(ws))
        rd.lock()
        rd.create({**(meta or {}), "workspace": str(ws.root.resolve()),
                   "workspace_manifest_sha256": manifest_digest(ws.root),
                   "started": datetime.now(timezone.utc).isoformat()}, config.to_dict())
    try:
        return _run(ws, rd, config, proposer_factory, progress, start, period, executor)
    except OSError as exc:
        where = Path(exc.filename) if exc.filename else None
        if where is not None and rd.root.resolve() in (where.resolve(), *where.resolve().parents):
            raise RunDirError(f"{where}: cannot write the run directory ({exc.strerror}); "
                              f"fix the cause, then `evolve --resume {rd.root}`") from exc
        raise
    finally:
        rd.unlock()


def period_gaps(pool, deployment, evaluator: TrustedEvaluator) -> dict:
    """Certified vs realised forward gain of every safety-certified member (and the deployment)."""
    def fwd(m) -> float | None:
        res = evaluator.forward(m.source, m.record.name, m.id, m.record.params, vectorised=m.record.vectorised)
        return None if res.error else res.forward_cost
    ref = pool.members[pool.reference_id]
    ref_cost = fwd(ref)
    members = {}
    for m in pool.members.values():
        if m.safety is None or m.id == ref.id or ref_cost is None:
            continue
        cost = fwd(m)
        if cost is None:
            continue
        realised = ref_cost - cost
        members[m.id] = {"certified_gain": m.safety.mean_gain, "realised_gain": realised,
                         "gap": m.safety.mean_gain - realised, "forward_cost": cost}
    return {"reference_id": ref.id, "reference_forward_cost": ref_cost, "deployed_id": deployment.deployed_id,
            "members": members}


def _run(ws: Workspace, rd: RunDir, config: EvolveConfig, proposer_factory: ProposerFactory, progress: bool,
         start: float, period: PeriodContext | None = None, given: Executor | None = None) -> RunOutcome:
    log.info("run directory: %s", rd.root)
    proposer = proposer_factory(config, ws, rd)
    _check_proposer(rd, proposer)
    evaluator = TrustedEvaluator(ws, open_hosts(config.sandbox, hidden=(ws.root / HIDDEN_DIR,)), config.tuning, validator=policy_validator(),
                                 config=config.evaluation, backend=make_backend(config.replay.backend_config))
    executor = given or make_executor(config.search.workers or default_workers())
    try:
        ctx = period or PeriodContext()
        pool, deployment = Controller(ws, rd, config, evaluator, proposer, executor, incumbents=ctx.incumbents,
                                      period_gaps=ctx.period_gaps).run(progress=progress)
        dep = pool.members[deployment.deployed_id]
        fwd = forward_summary(pool, deployment, evaluator) if ws.has_forward else None
        if period is not None and ws.has_forward:
            rd.write_text("period.json", json.dumps(period_gaps(pool, deployment, evaluator), indent=1,
                                                    sort_keys=True) + "\n")
    finally:
        for closing in ((executor.close,) if given is None else ()) + (evaluator.close, proposer.close):
            try:
                closing()
            except Exception as exc:  # noqa: BLE001 - a failing close must not hide the run's own error
                log.error("while closing after the run: %s: %s", type(exc).__name__, exc)
    rd.write_text("deployed_policy.py", deployable_source(dep.source, dep.record.params, candidate_id=dep.id,
                                                          workspace=ws.name, replay_cost=dep.record.replay_cost,
                                                          run_dir=rd.root))
    rd.write_text("deployment.json", json.dumps({
        "deployed_id": dep.id, "name": dep.record.name, "params": dep.record.params,
        "replay_cost": dep.record.replay_cost, "reason": deployment.reason,
        "certificate": None if deployment.certificate is None else deployment.certificate.to_dict(),
        "reference_id": pool.reference_id, "champion_id": pool.champion_id,
        "forward": None if fwd is None else fwd.to_dict(),
    }, indent=1, sort_keys=True) + "\n")
    rd.write_text("certificates.jsonl", "".join(json.dumps(c.to_dict(), sort_keys=True) + "\n" for c in pool.certificates))
    report = render_report(ws.name, pool, deployment, fwd, notice=report_notice(proposer))
    rd.write_text("report.txt", report)
    write_run_report(rd.root)
    return RunOutcome(rd.root, dep.id, report, fwd, time.perf_counter() - start)


def _check_proposer(rd: RunDir, proposer: Proposer) -> None:
    """Record which proposer a run uses; a resume with another one is refused (its rounds
    would not be the interrupted run's)."""
    model = getattr(getattr(proposer, "config", None), "model", None)
    mine = {"name": proposer.name, "model": model if isinstance(model, str) else None}
    recorded = rd.read_json("proposer.json")
    if recorded is None:
        rd.write_text("proposer.json", json.dumps(mine, sort_keys=True) + "\n")
    elif recorded != mine:
        proposer.close()
        raise RunDirError(f"{rd.root} was started with proposer {recorded['name']}"
                          f"{' (' + recorded['model'] + ')' if recorded.get('model') else ''}; resume it with the same "
                          f"--llm/--base-url/--agent-config options (got {mine['name']}"
                          f"{' (' + str(mine['model']) + ')' if mine['model'] else ''})")
