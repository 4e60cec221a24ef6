"""Vectorised lost-sales replay (SPEC §1).

One call replays a demand sequence for ``n`` parameter sets at once: state arrays have
shape ``(n,)`` and the policy is called once per day with all of them. Policies that only
work on scalars are detected and replayed one parameter set at a time (see
:func:`simulate`); both paths produce the same numbers.

Period order: arrival of the order placed L days ago; decision; demand; cost
``h * on_hand_end + p * lost``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from inventory.observation import Observation, Reveal
from inventory.policy import PolicyError, PolicyProgram, params_for_row
from inventory.sequence import CostModel, DemandSequence, FeatureSpec

log = logging.getLogger(__name__)

OrderFn = Callable[[Observation, Mapping[str, object]], object]


@dataclass(frozen=True)
class InitialState:
    """On-hand at the start of day 0 and orders arriving on days 0 .. L-1."""

    on_hand: float = 0.0
    pipeline: tuple[float, ...] = ()

    def pipeline_for(self, lead_time: int) -> np.ndarray:
        pipe = np.zeros(lead_time)
        k = min(lead_time, len(self.pipeline))
        pipe[:k] = self.pipeline[:k]
        return pipe


@dataclass
class SimResult:
    """Per-day costs and trajectories, shape (n, days) for days ``score_from`` onwards."""

    costs: np.ndarray
    orders: np.ndarray
    on_hand_end: np.ndarray
    lost: np.ndarray

    @property
    def mean_cost(self) -> np.ndarray:
        return self.costs.mean(axis=1)


def _check_orders(q: object, n: int, t: int) -> np.ndarray:
    try:
        arr = np.asarray(q, dtype=float)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"day {t}: order must be a number, got {type(q).__name__}") from exc
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        arr = arr.reshape(-1)
        if arr.shape != (n,):
            raise PolicyError(f"day {t}: order has shape {np.shape(q)}, expected ({n},) or a scalar")
    if not np.isfinite(arr.sum()):
        raise PolicyError(f"day {t}: order is NaN or infinite")
    low = arr.min()
    if low < -1e-9:
        raise PolicyError(f"day {t}: negative order {float(low):.4g}")
    return np.maximum(arr, 0.0) if low < 0 else arr


def _replay(
    order_fn: OrderFn,
    seq: DemandSequence,
    specs: Sequence[FeatureSpec],
    model: CostModel,
    params: Mapping[str, np.ndarray],
    n: int,
    init: InitialState,
    score_from: int,
    scalar: bool,
    review_period: int = 1,
) -> SimResult:
    days = len(seq)
    L = model.lead_time
    h, p = model.h, model.p
    reveal = Reveal(seq, specs)
    on_hand = np.full(n, float(init.on_hand))
    pipe = [np.full(n, float(x)) for x in init.pipeline_for(L)]  # pipe[0] arrives next
    out = days - score_from
    costs = np.empty((out, n)); orders = np.empty((out, n))
    ends = np.empty((out, n)); losts = np.empty((out, n))
    call_params = params_for_row(params, 0) if scalar else params
    demand = seq.demand
    empty = np.empty((n, 0))
    nothing = np.zeros(n)
    with np.errstate(all="ignore"):
        for t in range(days):
            if L > 0:
                on_hand += pipe.pop(0)
            if t % review_period:  # not a review day: the policy is not consulted and orders nothing
                q = nothing.copy()
            else:
                outstanding = np.stack(pipe, axis=1) if pipe else empty
                position = on_hand + sum(pipe) if pipe else on_hand.copy()
                reveal.advance_to(t)
                obs = Observation(
                    t=t, date=seq.dates[t],
                    on_hand=float(on_hand[0]) if scalar else on_hand.copy(),
                    pipeline=outstanding[0] if scalar else outstanding,
                    position=float(position[0]) if scalar else position,
                    demand=reveal.demand(t), features=reveal.features(),
                    h=h, p=p, lead_time=L,
                )
                try:
                    raw = order_fn(obs, call_params)
                except PolicyError:
                    raise
                except Exception as exc:  # noqa: BLE001 - policy code may raise anything
                    raise PolicyError(f"day {t}: order() raised {type(exc).__name__}: {exc}") from exc
                q = _check_orders(raw, n, t)
                if model.integer_orders:
                    q = np.rint(q)
            if L == 0:
                on_hand += q
            else:
                pipe.append(q)
            d = demand[t]
            lost = np.maximum(d - on_hand, 0.0)
            np.maximum(on_hand - d, 0.0, out=on_hand)
            if t >= score_from:
                k = t - score_from
                np.multiply(on_hand, h, out=costs[k])
                costs[k] += p * lost
                orders[k] = q; ends[k] = on_hand; losts[k] = lost
    return SimResult(np.ascontiguousarray(costs.T), orders.T, ends.T, losts.T)


def simulate_fn(
    order_fn: OrderFn,
    seq: DemandSequence,
    specs: Sequence[FeatureSpec],
    model: CostModel,
    params: Mapping[str, np.ndarray],
    *,
    init: InitialState = InitialState(),
    score_from: int = 0,
    scalar: bool = False,
    review_period: int = 1,
) -> SimResult:
    """Replay one order function for every parameter set in ``params`` (arrays of equal length).

    With ``scalar=True`` the policy is given Python floats, one parameter set per replay.
    ``review_period`` R > 1 is periodic review (ORPR Algorithm 2): the policy is consulted
    only on days ``t % R == 0`` and orders nothing on the others; arrivals, demand and costs
    run every day. R = 1 is the daily simulator.
    """
    if not 0 <= score_from <= len(seq):
        raise ValueError(f"score_from {score_from} outside [0, {len(seq)}]")
    if review_period < 1:
        raise ValueError(f"review_period must be >= 1, got {review_period}")
    n = len(next(iter(params.values()))) if params else 1
    if not scalar:
        return _replay(order_fn, seq, specs, model, params, n, init, score_from, False, review_period)
    rows = [
        _replay(order_fn, seq, specs, model, {k: v[i:i + 1] for k, v in params.items()}, 1, init, score_from, True,
                review_period)
        for i in range(n)
    ] if params else [_replay(order_fn, seq, specs, model, {}, 1, init, score_from, True, review_period)]
    return SimResult(*(np.concatenate([getattr(r, f) for r in rows]) for f in ("costs", "orders", "on_hand_end", "lost")))


def simulate(
    program: PolicyProgram,
    seq: DemandSequence,
    specs: Sequence[FeatureSpec],
    model: CostModel,
    params: Mapping[str, np.ndarray],
    *,
    init: InitialState = InitialState(),
    score_from: int = 0,
) -> SimResult:
    """Replay a compiled policy, choosing the vectorised or the scalar path automatically.

    On the first call the vectorised result for parameter set 0 is checked against a scalar
    replay; a policy that raises on arrays, or disagrees with its own scalar self, is marked
    scalar-only and replayed one parameter set at a time from then on.
    """
    kwargs = dict(init=init, score_from=score_from)
    if program.vectorised is False:
        return simulate_fn(program.order, seq, specs, model, params, scalar=True, **kwargs)
    try:
        vec = simulate_fn(program.order, seq, specs, model, params, **kwargs)
    except PolicyError as vec_err:
        program.vectorised = False
        log.debug("policy %s is scalar-only: %s", program.name, vec_err)
        return simulate_fn(program.order, seq, specs, model, params, scalar=True, **kwargs)
    if program.vectorised is None:
        first = {k: v[:1] for k, v in params.items()}
        try:
            ref = simulate_fn(program.order, seq, specs, model, first, scalar=True, **kwargs)
        except PolicyError:
            program.vectorised = True  # array-only code; the vectorised path is its only path
            return vec
        if np.allclose(ref.costs[0], vec.costs[0], rtol=1e-9, atol=1e-9):
            program.vectorised = True
        else:
            log.debug("policy %s: vectorised and scalar replays disagree; using scalar", program.name)
            program.vectorised = False
            return simulate_fn(program.order, seq, specs, model, params, scalar=True, **kwargs)
    return vec


def _as_batch(obs: Observation) -> Observation:
    return Observation(
        t=obs.t, date=obs.date, on_hand=np.array([float(obs.on_hand)]),
        pipeline=np.asarray(obs.pipeline, dtype=float).reshape(1, -1),
        position=np.array([float(obs.position)]), demand=obs.demand, features=obs.features,
        h=obs.h, p=obs.p, lead_time=obs.lead_time,
    )


def call_policy(program: PolicyProgram, obs: Observation, params: Mapping[str, float]) -> float:
    """One decision for a scalar observation, in the mode the program was found to need.

    Used by the trusted step-by-step replay; raises PolicyError on any failure.
    """
    try:
        with np.errstate(all="ignore"):
            if program.vectorised:
                raw = program.order(_as_batch(obs), {k: np.array([float(v)]) for k, v in params.items()})
            else:
                raw = program.order(obs, dict(params))
    except Exception as exc:  # noqa: BLE001
        raise PolicyError(f"day {obs.t}: order() raised {type(exc).__name__}: {exc}") from exc
    return float(_check_orders(raw, 1, obs.t)[0])
