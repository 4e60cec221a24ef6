"""A resumable sweep: one job per workspace, run on any :class:`~evolve.executor.Executor`.

Layout of a sweep directory::

    sweep.json            the experiment and its settings (a second run must match them)
    results/<ws>.json     one finished workspace: written atomically, never recomputed
    running/<ws>.json     who is working on it (host, pid, attempt start): for monitoring
    runs/<ws>/            the workspace's evolve run directory (resumed after a crash)

Why the worker writes its own result: a sweep killed at any moment (driver, worker, node)
keeps every finished workspace, and a worker that Ray restarts re-runs an idempotent job
(its run directory is resumed, its result file atomically replaced with the same content).
The driver writes any returned result that is not on disk yet, so a cluster whose nodes
do not share the sweep directory loses nothing either (results arrive when ``map``
returns). Every node must see the workspace paths.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from tqdm import tqdm

from bench.provenance import UNRECORDED, commit_stamp
from bench.settings import BenchSettings
from bench.suites import SuiteEntry
from inventory.errors import ConfigError
from evolve.executor import Executor

log = logging.getLogger(__name__)

SCHEMA = 1


def atomic_write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` to ``path`` so that a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@dataclass(frozen=True)
class WorkspaceJob:
    """Everything a worker needs for one workspace: picklable, no open handles."""

    experiment: str
    entry: SuiteEntry
    sweep_dir: str
    settings: BenchSettings

    @property
    def result_path(self) -> Path:
        return Path(self.sweep_dir) / "results" / f"{self.entry.name}.json"

    @property
    def run_dir(self) -> Path:
        return Path(self.sweep_dir) / "runs" / self.entry.name


@dataclass
class JobOutcome:
    """What a job returns: the result written to ``results/``, or the error that stopped it."""

    workspace: str
    result: dict[str, Any] | None
    error: str | None = None
    seconds: float = 0.0
    host: str = field(default_factory=socket.gethostname)
    commit: str = field(default_factory=commit_stamp)  # the code that computed the result


@dataclass(frozen=True)
class ResultRecord:
    """Where a finished workspace's result came from, apart from the result itself."""

    seconds: float   # wall seconds on its worker
    commit: str      # the code that computed it (UNRECORDED in files written before commits were kept)


