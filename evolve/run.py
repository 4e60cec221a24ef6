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
from evaluation.trusted import TrustedEvaluator
from evolve.config import EvolveConfig
from evolve.controller import Controller
from evolve.executor import default_workers, make_executor
from evolve.proposer import Proposer
from evolve.report import ForwardSummary, forward_summary, render_report
from evolve.report_html import write_run_report
from evolve.rundir import RunDir, RunDirError, file_digest
from evolve.runinfo import deployable_source, record_resume, report_notice
from inventory.workspace import MANIFEST_FILE, Workspace, load_workspace
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
) -> RunOutcome:
    """Run (or resume) evolve on a workspace and write the report into the run directory.

    ``meta``: extra run.json fields for a new run (:func:`evolve.runinfo.run_meta`). On
    resume, ``config=None`` uses the recorded config; a config is the one
    :func:`evolve.runinfo.resume_settings` allowed, with ``resume_changes`` noted in run.json.

    One process per run directory (an flock; a second one gets :class:`RunDirBusy`). A run
    directory that cannot be written stops the run with :class:`RunDirError`; everything
    recorded before stays valid for ``--resume``.
    """
    start = time.perf_counter()
    if resume is not None:
        rd = RunDir(resume)
        meta_on_disk = rd.meta()
        rd.lock()
        if config is None:
            config = EvolveConfig.from_dict(rd.config_dict(), str(rd.root / "config.toml"))
        ws = load_workspace(meta_on_disk["workspace"])
        if file_digest(ws.root / MANIFEST_FILE) != meta_on_disk["workspace_manifest_sha256"]:
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
                   "workspace_manifest_sha256": file_digest(ws.root / MANIFEST_FILE),
                   "started": datetime.now(timezone.utc).isoformat()}, config.to_dict())
    try:
        return _run(ws, rd, config, proposer_factory, progress, start)
    except OSError as exc:
        where = Path(exc.filename) if exc.filename else None
        if where is not None and rd.root.resolve() in (where.resolve(), *where.resolve().parents):
            raise RunDirError(f"{where}: cannot write the run directory ({exc.strerror}); "
                              f"fix the cause, then `evolve --resume {rd.root}`") from exc
        raise
    finally:
        rd.unlock()


def _run(ws: Workspace, rd: RunDir, config: EvolveConfig, proposer_factory: ProposerFactory, progress: bool,
         start: float) -> RunOutcome:
    log.info("run directory: %s", rd.root)
    proposer = proposer_factory(config, ws, rd)
    evaluator = TrustedEvaluator(ws, open_hosts(config.sandbox), config.tuning, validator=policy_validator(),
                                 config=config.evaluation, backend=make_backend(config.replay.backend_config))
    executor = make_executor(config.search.workers or default_workers())
    try:
        pool, deployment = Controller(ws, rd, config, evaluator, proposer, executor).run(progress=progress)
        dep = pool.members[deployment.deployed_id]
        fwd = forward_summary(pool, deployment, evaluator) if ws.has_forward else None
    finally:
        for closing in (executor.close, evaluator.close, proposer.close):
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
