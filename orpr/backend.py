"""Replay backends: the daily simulator and the Algorithm-2 periodic-review simulator.

A :class:`ReplayBackend` replays a policy over a demand sequence in the contract of
:mod:`inventory.simulator` (``simulate_fn`` for an order function, ``simulate`` for a
compiled program with vectorised/scalar detection, both returning a
:class:`~inventory.simulator.SimResult`), so that the trusted evaluator and the tuner can
select one by configuration (:class:`BackendConfig`, :func:`make_backend`):

* :class:`DailyBackend` — :mod:`inventory.simulator` itself: the policy decides every day.
* :class:`PeriodicBackend` — ORPR Algorithm 2's periodic review (paper Sec. 3.3.1, the
  "Nominal Review Time"): the policy is consulted only on review days
  ``t % review_period == 0`` (``t`` = 0-based index into the replayed sequence) and orders
  nothing on the others; arrivals, demand, lost sales and costs run every day as in SPEC §1.
  It is its own day loop (it builds no observation on non-review days), written with the
  daily simulator's float operations in the same order, so at ``review_period = 1`` its
  costs equal the daily simulator's bit for bit (tested on random workspaces and policies).
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Sequence

import numpy as np

from inventory import simulator as daily
from inventory.observation import Observation, Reveal
from inventory.policy import PolicyError, PolicyProgram, params_for_row
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence, FeatureSpec
from inventory.simulator import InitialState, OrderFn, SimResult, _check_orders

log = logging.getLogger(__name__)

__all__ = ["BackendKind", "BackendConfig", "ReplayBackend", "DailyBackend", "PeriodicBackend", "make_backend",
           "periodic_replay"]


class BackendKind(str, Enum):
    DAILY = "daily"
    PERIODIC = "periodic"


@dataclass(frozen=True)
class BackendConfig:
    """Which replay backend to use. ``review_period`` applies to the periodic backend only."""

    kind: BackendKind = BackendKind.DAILY
    review_period: int = 1

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", BackendKind(self.kind))
        except ValueError:
            raise ValueError(f"replay backend must be one of {[k.value for k in BackendKind]}, got {self.kind!r}") from None
        if isinstance(self.review_period, bool) or not isinstance(self.review_period, int) or self.review_period < 1:
            raise ValueError(f"review_period must be an integer >= 1, got {self.review_period!r}")
        if self.kind is BackendKind.DAILY and self.review_period != 1:
            raise ValueError("review_period applies to the periodic backend only (daily reviews every day)")


class ReplayBackend(ABC):
    """Replays policies over a sequence; see the module docstring for the contract."""

    @property
    @abstractmethod
    def config(self) -> BackendConfig:
        """The configuration that rebuilds this backend (:func:`make_backend`)."""

    @abstractmethod
    def simulate_fn(self, order_fn: OrderFn, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel,
                    params: Mapping[str, np.ndarray], *, init: InitialState = InitialState(), score_from: int = 0,
                    scalar: bool = False) -> SimResult:
        """Replay one order function for every parameter set (as :func:`inventory.simulator.simulate_fn`)."""

    def simulate(self, program: PolicyProgram, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel,
                 params: Mapping[str, np.ndarray], *, init: InitialState = InitialState(),
                 score_from: int = 0) -> SimResult:
        """Replay a compiled policy, detecting vectorised vs scalar code as :func:`inventory.simulator.simulate`."""
        kwargs = dict(init=init, score_from=score_from)
        if program.vectorised is False:
            return self.simulate_fn(program.order, seq, specs, model, params, scalar=True, **kwargs)
        try:
            vec = self.simulate_fn(program.order, seq, specs, model, params, **kwargs)
        except PolicyError as vec_err:
            program.vectorised = False
            log.debug("policy %s is scalar-only: %s", program.name, vec_err)
            return self.simulate_fn(program.order, seq, specs, model, params, scalar=True, **kwargs)
        if program.vectorised is None:
            first = {k: v[:1] for k, v in params.items()}
            try:
                ref = self.simulate_fn(program.order, seq, specs, model, first, scalar=True, **kwargs)
            except PolicyError:
                program.vectorised = True
                return vec
            if np.allclose(ref.costs[0], vec.costs[0], rtol=1e-9, atol=1e-9):
                program.vectorised = True
            else:
                program.vectorised = False
                return self.simulate_fn(program.order, seq, specs, model, params, scalar=True, **kwargs)
        return vec

    def tuning_source(self, source: str) -> str:
        """The source a tuning host (which replays with the daily simulator) must run so that
        its batch costs are this backend's costs. Identity for the daily backend."""
        return source

    def mean_costs(self, problem: ReplayProblem, program: PolicyProgram, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Mean cost per parameter set on ``problem`` (a batch objective for the tuner)."""
        return self.simulate(program, problem.seq, problem.specs, problem.model, params, init=problem.init).mean_cost


class DailyBackend(ReplayBackend):
    """The daily simulator of :mod:`inventory.simulator`, unchanged."""

    @property
    def config(self) -> BackendConfig:
        return BackendConfig()

    def simulate_fn(self, order_fn, seq, specs, model, params, *, init=InitialState(), score_from=0, scalar=False):
        return daily.simulate_fn(order_fn, seq, specs, model, params, init=init, score_from=score_from, scalar=scalar)

    def simulate(self, program, seq, specs, model, params, *, init=InitialState(), score_from=0):
        return daily.simulate(program, seq, specs, model, params, init=init, score_from=score_from)


class PeriodicBackend(ReplayBackend):
    """Algorithm-2 periodic review: the policy orders only on days ``t % review_period == 0``."""

    def __init__(self, review_period: int):
        self.review_period = BackendConfig(BackendKind.PERIODIC, review_period).review_period

    @property
    def config(self) -> BackendConfig:
        return BackendConfig(BackendKind.PERIODIC, self.review_period)

    def simulate_fn(self, order_fn, seq, specs, model, params, *, init=InitialState(), score_from=0, scalar=False):
        return periodic_replay(order_fn, seq, specs, model, params, review_period=self.review_period, init=init,
                               score_from=score_from, scalar=scalar)

    def tuning_source(self, source: str) -> str:
        """``source`` with ``order`` gated to review days (a daily replay of it = this backend's replay).

        Tuning hosts are untrusted and replay with the daily simulator; the gate makes their
        batch costs equal this backend's (tested), without a change to the host protocol.
        The numbers that decide anything still come from this backend's own replay.
        """
        if self.review_period == 1:
            return source
        return source.rstrip("\n") + _GATE.format(R=self.review_period)

    def __repr__(self) -> str:
        return f"PeriodicBackend(review_period={self.review_period})"


_GATE = """


# appended by orpr.backend.PeriodicBackend for tuning: the policy orders only on review days
_orpr_periodic_review_order = order


def order(obs, params):
    if obs.t % {R}:
        return 0.0
    return _orpr_periodic_review_order(obs, params)
"""


def make_backend(config: BackendConfig = BackendConfig()) -> ReplayBackend:
    """The backend a configuration names."""
    if config.kind is BackendKind.PERIODIC:
        return PeriodicBackend(config.review_period)
    return DailyBackend()


def periodic_replay(order_fn: OrderFn, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel,
                    params: Mapping[str, np.ndarray], *, review_period: int, init: InitialState = InitialState(),
                    score_from: int = 0, scalar: bool = False) -> SimResult:
    """Periodic-review replay of ``order_fn`` for every parameter set (``scalar``: one at a time)."""
    if not 0 <= score_from <= len(seq):
        raise ValueError(f"score_from {score_from} outside [0, {len(seq)}]")
    n = len(next(iter(params.values()))) if params else 1
    if not scalar:
        return _periodic(order_fn, seq, specs, model, params, n, init, score_from, False, review_period)
    rows = [_periodic(order_fn, seq, specs, model, {k: v[i:i + 1] for k, v in params.items()}, 1, init, score_from,
                      True, review_period) for i in range(n)] if params else \
        [_periodic(order_fn, seq, specs, model, {}, 1, init, score_from, True, review_period)]
    return SimResult(*(np.concatenate([getattr(r, f) for r in rows]) for f in ("costs", "orders", "on_hand_end", "lost")))


def _periodic(order_fn: OrderFn, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel,
              params: Mapping[str, np.ndarray], n: int, init: InitialState, score_from: int, scalar: bool,
              review_period: int) -> SimResult:
    days, L, h, p = len(seq), model.lead_time, model.h, model.p
    reveal = Reveal(seq, specs)
    on_hand = np.full(n, float(init.on_hand))
    pipe = [np.full(n, float(x)) for x in init.pipeline_for(L)]  # pipe[0] arrives next
    out = days - score_from
    costs = np.empty((out, n)); orders = np.empty((out, n)); ends = np.empty((out, n)); losts = np.empty((out, n))
    call_params = params_for_row(params, 0) if scalar else params
    demand = seq.demand
    empty = np.empty((n, 0))
    with np.errstate(all="ignore"):
        for t in range(days):
            # 1. arrival of the order placed L days ago (Algorithm 2, "Inventory Update")
            if L > 0:
                on_hand += pipe.pop(0)
            # 2. replenishment review: only on review days does the policy see the state
            if t % review_period == 0:
                outstanding = np.stack(pipe, axis=1) if pipe else empty
                position = on_hand + sum(pipe) if pipe else on_hand.copy()
                reveal.advance_to(t)
                obs = Observation(
                    t=t, date=seq.dates[t], on_hand=float(on_hand[0]) if scalar else on_hand.copy(),
                    pipeline=outstanding[0] if scalar else outstanding,
                    position=float(position[0]) if scalar else position,
                    demand=reveal.demand(t), features=reveal.features(), h=h, p=p, lead_time=L,
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
            else:
                q = np.zeros(n)
            if L == 0:
                on_hand += q
            else:
                pipe.append(q)
            # 3. demand realisation and 4. cost accumulation
            d = demand[t]
            lost = np.maximum(d - on_hand, 0.0)
            np.maximum(on_hand - d, 0.0, out=on_hand)
            if t >= score_from:
                k = t - score_from
                np.multiply(on_hand, h, out=costs[k])
                costs[k] += p * lost
                orders[k] = q; ends[k] = on_hand; losts[k] = lost
    return SimResult(np.ascontiguousarray(costs.T), orders.T, ends.T, losts.T)
