"""Typed records of the trusted evaluator: statuses, per-candidate results, tuning outcomes.

``EvalRecord`` is persisted as one JSON line per candidate (``candidates.jsonl``); its
``status`` is an :class:`EvalStatus`, a ``str`` enum, so the line reads ``"status": "ok"``
exactly as older run directories do and those still load on resume.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Mapping

import numpy as np


class EvalStatus(str, Enum):
    """Outcome of one trusted evaluation."""

    OK = "ok"              # tuned and replayed; the numbers are trusted
    INVALID = "invalid"    # refused by the static validator; never ran
    FAILED = "failed"      # ran and failed: raised, bad order, limit, deadline or wall-time budget


@dataclass
class EvalRecord:
    """Trusted result for one candidate.

    ``params`` and ``tuned_cost`` come from tuning in an untrusted host: they only steer
    the search. ``replay_cost``/``replay_costs`` come from the fresh, data-free trusted
    replay and are the only numbers that decide anything. ``vectorised`` is the calling
    convention learnt while tuning (a hint that is harmless to trust: the policy controls
    its own code in either convention); the replay uses it so both see the same calls.
    """

    candidate_id: str
    name: str
    source_hash: str
    status: EvalStatus
    error: str | None = None
    params: dict[str, float] = field(default_factory=dict)
    tuned_cost: float | None = None
    replay_cost: float | None = None
    replay_costs: list[float] = field(default_factory=list)
    seconds: float = 0.0
    vectorised: bool | None = None

    def __post_init__(self) -> None:
        self.status = EvalStatus(self.status)

    @property
    def ok(self) -> bool:
        return self.status is EvalStatus.OK

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "EvalRecord":
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


@dataclass(frozen=True)
class TuneOutcome:
    """What tuning in an untrusted host produced: parameters to freeze, nothing that decides.

    ``value`` is the best mean replay cost the host reported over the tuning window; it
    steers the search only. ``days`` is the window tuned on (``None``: the whole replay).
    """

    params: dict[str, float]
    value: float
    n_trials: int
    seed: int
    vectorised: bool | None
    seconds: float
    days: tuple[int, int] | None = None


@dataclass(frozen=True)
class ForwardResult:
    """Trusted replay over replay + forward days. ``error`` is set when the policy failed;
    then ``forward_costs`` is empty and ``forward_cost`` is None."""

    replay_costs: np.ndarray
    forward_costs: np.ndarray
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def forward_cost(self) -> float | None:
        return float(self.forward_costs.mean()) if self.ok and len(self.forward_costs) else None