def run_job(job: WorkspaceJob, work: Callable[[WorkspaceJob], dict[str, Any]]) -> JobOutcome:
    """Run ``work(job)`` unless its result exists; write the result atomically.

    An exception of the workspace's own (a baseline that fails, a broken file) becomes an
    error outcome, so one bad workspace does not stop the sweep; it is retried next run.
    """
    if job.result_path.exists():
        raw = _read(job.result_path)  # one read for the result and its record
        rec = _record(raw)
        return JobOutcome(job.entry.name, raw["result"], None, rec.seconds, commit=rec.commit)
    marker = Path(job.sweep_dir) / "running" / f"{job.entry.name}.json"
    atomic_write_json(marker, {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()})
    start = time.perf_counter()
    try:
        result = work(job)
    except Exception as exc:  # noqa: BLE001 - reported per workspace, the sweep goes on
        log.error("%s: %s: %s", job.entry.name, type(exc).__name__, exc)
        return JobOutcome(job.entry.name, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    finally:
        marker.unlink(missing_ok=True)
    out = JobOutcome(job.entry.name, result, None, time.perf_counter() - start)
    write_result(job.result_path, out)
    return out


def write_result(path: Path, out: JobOutcome) -> None:
    """The result file: the result itself, and apart from it where and how long it ran."""
    atomic_write_json(path, {"schema": SCHEMA, "workspace": out.workspace, "result": out.result,
                             "seconds": out.seconds, "host": out.host, "commit": out.commit})


def read_result(path: Path) -> dict[str, Any]:
    return _read(path)["result"]


def read_record(path: Path) -> ResultRecord:
    return _record(_read(path))


def _record(raw: dict[str, Any]) -> ResultRecord:
    return ResultRecord(float(raw.get("seconds", 0.0)), str(raw.get("commit", UNRECORDED)))


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable result ({exc}); delete it to recompute that workspace") from exc
    if raw.get("schema") != SCHEMA or "result" not in raw:
        raise ConfigError(f"{path}: field 'schema' is {raw.get('schema')!r}, expected {SCHEMA}; "
                          "delete it to recompute that workspace")
    return raw


class Sweep:
    """One experiment's sweep directory (see the module docstring)."""

    def __init__(self, root: str | Path, experiment: str, settings: BenchSettings):
        self.root, self.experiment, self.settings = Path(root), experiment, settings

    def _identity(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "settings": self.settings.identity()}

    def prepare(self) -> None:
        """Create the directory, or check that an existing one was made with the same settings."""
        path = self.root / "sweep.json"
        ident = self._identity()
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ConfigError(f"{path}: unreadable ({exc})") from exc
            if old.get("identity") != ident:
                diff = sorted(k for k in set(old.get("identity", {}).get("settings", {})) | set(ident["settings"])
                              if old.get("identity", {}).get("settings", {}).get(k) != ident["settings"].get(k))
                raise ConfigError(f"{path}: this sweep was run with other settings (differ: "
                                  f"{', '.join(diff) or 'experiment'}); use another --out to run these")
            return
        atomic_write_json(path, {"identity": ident, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})

    def jobs(self, entries: Sequence[SuiteEntry]) -> list[WorkspaceJob]:
        return [WorkspaceJob(self.experiment, e, str(self.root), self.settings) for e in entries]

    def finished(self, entries: Sequence[SuiteEntry]) -> dict[str, dict[str, Any]]:
        out = {}
        for e in entries:
            path = self.root / "results" / f"{e.name}.json"
            if path.exists():
                out[e.name] = read_result(path)
        return out

    def records(self, entries: Sequence[SuiteEntry]) -> dict[str, ResultRecord]:
        """Worker seconds and commit of each finished workspace (for the table's provenance)."""
        return {e.name: read_record(p) for e in entries if (p := self.root / "results" / f"{e.name}.json").exists()}

    def run(self, entries: Sequence[SuiteEntry], executor: Executor, fn: Callable[[WorkspaceJob], JobOutcome],
            *, progress: bool = True) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Results of every entry (finished ones read from disk) and the errors of those that failed."""
        self.prepare()
        done = self.finished(entries)
        todo = [j for j in self.jobs(entries) if j.entry.name not in done]
        log.info("%s: %d workspaces, %d finished earlier, %d to run on %s (%d workers)", self.experiment,
                 len(entries), len(done), len(todo), type(executor).__name__, executor.workers)
        errors: dict[str, str] = {}
        if todo:
            bar = tqdm(total=len(entries), initial=len(done), desc=self.experiment, unit="ws", disable=not progress)
            stop = threading.Event()
            watcher = threading.Thread(target=self._watch, args=(entries, bar, len(done), stop), daemon=True)
            watcher.start()
            try:
                outcomes = executor.map(fn, todo)
            finally:
                stop.set()
                watcher.join()
                bar.close()
            for job, out in zip(todo, outcomes):
                if out.result is None:
                    errors[out.workspace] = out.error or "failed"
                    continue
                if not job.result_path.exists():  # the worker's disk is not ours
                    write_result(job.result_path, out)
                done[out.workspace] = out.result
        return {e.name: done[e.name] for e in entries if e.name in done}, errors

    def _watch(self, entries: Sequence[SuiteEntry], bar: tqdm, start: int, stop: threading.Event) -> None:
        """Advance the bar as result files appear (workers write them; ``map`` returns at the end)."""
        names = {f"{e.name}.json" for e in entries}
        seen = start
        while not stop.wait(1.0):
            try:
                n = sum(1 for p in (self.root / "results").iterdir() if p.name in names)
            except FileNotFoundError:
                n = 0
            if n > seen:
                bar.update(n - seen)
                seen = n

