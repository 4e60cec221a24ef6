"""Demand sequences, feature declarations and the cost model they are replayed under.

A :class:`DemandSequence` is a window of daily demand with aligned exogenous features.
Each feature carries an :class:`Availability` that says from which day a policy may see
its value (SPEC §2); the simulator, not the policy, enforces it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

import numpy as np


class Availability(str, Enum):
    """When the value of day ``d`` becomes visible to a policy deciding on day ``t``."""

    AFTER_DAY = "after_day"      # visible once the day is over: d <= t - 1
    SAME_DAY = "same_day"        # visible on the day itself:    d <= t
    KNOWN_AHEAD = "known_ahead"  # announced ahead:              d <= t + horizon


class FeatureKind(str, Enum):
    NUMERIC = "numeric"
    BINARY = "binary"
    CATEGORICAL = "categorical"
    TEXT = "text"


@dataclass(frozen=True)
class FeatureSpec:
    """Declaration of one exogenous feature."""

    name: str
    kind: FeatureKind
    availability: Availability
    horizon: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"feature name {self.name!r} must be a Python identifier")
        if self.availability is Availability.KNOWN_AHEAD and self.horizon < 1:
            raise ValueError(f"feature {self.name!r}: known_ahead needs horizon >= 1")
        if self.availability is not Availability.KNOWN_AHEAD and self.horizon != 0:
            raise ValueError(f"feature {self.name!r}: horizon only applies to known_ahead")

    def visible_until(self, t: int) -> int:
        """Exclusive end index of the days whose value is visible when deciding on day t."""
        if self.availability is Availability.AFTER_DAY:
            return t
        if self.availability is Availability.SAME_DAY:
            return t + 1
        return t + 1 + self.horizon

    @property
    def is_text(self) -> bool:
        return self.kind is FeatureKind.TEXT


@dataclass(frozen=True)
class CostModel:
    """Lost-sales cost model of SPEC §1: holding h per unit left, penalty p per unit lost."""

    h: float
    p: float
    lead_time: int
    integer_orders: bool = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.h) and self.h >= 0):
            raise ValueError(f"holding cost h must be finite and >= 0, got {self.h}")
        if not (np.isfinite(self.p) and self.p > 0):
            raise ValueError(f"penalty cost p must be finite and > 0, got {self.p}")
        if int(self.lead_time) != self.lead_time or self.lead_time < 0:
            raise ValueError(f"lead time must be an integer >= 0, got {self.lead_time}")

    @property
    def critical_ratio(self) -> float:
        return self.p / (self.p + self.h)


@dataclass
class DemandSequence:
    """Daily demand with aligned features; arrays share the same length."""

    dates: list[str]
    demand: np.ndarray
    features: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.demand = np.asarray(self.demand, dtype=float)
        n = len(self.demand)
        if len(self.dates) != n:
            raise ValueError(f"dates has {len(self.dates)} entries but demand has {n}")
        if not np.all(np.isfinite(self.demand)) or np.any(self.demand < 0):
            raise ValueError("demand must be finite and non-negative")
        for name, values in list(self.features.items()):
            arr = np.asarray(values)
            if arr.dtype.kind in "US":
                arr = arr.astype(object)
            if len(arr) != n:
                raise ValueError(f"feature {name!r} has {len(arr)} values but demand has {n}")
            self.features[name] = arr

    def __len__(self) -> int:
        return len(self.demand)

    def concat(self, other: "DemandSequence") -> "DemandSequence":
        if set(self.features) != set(other.features):
            raise ValueError("cannot concatenate sequences with different feature sets")
        return DemandSequence(
            dates=list(self.dates) + list(other.dates),
            demand=np.concatenate([self.demand, other.demand]),
            features={k: np.concatenate([self.features[k], other.features[k]]) for k in self.features},
        )

    def slice(self, start: int, stop: int) -> "DemandSequence":
        return DemandSequence(
            dates=list(self.dates[start:stop]),
            demand=self.demand[start:stop].copy(),
            features={k: v[start:stop].copy() for k, v in self.features.items()},
        )


def check_features_declared(seq: DemandSequence, specs: Iterable[FeatureSpec]) -> None:
    """Raise if the sequence's features and the declarations disagree."""
    declared = {s.name for s in specs}
    present = set(seq.features)
    if declared != present:
        missing = sorted(declared - present)
        extra = sorted(present - declared)
        raise ValueError(f"feature mismatch: declared but missing {missing}, present but undeclared {extra}")
