"""What a policy sees when it decides on day ``t`` (SPEC §2).

The simulator owns a :class:`Reveal`: buffers that are filled day by day, so the arrays a
policy receives are views of memory that does not yet hold any future value. A policy
cannot peek at ``D_t`` or later, or at a feature before its declared availability, through
slicing, ``.base`` or anything else: the numbers are simply not there yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from inventory.sequence import DemandSequence, FeatureSpec


class Reveal:
    """Day-by-day disclosure of a sequence's demand and features."""

    def __init__(self, seq: DemandSequence, specs: Sequence[FeatureSpec]):
        self._seq = seq
        self._specs = {s.name: s for s in specs}
        n = len(seq)
        self._demand = np.full(n, np.nan)
        self._features: dict[str, np.ndarray] = {}
        self._shown: dict[str, int] = {}
        for name, spec in self._specs.items():
            src = seq.features[name]
            buf = np.empty(n, dtype=object) if (spec.is_text or src.dtype == object) else np.full(n, np.nan)
            self._features[name] = buf
            self._shown[name] = 0
        self._t = 0

    def advance_to(self, t: int) -> None:
        """Make everything visible at decision time of day ``t`` (demand up to t-1)."""
        if t < self._t:
            raise ValueError("Reveal only moves forward")
        n = len(self._seq)
        self._demand[self._t:t] = self._seq.demand[self._t:t]
        for name, spec in self._specs.items():
            end = min(spec.visible_until(t), n)
            start = self._shown[name]
            if end > start:
                self._features[name][start:end] = self._seq.features[name][start:end]
                self._shown[name] = end
        self._t = t

    def demand(self, t: int) -> np.ndarray:
        return _readonly(self._demand[:t])

    def features(self) -> dict[str, np.ndarray]:
        return {name: _readonly(buf[: self._shown[name]]) for name, buf in self._features.items()}


def _readonly(view: np.ndarray) -> np.ndarray:
    view = view.view()
    view.flags.writeable = False
    return view


@dataclass
class Observation:
    """State and information at decision time of day ``t``.

    Attributes:
        t: index of today in the replayed sequence (0-based). ``demand`` has ``t`` entries.
        date: today's date, ISO format.
        on_hand: units on hand after today's arrival (array of shape (n,) when vectorised).
        pipeline: orders placed but not yet arrived, oldest first, shape (n, L-1)
            (a 1-D array of length L-1 in scalar mode). Empty when L <= 1.
        position: inventory position = on_hand + pipeline total.
        demand: realised demand of days 0 .. t-1.
        features: name -> values visible now, indexed by day (``features[f][t]`` is today's
            value when ``f`` is same-day or known ahead; after-day features end at t-1).
        h, p, lead_time: cost parameters.
    """

    t: int
    date: str
    on_hand: np.ndarray | float
    pipeline: np.ndarray
    position: np.ndarray | float
    demand: np.ndarray
    features: Mapping[str, np.ndarray]
    h: float
    p: float
    lead_time: int
