"""The space of policy structures the built-in proposer searches, and its mutations.

A :class:`Genome` fixes a policy's *structure*: how it forecasts demand over the protection
period (moving average, exponential smoothing, or a regression on declared features with a
recency window), how it turns the forecast into an order-up-to level, and how it shapes the
order (proportional gain, cap, tilted cap). Optuna tunes the constants; the genome is
rendered to readable source by :mod:`evolve.builtin.render`.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, replace

from inventory.sequence import Availability, FeatureKind, FeatureSpec

FORECASTS = ("ma", "ewma", "regression")
CAPS = ("none", "fixed", "tilted", "relative")
WINDOWS = (7, 14, 28, 56, 0)  # 0 = all history


@dataclass(frozen=True)
class Genome:
    forecast: str = "ma"
    window: int = 28
    features: tuple[str, ...] = ()
    weekday: bool = False
    cap: str = "none"
    proportional: bool = False

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_key(cls, key: str) -> "Genome":
        raw = json.loads(key)
        raw["features"] = tuple(raw["features"])
        return cls(**raw)

    def describe(self) -> str:
        fc = {"ma": f"moving average over {self.window or 'all'} days",
              "ewma": "exponential smoothing",
              "regression": f"regression on {', '.join(self.features) or 'a level'} over {self.window or 'all'} days"}[self.forecast]
        parts = [f"order-up-to from a {fc}"]
        if self.weekday:
            parts.append("weekday profile")
        if self.proportional:
            parts.append("proportional gain")
        if self.cap != "none":
            parts.append(f"{self.cap} cap")
        return ", ".join(parts)


def usable_features(specs: tuple[FeatureSpec, ...]) -> tuple[str, ...]:
    """Numeric/binary features the regression can use (text is left to LLM proposers)."""
    return tuple(s.name for s in specs if s.kind in (FeatureKind.NUMERIC, FeatureKind.BINARY))


def forward_features(specs: tuple[FeatureSpec, ...]) -> tuple[str, ...]:
    """Usable features known on the decision day (same-day or announced ahead)."""
    return tuple(s.name for s in specs if s.name in usable_features(specs)
                 and s.availability is not Availability.AFTER_DAY)


def seeds(specs: tuple[FeatureSpec, ...]) -> list[Genome]:
    """First-round structures, strongest first."""
    fwd = forward_features(specs)[:6]
    out = [
        Genome("regression", 56, fwd, True, "tilted", False),
        Genome("ma", 28, (), False, "tilted", False),
        Genome("regression", 0, fwd, True, "none", True),
        Genome("ewma", 0, (), True, "relative", False),
        Genome("regression", 28, fwd, False, "fixed", False),
        Genome("ma", 14, (), True, "none", False),
    ]
    uniq: list[Genome] = []
    for g in out:
        if g not in uniq:
            uniq.append(g)
    return uniq


def mutate(g: Genome, specs: tuple[FeatureSpec, ...], rng: random.Random) -> Genome:
    """One structural edit of ``g``."""
    usable = usable_features(specs)
    ops = ["forecast", "window", "weekday", "cap", "proportional"]
    if g.forecast == "regression" and usable:
        ops += ["feature", "feature"]
    op = rng.choice(ops)
    if op == "forecast":
        choice = rng.choice([f for f in FORECASTS if f != g.forecast])
        feats = g.features or forward_features(specs)[:6] if choice == "regression" else g.features
        return replace(g, forecast=choice, features=tuple(feats))
    if op == "window":
        return replace(g, window=rng.choice([w for w in WINDOWS if w != g.window]))
    if op == "weekday":
        return replace(g, weekday=not g.weekday)
    if op == "cap":
        return replace(g, cap=rng.choice([c for c in CAPS if c != g.cap]))
    if op == "proportional":
        return replace(g, proportional=not g.proportional)
    name = rng.choice(usable)
    feats = tuple(f for f in g.features if f != name) if name in g.features else g.features + (name,)
    return replace(g, features=tuple(sorted(feats)))
