"""The probe grid: synthetic decision-time observations built from the replay window.

A probe state is a real day ``t`` of the replay window (its demand history and feature
values, revealed exactly as the simulator would reveal them) with the inventory state
replaced by a grid point, and optionally one feature switched or the date moved to another
weekday. Observations are built with :class:`inventory.observation.Reveal`, so a probe can
never show a policy more than it could see on that day.

Position families: ``on_hand`` (all stock on hand, empty pipeline) and, for L >= 2,
``split`` (half on hand, half spread evenly over the pipeline).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from inventory.observation import Observation, Reveal
from inventory.sequence import Availability, CostModel, DemandSequence, FeatureKind, FeatureSpec

BASE = "base"
# Monday .. Sunday multipliers of the synthetic weekly history (mean 1): a clear weekend peak.
WEEKLY_PATTERN = np.array([0.7, 0.8, 0.9, 1.0, 1.2, 1.6, 0.8])


@dataclass(frozen=True)
class ProbeState:
    day: int
    position: float
    family: str = "on_hand"
    variant: str = BASE          # base | feature:<name>=<value> | weekday:+k | weekly:+k


@dataclass(frozen=True)
class FeatureLevels:
    """The values a feature is switched between, and which of them counts as 'on'."""

    name: str
    values: tuple[object, ...]
    labels: tuple[str, ...]
    on_label: str | None         # label of the 'on' value for binary/numeric features


def probe_days(n: int, k: int) -> list[int]:
    lo = min(max(14, n // 4), n - 1)
    return sorted({int(round(x)) for x in np.linspace(lo, n - 1, k)})


def positions(p_max: float, k: int, integer: bool) -> np.ndarray:
    pts = np.linspace(0.0, max(p_max, 1.0), k)
    return np.unique(np.rint(pts)) if integer else pts


def feature_levels(spec: FeatureSpec, values: np.ndarray) -> FeatureLevels | None:
    """Levels to switch between; None when the replay window holds one value only."""
    if spec.kind is FeatureKind.BINARY:
        return FeatureLevels(spec.name, (0.0, 1.0), ("off", "on"), "on")
    if spec.kind is FeatureKind.NUMERIC:
        arr = np.asarray(values, dtype=float)
        lo, hi = float(arr.min()), float(arr.max())
        return None if lo == hi else FeatureLevels(spec.name, (lo, hi), (f"low={lo:g}", f"high={hi:g}"), f"high={hi:g}")
    uniq, counts = np.unique(np.asarray(values).astype(str) if values.dtype == object else values, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    keep = 7 if spec.kind is FeatureKind.CATEGORICAL else 2
    picked = [uniq[i] for i in order[:keep]]
    if len(picked) < 2:
        return None
    if values.dtype != object:
        picked = sorted(float(v) for v in picked)
    labels = tuple(str(v) if not isinstance(v, float) else f"{v:g}" for v in picked)
    return FeatureLevels(spec.name, tuple(picked), labels, None)


def override_days(spec: FeatureSpec, t: int, n: int) -> range:
    """The days whose value of ``spec`` a policy deciding on day ``t`` can see last or ahead."""
    if spec.availability is Availability.AFTER_DAY:
        return range(max(t - 1, 0), t)
    return range(t, min(spec.visible_until(t), n))


class GridBuilder:
    """Builds observations for probe states on one replay window."""

    def __init__(self, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel):
        self.seq, self.specs, self.model = seq, tuple(specs), model
        self._by_name = {s.name: s for s in self.specs}
        self._weekly: DemandSequence | None = None

    def weekly_history(self) -> DemandSequence:
        """The replay window with its demand replaced by a noiseless, strong weekly pattern.

        Demand on each date is the window's mean times :data:`WEEKLY_PATTERN` of its weekday,
        so a rule that models weekdays must order differently on different weekdays, while a
        rule that averages whole weeks sees the same level every day.
        """
        if self._weekly is None:
            dow = np.array([(int(np.datetime64(d, "D").astype(np.int64)) + 3) % 7 for d in self.seq.dates])
            demand = self.seq.demand.mean() * WEEKLY_PATTERN[dow]
            if self.model.integer_orders:
                demand = np.rint(demand)
            self._weekly = DemandSequence(self.seq.dates, demand, dict(self.seq.features))
        return self._weekly

    def observation(self, state: ProbeState, overrides: dict[str, object] | None = None,
                    date_shift: int = 0, weekly: bool = False) -> Observation:
        seq = self.weekly_history() if weekly else self.seq
        if overrides:
            feats = dict(seq.features)
            for name, value in overrides.items():
                arr = feats[name].copy()
                days = override_days(self._by_name[name], state.day, len(seq))
                arr[days.start:days.stop] = value
                feats[name] = arr
            seq = DemandSequence(seq.dates, seq.demand, feats)
        reveal = Reveal(seq, self.specs)
        reveal.advance_to(state.day)
        on_hand, pipe = self.split(state)
        date = self.seq.dates[state.day]
        if date_shift:
            date = str(np.datetime64(date, "D") + date_shift)
        m = self.model
        return Observation(t=state.day, date=date, on_hand=on_hand, pipeline=pipe,
                           position=float(on_hand + pipe.sum()), demand=reveal.demand(state.day),
                           features=reveal.features(), h=m.h, p=m.p, lead_time=m.lead_time)

    def split(self, state: ProbeState) -> tuple[float, np.ndarray]:
        slots = max(self.model.lead_time - 1, 0)
        if state.family == "split" and slots:
            return state.position / 2, np.full(slots, state.position / 2 / slots)
        return float(state.position), np.zeros(slots)

    def families(self) -> tuple[str, ...]:
        return ("on_hand", "split") if self.model.lead_time >= 2 else ("on_hand",)
