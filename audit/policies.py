"""Running the audited policy and the reference: replays and single decisions.

:class:`PolicyRunner` is the one interface the probes and stress replays use. Two
implementations:

* :class:`SandboxedPolicy` for the audited candidate (generated code: hostile until proven
  otherwise). Every replay and every probe batch gets a fresh candidate process from a
  sandbox host built on a *data-free* problem, so the policy never holds a window in
  memory; it only sees one :class:`~inventory.observation.Observation` per decision, from
  the trusted simulator (:func:`inventory.simulator.simulate_fn`).
* :class:`TrustedPolicy` for a library baseline whose source is byte-identical to the
  packaged one: compiled in this process, as the trusted evaluator may.
"""
from __future__ import annotations

import inspect
import logging
from concurrent.futures import Future
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from inventory.host import PolicyHandle, PolicyHost
from inventory.observation import Observation
from inventory.policy import ParamSpec, PolicyError, PolicyProgram, compile_policy
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence, FeatureSpec
from inventory.simulator import InitialState, call_policy, simulate_fn

log = logging.getLogger(__name__)

MAX_PROBE_ERRORS = 20   # stop a probe batch after this many failed decisions

Decide = Callable[[Observation, Mapping[str, float]], float]


@dataclass(frozen=True)
class Trajectory:
    """One replay, day by day: state at decision time, the order, and the day's outcome."""

    costs: np.ndarray
    orders: np.ndarray
    on_hand: np.ndarray       # after the day's arrival, when the policy decides
    position: np.ndarray
    on_hand_end: np.ndarray
    lost: np.ndarray
    demand: np.ndarray
    lead_time: int

    @property
    def pipeline(self) -> np.ndarray:
        """Units in transit at decision time (before today's order)."""
        return self.position - self.on_hand

    @property
    def in_transit(self) -> np.ndarray:
        """Units in transit at the end of the day (today's order included when L >= 1)."""
        return self.pipeline + self.orders if self.lead_time > 0 else np.zeros_like(self.orders)

    @property
    def mean_cost(self) -> float:
        return float(self.costs.mean()) if len(self.costs) else 0.0


@dataclass(frozen=True)
class Decision:
    """The order for one probe observation, or the error the policy produced."""

    order: float | None
    error: str | None = None


def data_free(problem: ReplayProblem) -> ReplayProblem:
    """The problem's specs, costs and start state with zero days: what a decide-only host needs."""
    seq = problem.seq
    empty = DemandSequence([], np.empty(0), {k: v[:0].copy() for k, v in seq.features.items()})
    return ReplayProblem(empty, problem.specs, problem.model, problem.init)


class PolicyRunner(ABC):
    """A tuned policy that can be replayed and asked single decisions."""

    def __init__(self, name: str, params: Mapping[str, float]):
        self.name = name
        self.params = {k: float(v) for k, v in params.items()}

    @abstractmethod
    def _decider(self) -> tuple[object, Decide]:
        """(resource, decide(obs, params) -> float) for one fresh replay or batch."""

    @abstractmethod
    def _release(self, resource: object) -> None:
        """Free what :meth:`_decider` opened."""

    @abstractmethod
    def space(self) -> tuple[ParamSpec, ...]:
        """The policy's declared search space (bounds for perturbations)."""

    def replay(self, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel, init: InitialState,
               params: Mapping[str, float] | None = None) -> Trajectory:
        """Trusted day-by-day replay; raises PolicyError if the policy fails on any day."""
        fixed = dict(self.params if params is None else params)
        on_hand: list[float] = []
        position: list[float] = []
        res, decide = self._decider()

        def order(obs: Observation, _unused: object) -> float:
            on_hand.append(float(obs.on_hand))
            position.append(float(obs.position))
            return decide(obs, fixed)

        try:
            sim = simulate_fn(order, seq, specs, model, {}, init=init, scalar=True)
        finally:
            self._release(res)
        return Trajectory(sim.costs[0], sim.orders[0], np.array(on_hand), np.array(position),
                          sim.on_hand_end[0], sim.lost[0], np.asarray(seq.demand, dtype=float), model.lead_time)

    def decide_many(self, observations: Sequence[Observation]) -> list[Decision]:
        """One decision per observation (in a fresh process); errors are kept per state.

        After :data:`MAX_PROBE_ERRORS` failures the remaining states are not asked.
        """
        out: list[Decision] = []
        errors = 0
        res, decide = self._decider()
        try:
            for obs in observations:
                if errors >= MAX_PROBE_ERRORS:
                    out.append(Decision(None, f"not asked: stopped after {MAX_PROBE_ERRORS} failed decisions"))
                    continue
                try:
                    out.append(Decision(float(decide(obs, self.params))))
                except PolicyError as exc:
                    errors += 1
                    out.append(Decision(None, str(exc)[:500]))
                    self._release(res)           # a failed decision may have killed the process
                    res, decide = self._decider()
        finally:
            self._release(res)
        return out


class SandboxedPolicy(PolicyRunner):
    """Untrusted source, run in a sandbox host (one fresh candidate process per replay/batch)."""

    def __init__(self, host: PolicyHost, source: str, name: str, params: Mapping[str, float],
                 vectorised: bool | None = None, space: "tuple[ParamSpec, ...] | Future | None" = None):
        super().__init__(name, params)
        self.host, self.source, self.vectorised = host, source, vectorised
        # A search_space(info) needs the replay window's info, which the data-free host lacks:
        # the caller passes the space (or a Future of it) computed on a tuning host.
        self._space = space
        self._accepts_vectorised = "vectorised" in inspect.signature(host.open).parameters

    def _open(self) -> PolicyHandle:
        if self._accepts_vectorised and self.vectorised is not None:
            return self.host.open(self.source, self.name, vectorised=self.vectorised)  # type: ignore[call-arg]
        return self.host.open(self.source, self.name)

    def _decider(self) -> tuple[object, Decide]:
        handle = self._open()
        return handle, handle.decide

    def _release(self, resource: object) -> None:
        assert isinstance(resource, PolicyHandle)
        resource.close()

    def space(self) -> tuple[ParamSpec, ...]:
        if isinstance(self._space, Future):
            self._space = self._space.result()
        if self._space is None:
            handle = self._open()
            try:
                self._space = handle.space()
            finally:
                handle.close()
        return self._space


class TrustedPolicy(PolicyRunner):
    """Trusted library source, compiled and run in this process."""

    def __init__(self, source: str, name: str, params: Mapping[str, float], problem: ReplayProblem):
        super().__init__(name, params)
        self.source, self.problem = source, problem

    def _decider(self) -> tuple[object, Decide]:
        program: PolicyProgram = compile_policy(self.source, self.name)
        return program, lambda obs, params: call_policy(program, obs, params)

    def _release(self, resource: object) -> None:
        return None

    def space(self) -> tuple[ParamSpec, ...]:
        return compile_policy(self.source, self.name).space(self.problem.info)
