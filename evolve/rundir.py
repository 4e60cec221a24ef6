"""The run directory: an append-only, crash-safe record of one evolve run.

Layout::

    run.json                workspace path and manifest digest, config, versions
    config.toml             the effective configuration
    candidates/<id>.py      every candidate's source
    candidates.jsonl        one trusted EvalRecord per evaluated candidate
    rounds.jsonl            per round: the proposals' ids (written when the round is gated)
    certificates.jsonl      every certificate, in the order it was issued
    champion_history.jsonl  champion after the initial pool and after each round
    deployed_policy.py      the deployed policy, with deployment.json and report.txt

Every JSONL line is written with a single ``write`` + ``fsync``; a line torn by ``kill -9``
is ignored on reading, so a resumed run loses at most the candidate being evaluated.
Tuning runs in memory with a seed derived from (run seed, candidate id); a candidate that
was interrupted mid-tuning is re-tuned from scratch on resume, to exactly the result the
uninterrupted run would have written (per-trial storage cost ~90% of tuning time).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import tomli_w

from evaluation.records import EvalRecord

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)

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
        if self.root.exists() and any(self.root.iterdir()):
            raise FileExistsError(f"{self.root} already holds a run; use `evolve --resume {self.root}`")
        (self.root / "candidates").mkdir(parents=True, exist_ok=True)
        self._atomic_write("config.toml", "# effective configuration of this run\n" + tomli_w.dumps(config))
        self._atomic_write("run.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")

    def meta(self) -> dict[str, Any]:
        path = self.root / "run.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: not a run directory (run.json missing)")
        return json.loads(path.read_text(encoding="utf-8"))

    def config_dict(self) -> dict[str, Any]:
        import tomllib
        return tomllib.loads((self.root / "config.toml").read_text(encoding="utf-8"))

    # ---- append-only logs
    def append(self, name: str, record: dict[str, Any]) -> None:
        line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.root / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
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

    def candidate_source(self, candidate_id: str) -> str:
        return (self.root / "candidates" / f"{candidate_id}.py").read_text(encoding="utf-8")

    def completed_rounds(self) -> dict[int, dict[str, Any]]:
        return {int(r["round"]): r for r in self.read("rounds.jsonl")}

    def write_text(self, rel: str, text: str) -> Path:
        self._atomic_write(rel, text)
        return self.root / rel

    def _atomic_write(self, rel: str, text: str) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
