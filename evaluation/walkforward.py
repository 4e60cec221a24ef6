"""Out-of-sample replay gains: walk-forward (rolling-origin) folds and 2-fold cross-fitting.

Certifying a candidate on the days it was tuned and selected on overstates its gain (SPEC
§4, out-of-sample rule). Walk-forward replay does what deployment does: tune on the history
before an origin, run the frozen policy for the next h days (the deployment horizon), roll
the origin forward, and concatenate the scored segments. Every policy, the reference
included, is scored the same way, so the per-day gains on the scored days are
out-of-sample for every pair.

This module owns only the schedule and the bookkeeping. It drives two callables that the
caller builds from the trusted evaluator:

- ``tune(days: slice) -> params``: tune the candidate on replay days ``days`` only (the
  host that tunes holds nothing else);
- ``replay(params, stop: int) -> costs``: trusted per-day costs of the frozen policy on
  replay days ``0 .. stop-1`` (the days before a segment warm the policy's state and
  history up; only the segment's days are kept).

A fold never hands ``tune`` a day it scores (checked here, and by a planted look-ahead
test). Cross-fitting (tune on one half, score the other, then swap) scores every day
with two tunings, but the second fold tunes on days *after* the ones it scores, which is
sound only for stationary demand; it is offered for measurement, walk-forward is the
default.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Mapping

import numpy as np

from inventory.policy import PolicyProgram
from inventory.replay import ReplayProblem
from inventory.simulator import simulate
from inventory.tuning import TuningConfig, tune_policy

Params = Mapping[str, float]
TuneFn = Callable[[slice], Params]
ReplayFn = Callable[[Params, int], np.ndarray]

DEFAULT_MAX_FOLDS = 4


class Scheme(str, Enum):
    WALK_FORWARD = "walk_forward"
    CROSS_FIT = "cross_fit"


@dataclass(frozen=True)
class Fold:
    """Tune on ``tune_days``, score the frozen policy on ``score_days`` (replay-day slices)."""

    tune_days: slice
    score_days: slice

    def __post_init__(self) -> None:
        t, s = self.tune_days, self.score_days
        if not (0 <= t.start < t.stop and 0 <= s.start < s.stop):
            raise ValueError(f"fold has an empty or negative range: tune {t}, score {s}")
        if t.start < s.stop and s.start < t.stop:
            raise ValueError(f"fold tunes on days it scores: tune {t}, score {s}")


@dataclass(frozen=True)
class Plan:
    """An out-of-sample schedule over a replay window of ``n_days`` days."""

    scheme: Scheme
    n_days: int
    folds: tuple[Fold, ...]

    def __post_init__(self) -> None:
        seen = np.zeros(self.n_days, dtype=bool)
        for f in self.folds:
            if f.score_days.stop > self.n_days or f.tune_days.stop > self.n_days:
                raise ValueError(f"fold {f} reaches past the window's {self.n_days} days")
            if seen[f.score_days].any():
                raise ValueError(f"fold {f} scores a day another fold already scores")
            seen[f.score_days] = True

    @property
    def scored(self) -> np.ndarray:
        """Replay-day index of every scored day, ascending (the order of the gains)."""
        return np.sort(np.concatenate([np.arange(f.score_days.start, f.score_days.stop)
                                       for f in self.folds]))

    @property
    def first_day(self) -> int:
        return int(self.scored.min())

    @property
    def last_day(self) -> int:
        return int(self.scored.max())

    def describe(self) -> str:
        parts = ", ".join(f"tune {f.tune_days.start}-{f.tune_days.stop - 1} -> score "
                          f"{f.score_days.start}-{f.score_days.stop - 1}" for f in self.folds)
        return f"{self.scheme.value} over {self.n_days} replay days: {parts}"


def walk_forward_plan(n_days: int, horizon: int, *, min_history: int | None = None,
                      max_folds: int = DEFAULT_MAX_FOLDS) -> Plan:
    """Origins counted back from the end of the window, ``horizon`` days apart.

    The last segment ends on the last replay day, so the final fold is exactly the
    deployment situation (all history before, ``horizon`` days ahead). Origins are placed
    while at least ``min_history`` days (default n_days // 3, at least 14) stay before the
    earliest one. When that would need more than ``max_folds`` tunings the segments are
    lengthened evenly instead (a frozen policy run longer than the horizon can only look
    worse, never better). Raises ``ValueError`` when not even one fold fits.
    """
    if n_days < 2 or horizon < 1 or max_folds < 1:
        raise ValueError(f"need n_days >= 2, horizon >= 1, max_folds >= 1; got {n_days}, {horizon}, {max_folds}")
    history = max(n_days // 3, 14) if min_history is None else int(min_history)
    if history < 1 or history >= n_days:
        raise ValueError(f"min_history must lie in 1..{n_days - 1}, got {history}")
    available = n_days - history
    folds = min(max(available // horizon, 1), max_folds)
    step = max(horizon, available // folds) if available >= horizon else available
    origins = [n_days - step * (i + 1) for i in range(folds)]
    origins = [o for o in origins if o >= history] or [history]
    origins.sort()
    bounds = origins + [n_days]
    return Plan(Scheme.WALK_FORWARD, n_days, tuple(
        Fold(slice(0, o), slice(o, e)) for o, e in zip(bounds[:-1], bounds[1:])))


def cross_fit_plan(n_days: int) -> Plan:
    """Two folds: tune on the first half, score the second; tune on the second, score the first."""
    if n_days < 4:
        raise ValueError(f"cross-fitting needs at least 4 days, got {n_days}")
    mid = n_days // 2
    return Plan(Scheme.CROSS_FIT, n_days, (Fold(slice(0, mid), slice(mid, n_days)),
                                           Fold(slice(mid, n_days), slice(0, mid))))


@dataclass(frozen=True)
class OutOfSample:
    """Out-of-sample per-day costs of one policy over ``plan.scored`` days."""

    plan: Plan
    costs: np.ndarray
    params: tuple[dict[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.plan.scheme.value, "n_days": self.plan.n_days,
                "folds": [[f.tune_days.start, f.tune_days.stop, f.score_days.start, f.score_days.stop]
                          for f in self.plan.folds],
                "costs": [float(c) for c in self.costs], "params": [dict(p) for p in self.params]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "OutOfSample":
        folds = tuple(Fold(slice(a, b), slice(c, d)) for a, b, c, d in raw["folds"])
        plan = Plan(Scheme(raw["scheme"]), int(raw["n_days"]), folds)
        return cls(plan, np.asarray(raw["costs"], dtype=float),
                   tuple({k: float(v) for k, v in p.items()} for p in raw["params"]))


def out_of_sample(tune: TuneFn, replay: ReplayFn, plan: Plan) -> OutOfSample:
    """Run ``plan``: per fold, tune on its days, replay frozen, keep its scored days."""
    costs = np.full(plan.n_days, np.nan)
    params = []
    for fold in plan.folds:
        fitted = {k: float(v) for k, v in dict(tune(fold.tune_days)).items()}
        stop = fold.score_days.stop
        path = np.asarray(replay(fitted, stop), dtype=float)
        if path.shape != (stop,):
            raise ValueError(f"replay returned {path.shape[0] if path.ndim else 0} day(s) of costs "
                             f"for days 0..{stop - 1}; expected {stop}")
        costs[fold.score_days] = path[fold.score_days]
        params.append(fitted)
    return OutOfSample(plan, costs[plan.scored], tuple(params))


def segment_slices(plan: Plan) -> list[slice]:
    """The scored replay-day ranges of ``plan``, one per fold (for window gaps)."""
    return [f.score_days for f in plan.folds]


class InProcessFolds:
    """``tune`` and ``replay`` callables for trusted library code run in this process.

    Used by tests and simulation benchmarks (and by ``--sandbox none``). ``tune`` builds a
    replay problem holding only the requested days, so nothing it runs can see another day.
    """

    def __init__(self, program: PolicyProgram, problem: ReplayProblem, tuning: TuningConfig):
        self.program, self.problem, self.tuning = program, problem, tuning

    def tune(self, days: slice) -> dict[str, float]:
        p = self.problem
        sub = ReplayProblem(p.seq.slice(days.start, days.stop), p.specs, p.model, p.init)
        return tune_policy(self.program, sub, self.tuning, study_name=f"days-{days.start}-{days.stop}").params

    def replay(self, params: Params, stop: int) -> np.ndarray:
        p = self.problem
        batch = {k: np.array([float(v)]) for k, v in params.items()}
        return simulate(self.program, p.seq.slice(0, stop), p.specs, p.model, batch, init=p.init).costs[0]
