"""The run directory: an append-only, crash-safe record of one evolve run.

Layout::

    run.json                workspace path and manifest digest, config, versions
    config.toml             the effective configuration
    proposer.json           which proposer (and model) the run uses; a resume must use the same
    candidates/<id>.py      every candidate's source
    candidates.jsonl        one trusted EvalRecord per evaluated candidate
    proposals.jsonl         per round: the proposals (ids, names, meta), written before any is
                            evaluated, so a resume re-uses a killed round's proposals exactly
    rounds.jsonl            per round: the proposals' ids (written when the round is gated)
    walkforward.jsonl       walk-forward out-of-sample costs per pool member (evolve.oos)
    certificates.jsonl      every certificate, in the order it was issued
    champion_history.jsonl  champion after the initial pool and after each round
    deployed_policy.py      the deployed policy, with deployment.json and report.txt
    .lock                   flock held by the one evolve process working on the directory

Every JSONL line is written with a single ``write`` + ``fsync``; a line torn by ``kill -9``
or a full disk is ignored on reading (and the next line starts on a fresh line), so a
resumed run loses at most the candidate being evaluated. A directory that cannot be
written (read-only, full) raises :class:`RunDirError` with a message; the run stops cleanly
and ``evolve --resume`` continues once the cause is fixed.
Tuning runs in memory with a seed derived from (run seed, candidate id); a candidate that
was interrupted mid-tuning is re-tuned from scratch on resume, to exactly the result the
uninterrupted run would have written (per-trial storage cost ~90% of tuning time).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import tomli_w

from evaluation.records import EvalRecord

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"


class RunDirError(RuntimeError):
    """The run directory cannot be used: another process holds it, or it cannot be written."""


class RunDirBusy(RunDirError):
    """Another evolve process is working on this run directory."""


@contextmanager
def _writing(path: Path, root: Path) -> Iterator[None]:
    """Turn an OSError while writing the run directory into a clear, resumable stop."""
    try:
        yield
    except OSError as exc:
        why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
               errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
               errno.EPERM: "permission denied"}.get(exc.errno or 0, exc.strerror or str(exc))
        raise RunDirError(f"{path}: cannot write the run directory ({why}); nothing recorded so far is lost: "
                          f"fix the cause, then `evolve --resume {root}`") from exc


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._lock_fd: int | None = None

    # ---- one process per directory
    def lock(self) -> None:
        """Take the directory's exclusive lock (held until :meth:`unlock` or process exit).

        Raises :class:`RunDirBusy` if another evolve process holds it.
        """
        if self._lock_fd is not None:
            return
        path = self.root / LOCK_FILE
        with _writing(path, self.root):
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunDirBusy(f"{self.root}: another evolve process is working on this run directory "
                             "(its lock is held); wait for it to finish or stop it first") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def optuna_storage(self) -> "optuna.storages.RDBStorage":
        """SQLite storage in the run directory (WAL). Evolve runs do not use it (they tune in
        memory); ``benchmarks/simulator.py`` uses it to price per-trial storage."""
        import optuna

        path = (self.root / "studies.sqlite3").resolve()

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn

        return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"creator": connect})

    def create(self, meta: dict[str, Any], config: dict[str, Any]) -> None:
        """Start a new run here. Refuses a directory holding anything but the leftovers of a
        ``create`` that was killed before it wrote ``run.json`` (which it then redoes)."""
        leftovers = {LOCK_FILE, "config.toml", "config.toml.tmp", "run.json.tmp", "candidates"}
        if self.root.exists():
            extra = [p for p in self.root.iterdir() if p.name not in leftovers
                     or (p.name == "candidates" and (not p.is_dir() or any(p.iterdir())))]
            if extra or (self.root / "run.json").exists():
                raise FileExistsError(f"{self.root} already holds a run; use `evolve --resume {self.root}`")
        with _writing(self.root / "candidates", self.root):
            (self.root / "candidates").mkdir(parents=True, exist_ok=True)
        self._atomic_write("config.toml", "# effective configuration of this run\n" + tomli_w.dumps(config))
        self._atomic_write("run.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")

    def meta(self) -> dict[str, Any]:
        path = self.root / "run.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: not a run directory (run.json missing)")
        return json.loads(path.read_text(encoding="utf-8"))

    def read_json(self, rel: str) -> Any:
        """A small JSON file of the run directory, or None if it does not exist."""
        path = self.root / rel
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def config_dict(self) -> dict[str, Any]:
        import tomllib
        return tomllib.loads((self.root / "config.toml").read_text(encoding="utf-8"))

    # ---- append-only logs
    def append(self, name: str, record: dict[str, Any]) -> None:
        line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        with _writing(self.root / name, self.root):
            fd = os.open(self.root / name, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # the last line was torn: start on a fresh one
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(fd)
            finally:
                os.close(fd)

    def read(self, name: str) -> Iterator[dict[str, Any]]:
        path = self.root / name
        if not path.exists():
            return
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is torn (interrupted write); ignoring it", path, i + 1)

    # ---- candidates
    def save_candidate(self, rec: EvalRecord, source: str, round_no: int, origin: str) -> None:
        self._atomic_write(f"candidates/{rec.candidate_id}.py", source)
        self.append("candidates.jsonl", {**rec.to_dict(), "round": round_no, "origin": origin})

    def evaluated(self) -> dict[str, tuple[EvalRecord, int, str]]:
        out = {}
        for raw in self.read("candidates.jsonl"):
            out[raw["candidate_id"]] = (EvalRecord.from_dict(raw), int(raw["round"]), str(raw["origin"]))
        return out

    def save_proposals(self, round_no: int, entries: Sequence[tuple[str, str, str, str, dict[str, str]]]) -> None:
        """Record a round's proposals (candidate id, source, name, rationale, meta) before any is evaluated."""
        for cid, source, _name, _rationale, _meta in entries:
            self._atomic_write(f"candidates/{cid}.py", source)
        self.append("proposals.jsonl", {"round": round_no, "proposals": [
            {"candidate_id": cid, "name": name, "rationale": rationale, "meta": meta}
            for cid, _source, name, rationale, meta in entries]})

    def proposals(self) -> dict[int, list[dict[str, Any]]]:
        """Recorded proposals per round (the first record of a round wins)."""
        out: dict[int, list[dict[str, Any]]] = {}
        for raw in self.read("proposals.jsonl"):
            out.setdefault(int(raw["round"]), list(raw["proposals"]))
        return out

    def candidate_source(self, candidate_id: str) -> str:
        return (self.root / "candidates" / f"{candidate_id}.py").read_text(encoding="utf-8")

    def completed_rounds(self) -> dict[int, dict[str, Any]]:
        return {int(r["round"]): r for r in self.read("rounds.jsonl")}

    def write_text(self, rel: str, text: str) -> Path:
        self._atomic_write(rel, text)
        return self.root / rel

    def _atomic_write(self, rel: str, text: str) -> None:
        target = self.root / rel
        tmp = target.with_suffix(target.suffix + ".tmp")
        with _writing(target, self.root):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except OSError:
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    pass
                raise


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
