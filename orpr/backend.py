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
  It is the daily simulator's own day loop with review days
  (``inventory.simulator.simulate_fn(review_period=R)``; no observation is built on the
  other days), so at ``review_period = 1`` its costs equal the daily simulator's bit for
  bit (tested on random workspaces and policies).
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Sequence

import numpy as np

from inventory import simulator as daily
from inventory.policy import PolicyError, PolicyProgram
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence, FeatureSpec
from inventory.simulator import InitialState, OrderFn, SimResult

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
    return daily.simulate_fn(order_fn, seq, specs, model, params, init=init, score_from=score_from, scalar=scalar,
                             review_period=review_period)
