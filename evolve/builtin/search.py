"""Search operators over :class:`Genome`: first-round seeds, mutations and crossover.

All operators are pure functions of their inputs and a ``random.Random``, so the proposer
that uses them is deterministic for a given run seed and round.
"""
from __future__ import annotations

import random
from dataclasses import fields, replace

import numpy as np

from evolve.builtin.genome import (
    WINDOWS, Cap, Forecast, Genome, Position, Protection, Shape, forward_features,
    lift_features, usable_features,
)
from inventory.sequence import FeatureSpec


def seeds(specs: tuple[FeatureSpec, ...], demand: np.ndarray | None = None) -> list[Genome]:
    """First-round structures, strongest first for the kind of demand in the replay window.

    ``demand`` (the agent-visible replay demand) decides whether intermittent-demand
    forecasts lead: more than a third of the days without demand.
    """
    fwd = forward_features(specs)[:6]
    lifts = lift_features(specs)
    out: list[Genome] = []
    if fwd:
        out.append(Genome(Forecast.REGRESSION, 56, fwd, True, cap=Cap.TILTED))
        out.append(Genome(Forecast.REGRESSION, 0, fwd, True, shape=Shape.PROPORTIONAL))
    if lifts:
        out.append(Genome(Forecast.MA, 28, lifts, True, lifts=True, cap=Cap.TILTED))
    intermittent = demand is not None and len(demand) and float(np.mean(np.asarray(demand) <= 0)) > 1 / 3
    sparse = [Genome(Forecast.SBA, 56, cap=Cap.FIXED), Genome(Forecast.TSB, 56, protection=Protection.QUANTILE),
              Genome(Forecast.CROSTON, 0, shape=Shape.PROPORTIONAL, cap=Cap.TILTED)]
    if intermittent:
        out[:0] = sparse
    out += [
        Genome(Forecast.MA, 0, shape=Shape.PROPORTIONAL, cap=Cap.TILTED),                # Tilted-PIC
        Genome(Forecast.MA, 0, position=Position.PROJECTED, protection=Protection.QUANTILE,
               shape=Shape.PROPORTIONAL, cap=Cap.TILTED),                                  # myopic, damped
        Genome(Forecast.MA, 112, position=Position.PROJECTED, shape=Shape.PROPORTIONAL),   # PIL
        Genome(Forecast.MA, 0, position=Position.DUAL, cap=Cap.FIXED),                    # capped dual index
        Genome(Forecast.MA, 28, cap=Cap.TILTED),
        Genome(Forecast.EWMA, 0, weekday=True, cap=Cap.RELATIVE),
        Genome(Forecast.TREND, 28, reset=True, shape=Shape.SMOOTHED),
        Genome(Forecast.MA, 14, weekday=True, reset=True),
    ]
    if not intermittent:
        out += sparse[:1]
    uniq: list[Genome] = []
    for g in out:
        if g not in uniq:
            uniq.append(g)
    return uniq


def _choice(rng: random.Random, options, current):
    return rng.choice([o for o in options if o != current])


def mutate(g: Genome, specs: tuple[FeatureSpec, ...], rng: random.Random) -> Genome:
    """One structural edit of ``g``."""
    usable = usable_features(specs)
    ops = ["forecast", "window", "weekday", "reset", "protection", "position", "shape", "cap"]
    if g.forecast is Forecast.REGRESSION and usable:
        ops += ["feature", "feature"]
    if lift_features(specs) and g.forecast is not Forecast.REGRESSION:
        ops.append("lifts")
    if g.position is Position.PROJECTED:
        ops.append("cover")
    op = rng.choice(ops)
    if op == "forecast":
        choice = _choice(rng, list(Forecast), g.forecast)
        feats = (g.features or forward_features(specs)[:6]) if choice is Forecast.REGRESSION else g.features
        return replace(g, forecast=choice, features=tuple(feats))
    if op == "window":
        return replace(g, window=_choice(rng, WINDOWS, g.window))
    if op in ("weekday", "reset"):
        return replace(g, **{op: not getattr(g, op)})
    if op == "lifts":
        return replace(g, lifts=not g.lifts, features=lift_features(specs))
    if op == "protection":
        return replace(g, protection=_choice(rng, list(Protection), g.protection))
    if op == "position":
        return replace(g, position=_choice(rng, list(Position), g.position))
    if op == "cover":
        return replace(g, cover=3 - g.cover)
    if op == "shape":
        return replace(g, shape=_choice(rng, list(Shape), g.shape))
    if op == "cap":
        return replace(g, cap=_choice(rng, list(Cap), g.cap))
    name = rng.choice(usable)
    feats = tuple(f for f in g.features if f != name) if name in g.features else g.features + (name,)
    return replace(g, features=tuple(sorted(feats)))


# forecast-side and order-side genes travel together in crossover
_DEMAND_GENES = ("forecast", "window", "features", "weekday", "lifts", "reset")


def crossover(a: Genome, b: Genome, rng: random.Random) -> Genome:
    """A child with one parent's demand model and the other's order rule (or a uniform mix)."""
    if rng.random() < 0.5:
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        return replace(second, **{k: getattr(first, k) for k in _DEMAND_GENES})
    return Genome(**{f.name: getattr(a if rng.random() < 0.5 else b, f.name) for f in fields(Genome)})
