"""Trajectory files: one JSON object per line per episode (format ``invevolve.trajectory/1``).

Written by :class:`agent.proposer.AgentProposer` to ``<run_dir>/agent/trajectories.jsonl``
once the trusted outcome of the episode's proposal is known (:meth:`Proposer.observe`), or
at once for episodes that produced no proposal, or at ``close()`` for proposals the loop
never reported on (their ``outcome`` is null). See ``docs/agent.md`` for every field.

:func:`read_trajectories` is what training code uses (SFT on improved trajectories, GRPO
rewards): it validates the format tag and returns typed :class:`Trajectory` records.
``reward`` is 1 only when the trusted evaluator found the submission valid and strictly
cheaper than the best baseline on the replay window, 0 when it did not, None when unknown.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

FORMAT = "invevolve.trajectory/1"


class TrajectoryFormatError(ValueError):
    """A line of a trajectory file is not a valid record; names file and line."""


@dataclass(frozen=True)
class TrajectoryOutcome:
    candidate_id: str
    status: str
    valid: bool
    replay_cost: float | None
    best_baseline_cost: float
    beats_best_baseline: bool
    message: str


@dataclass(frozen=True)
class Trajectory:
    episode_id: str
    workspace: str
    round: int
    model: str
    backend: str
    tool_protocol: str                   # "native" or "text" (re-render with agent.llm.text_protocol.render_messages)
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    turns: list[dict[str, Any]]
    usage: dict[str, Any]
    budget: int
    tool_calls_used: int
    end_reason: str
    submission: dict[str, Any] | None
    proposal_name: str | None
    outcome: TrajectoryOutcome | None
    reward: int | None
    seed: int | None = None
    error: str | None = None
    started_at: str = ""
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def submitted_source(self) -> str | None:
        return None if self.submission is None else self.submission.get("source")

    def turn_prompt_ids(self, index: int) -> list[int] | None:
        """Full prompt token ids of turn ``index`` (0-based), or None where the backend gave none."""
        return _turn_prompt_ids(self.turns, index)

    @property
    def improved(self) -> bool:
        """Paper's "improved" label: valid and strictly below the best baseline (trusted numbers)."""
        return self.reward == 1


def source_sha256(source: str | None) -> str | None:
    return None if source is None else hashlib.sha256(source.encode("utf-8")).hexdigest()


def reward_of(outcome: TrajectoryOutcome | None) -> int | None:
    if outcome is None:
        return None
    return int(bool(outcome.valid and outcome.beats_best_baseline))


class TrajectoryWriter:
    """Appends records to a JSONL file; thread-safe; each line is flushed.

    ``scrub`` (a :meth:`evaluation.redact.Redactor.scrub`) is applied to the whole record
    before it is written, so no host secret reaches the file whatever a field holds.
    """

    def __init__(self, path: Path, scrub: Callable[[Any], Any] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._scrub = scrub

    def write(self, record: dict[str, Any]) -> None:
        if record.get("format") != FORMAT:
            raise ValueError(f"refusing to write a record without format {FORMAT!r}")
        if self._scrub is not None:
            record = self._scrub(json.loads(json.dumps(record, default=_default)))
        line = json.dumps(record, ensure_ascii=False, allow_nan=False, default=_default)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


_REQUIRED = ("episode_id", "workspace", "round", "model", "backend", "tool_protocol", "tools", "messages", "steps",
             "turns", "usage", "budget", "tool_calls_used", "end_reason", "submission", "outcome", "reward")


def parse_record(raw: dict[str, Any], where: str = "record") -> Trajectory:
    if raw.get("format") != FORMAT:
        raise TrajectoryFormatError(f"{where}: format is {raw.get('format')!r}, expected {FORMAT!r}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise TrajectoryFormatError(f"{where}: missing fields {missing}")
    if not isinstance(raw["messages"], list) or not all(isinstance(m, dict) and "role" in m for m in raw["messages"]):
        raise TrajectoryFormatError(f"{where}: 'messages' must be a list of chat messages")
    out = raw["outcome"]
    try:
        outcome = None if out is None else TrajectoryOutcome(
            str(out["candidate_id"]), str(out["status"]), bool(out["valid"]),
            None if out["replay_cost"] is None else float(out["replay_cost"]), float(out["best_baseline_cost"]),
            bool(out["beats_best_baseline"]), str(out["message"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise TrajectoryFormatError(f"{where}: malformed 'outcome' ({exc})") from exc
    known = {f.name for f in dataclasses.fields(Trajectory)}
    extra = {k: v for k, v in raw.items() if k not in known and k != "format"}
    kwargs = {k: raw[k] for k in known if k in raw and k not in ("outcome", "extra")}
    kwargs.setdefault("proposal_name", None)
    try:
        return Trajectory(**kwargs, outcome=outcome, extra=extra)
    except TypeError as exc:
        raise TrajectoryFormatError(f"{where}: {exc}") from exc


def iter_trajectories(path: str | Path) -> Iterator[Trajectory]:
    """Records of ``path`` in file order (a blank last line is ignored)."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrajectoryFormatError(f"{path}:{i}: not JSON ({exc.msg})") from exc
            if not isinstance(raw, dict):
                raise TrajectoryFormatError(f"{path}:{i}: a record must be a JSON object")
            yield parse_record(raw, f"{path}:{i}")


def read_trajectories(path: str | Path) -> list[Trajectory]:
    """All records of a trajectory file (or of ``<dir>/agent/trajectories.jsonl`` when given a run directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / "agent" / "trajectories.jsonl"
    return list(iter_trajectories(p))


# ---------------------------------------------------------------- building records


def compress_prompt_ids(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace each turn's full ``prompt_token_ids`` by the part that is new.

    Turn k's prompt usually starts with turn k-1's prompt + completion; storing that shared
    prefix again would make the file quadratic in the episode length. Each turn keeps
    ``prompt_token_ids_prefix_len`` (tokens shared with the previous prompt + completion) and
    ``prompt_token_ids_tail``; :meth:`Trajectory.turn_prompt_ids` rebuilds the full list.
    """
    out, prev = [], None
    for t in turns:
        t = dict(t)
        ids = t.pop("prompt_token_ids", None)
        if ids is None:
            t["prompt_token_ids_prefix_len"], t["prompt_token_ids_tail"] = 0, None
            prev = None
        else:
            n = 0
            if prev is not None:
                limit = min(len(prev), len(ids))
                while n < limit and prev[n] == ids[n]:
                    n += 1
            t["prompt_token_ids_prefix_len"], t["prompt_token_ids_tail"] = n, ids[n:]
            prev = ids + list(t.get("completion_token_ids") or [])
        out.append(t)
    return out


def _turn_prompt_ids(turns: list[dict[str, Any]], index: int) -> list[int] | None:
    prev: list[int] | None = None
    for i, t in enumerate(turns[: index + 1]):
        tail = t.get("prompt_token_ids_tail")
        if tail is None:
            if "prompt_token_ids" in t:  # uncompressed record
                ids = list(t["prompt_token_ids"]) if t["prompt_token_ids"] is not None else None
            else:
                ids = None
        else:
            n = int(t.get("prompt_token_ids_prefix_len", 0))
            if n and prev is None:
                raise TrajectoryFormatError(f"turn {i}: prefix of {n} tokens but no previous turn ids")
            ids = (prev or [])[:n] + list(tail)
        if i == index:
            return ids
        prev = None if ids is None else ids + list(t.get("completion_token_ids") or [])
    raise IndexError(index)

