"""The space of policy structures the built-in proposer searches.

A :class:`Genome` fixes a policy's *structure*; Optuna tunes its constants and
:mod:`evolve.builtin.render` writes it as readable source. The axes are what the lost-sales
and forecasting literature knows works:

- **forecast** of demand over the protection period: moving average, exponential smoothing,
  a regression on declared features, a local linear trend, or the intermittent-demand
  methods Croston, SBA (Syntetos-Boylan) and TSB (Teunter-Syntetos-Babai);
- **weekday** seasonality (a multiplicative profile, or dummies in the regression),
  **lifts** from binary features announced ahead (promotions, holidays) applied to the
  protection-period days on which they are on, and a **reset** of the history after a
  detected level shift;
- **protection** level: normal (``a * expected + z * error * sqrt(days)``) or an empirical
  quantile of past demand totals over the same number of days;
- **position** compared with the target: the inventory position (order-up-to), the
  on-hand projected to the arrival of today's order with lost sales (PIL; with the
  quantile protection this is the myopic newsvendor rule), or a dual index (a second
  target on the stock arriving within ``tau`` days, the capped dual-index policy);
- **shape** of the order: the full gap, a proportional share of it (PIC), or an order
  smoothed around the forecast (proportional order-up-to);
- **cap**: none, fixed (CBS), tilted (``r0 + gamma * gap``; with the proportional shape this
  is Tilted-PIC) or relative to the forecast.

:meth:`Genome.canonical` maps genomes that render to the same policy for a workspace onto
one form, so that near-duplicates are rejected before anything is tuned.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from enum import Enum

from inventory.sequence import Availability, FeatureKind, FeatureSpec


class Forecast(str, Enum):
    MA = "ma"
    EWMA = "ewma"
    REGRESSION = "regression"
    TREND = "trend"
    CROSTON = "croston"
    SBA = "sba"
    TSB = "tsb"


class Protection(str, Enum):
    NORMAL = "normal"
    QUANTILE = "quantile"


class Position(str, Enum):
    IP = "ip"
    PROJECTED = "projected"
    DUAL = "dual"


class Shape(str, Enum):
    FULL = "full"
    PROPORTIONAL = "proportional"
    SMOOTHED = "smoothed"


class Cap(str, Enum):
    NONE = "none"
    FIXED = "fixed"
    TILTED = "tilted"
    RELATIVE = "relative"


INTERMITTENT = (Forecast.CROSTON, Forecast.SBA, Forecast.TSB)
WINDOWS = (7, 14, 28, 56, 112, 0)  # days of history; 0 = all
_ENUMS = {"forecast": Forecast, "protection": Protection, "position": Position, "shape": Shape, "cap": Cap}


@dataclass(frozen=True)
class Genome:
    forecast: Forecast = Forecast.MA
    window: int = 28
    features: tuple[str, ...] = ()   # regression inputs, or the announced features that lift demand
    weekday: bool = False
    lifts: bool = False
    reset: bool = False
    protection: Protection = Protection.NORMAL
    position: Position = Position.IP
    cover: int = 1                   # days the projected position's target covers (1 or 2)
    shape: Shape = Shape.FULL
    cap: Cap = Cap.NONE

    def __post_init__(self) -> None:
        for name, enum in _ENUMS.items():
            object.__setattr__(self, name, enum(getattr(self, name)))
        object.__setattr__(self, "features", tuple(self.features))

    def key(self) -> str:
        raw = {k: (v.value if isinstance(v, Enum) else v) for k, v in asdict(self).items()}
        raw["features"] = list(self.features)
        return json.dumps(raw, sort_keys=True)

    @classmethod
    def from_key(cls, key: str) -> "Genome":
        raw = json.loads(key)
        known = {f.name for f in fields(cls)}
        if not isinstance(raw, dict) or set(raw) - known:
            raise ValueError(f"not a genome key: {key!r}")
        raw["features"] = tuple(raw.get("features", ()))
        return cls(**raw)

    def canonical(self, specs: tuple[FeatureSpec, ...], lead_time: int, n_days: int | None = None) -> "Genome":
        """The genome with every field that cannot change the rendered policy set to its default.

        ``n_days`` (the replay window's length) makes windows at least that long "all days".
        """
        g = self
        if n_days is not None and g.window >= n_days:
            g = replace(g, window=0)
        lift_names = lift_features(specs)
        if g.forecast is Forecast.REGRESSION:
            g = replace(g, lifts=False, features=tuple(sorted(f for f in g.features if f in usable_features(specs))))
        elif g.lifts and lift_names:
            g = replace(g, features=lift_names)
        else:
            g = replace(g, lifts=False, features=())
        if lead_time < 1 and g.position is not Position.IP:
            g = replace(g, position=Position.IP)          # nothing in transit: every position is on-hand
        if lead_time < 2 and g.position is Position.DUAL:
            g = replace(g, position=Position.IP)          # no second position to index with L <= 1
        if g.position is not Position.PROJECTED:
            g = replace(g, cover=1)
        return g

    def describe(self) -> str:
        span = f"{self.window or 'all'} days"
        fc = {
            Forecast.MA: f"moving average over {span}",
            Forecast.EWMA: f"exponential smoothing over {span}",
            Forecast.REGRESSION: f"regression on {', '.join(self.features) or 'a level'} over {span}",
            Forecast.TREND: f"local linear trend over {span}",
            Forecast.CROSTON: f"Croston's intermittent-demand rate over {span}",
            Forecast.SBA: f"SBA intermittent-demand rate over {span}",
            Forecast.TSB: f"TSB intermittent-demand rate over {span}",
        }[self.forecast]
        target = {
            Position.IP: "order-up-to on the inventory position",
            Position.PROJECTED: f"target {self.cover} day(s) of demand at arrival over the projected on-hand",
            Position.DUAL: "dual index (full and near positions)",
        }[self.position]
        article = "an" if fc[0] in "aeiou" else "a"
        parts = [f"{target}, from {article} {fc}"]
        if self.weekday:
            parts.append("weekday profile")
        if self.lifts and self.features:
            parts.append(f"lifts from announced {', '.join(self.features)}")
        if self.reset:
            parts.append("level reset after a shift")
        if self.protection is Protection.QUANTILE:
            parts.append("quantile protection")
        if self.shape is not Shape.FULL:
            parts.append(f"{self.shape.value} order")
        if self.cap is not Cap.NONE:
            parts.append(f"{self.cap.value} cap")
        return ", ".join(parts)


def usable_features(specs: tuple[FeatureSpec, ...]) -> tuple[str, ...]:
    """Numeric/binary features the regression can use (text is left to LLM proposers)."""
    return tuple(s.name for s in specs if s.kind in (FeatureKind.NUMERIC, FeatureKind.BINARY))


def forward_features(specs: tuple[FeatureSpec, ...]) -> tuple[str, ...]:
    """Usable features known on the decision day (same-day or announced ahead)."""
    return tuple(s.name for s in specs if s.name in usable_features(specs)
                 and s.availability is not Availability.AFTER_DAY)


def lift_features(specs: tuple[FeatureSpec, ...]) -> tuple[str, ...]:
    """Binary features announced ahead (promotions, holidays): they can lift protection-period days."""
    return tuple(sorted(s.name for s in specs if s.kind is FeatureKind.BINARY
                        and s.availability is Availability.KNOWN_AHEAD))
