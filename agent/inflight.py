"""Checkpoints of the agent episodes in progress, so that an interrupted run keeps its trajectories.

A trajectory line is normally written when its episode ends (:mod:`agent.trajectory`). A
local CPU model can spend minutes in one episode, so after every model turn the proposer
saves the episode so far to ``<run_dir>/agent/inflight/<episode_id>.json`` (atomically).
When the episode ends the checkpoint is dropped. When the run is interrupted (Ctrl-C), the
proposer's ``close`` appends every checkpoint to ``trajectories.jsonl`` with
``end_reason = "interrupted"``; after ``kill -9`` the next proposer on the same run
directory (``evolve --resume``) does the same when it starts. Such lines have no outcome
and a null reward.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from agent.trajectory import TrajectoryWriter

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"


class EpisodeInterrupted(Exception):
    """Raised inside an episode's thread to stop it at the next turn (the run is being interrupted)."""


class InflightEpisodes:
    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir) / "agent" / "inflight"
        self._lock = threading.Lock()

    def save(self, episode_id: str, record: dict[str, Any]) -> None:
        """Replace the checkpoint of ``episode_id`` with ``record`` (a trajectory record so far)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        data = json.dumps(record, ensure_ascii=False, allow_nan=False, default=str)
        fd, tmp = tempfile.mkstemp(prefix=f".{episode_id}.", dir=self.dir)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, self.dir / f"{episode_id}.json")

    def done(self, episode_id: str) -> None:
        """The episode ended normally: its own trajectory line is (or will be) written."""
        (self.dir / f"{episode_id}.json").unlink(missing_ok=True)

    def flush(self, writer: TrajectoryWriter) -> int:
        """Append every checkpoint to the trajectory file as an interrupted episode; returns how many."""
        with self._lock:
            n = 0
            for path in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError) as exc:
                    log.warning("%s: unreadable episode checkpoint (%s); left in place", path, exc)
                    continue
                record.update(end_reason=INTERRUPTED, outcome=None, reward=None, proposal_name=None,
                              error=record.get("error") or "the run was interrupted during this episode")
                writer.write(record)
                path.unlink(missing_ok=True)
                n += 1
            if n:
                log.warning("saved %d interrupted agent episode(s) to %s", n, writer.path)
            return n
