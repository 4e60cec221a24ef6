"""Where policy code runs: the ``PolicyHost`` extension point.

The trusted evaluator never executes untrusted policy code itself. It asks a host to
compile a policy for one replay problem and then either (a) scores whole parameter batches
on that problem's window while Optuna tunes (an *untrusted tuning host*), or (b) answers one
decision at a time while the trusted simulator replays the tuned, frozen policy (a *replay
host*). A replay host is built on a data-free problem (:func:`data_free_problem`: specs,
costs, start state, zero days) in a fresh process per candidate, and only ever receives one
:class:`~inventory.observation.Observation` per day, so it never holds more than what the
days so far reveal: not the replay window, not the forward window, not another candidate's
state (see :mod:`evaluation.hosts`).

Implementations: :class:`InProcessHost` here (trusted library code, and ``--sandbox none``)
and the sandboxed hosts in :mod:`sandbox`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Mapping

import numpy as np

from inventory.observation import Observation
from inventory.policy import ParamSpec, PolicyProgram, compile_policy
from inventory.replay import ReplayProblem
from inventory.sequence import DemandSequence
from inventory.simulator import call_policy


class PolicyHandle(ABC):
    """One compiled policy inside a host."""

    @abstractmethod
    def space(self) -> tuple[ParamSpec, ...]:
        """The policy's search space for the host's replay problem."""

    @abstractmethod
    def mean_costs(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Mean replay cost per parameter set (arrays of equal length). Raises PolicyError."""

    @abstractmethod
    def decide(self, obs: Observation, params: Mapping[str, float]) -> float:
        """One order for a scalar observation and one parameter set. Raises PolicyError."""

    @property
    def vectorised(self) -> bool | None:
        """Calling convention learnt by ``mean_costs`` (None until known)."""
        return None

    def close(self) -> None:
        """Release whatever the handle holds."""


class PolicyHost(ABC):
    """Runs policy code for one replay problem (the agent-visible replay window only)."""

    name: str = "host"

    def __init__(self, problem: ReplayProblem):
        self.problem = problem

    @abstractmethod
    def open(self, source: str, name: str, *, vectorised: bool | None = None) -> PolicyHandle:
        """Compile ``source``; raises PolicyError if it does not load.

        ``vectorised`` fixes the calling convention of ``decide`` (as learnt while tuning);
        None lets the policy be called with scalars.
        """

    def close(self) -> None:
        """Shut down workers."""

    def __enter__(self) -> "PolicyHost":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessHandle(PolicyHandle):
    def __init__(self, program: PolicyProgram, problem: ReplayProblem):
        self.program, self.problem = program, problem

    def space(self) -> tuple[ParamSpec, ...]:
        return self.program.space(self.problem.info)

    def mean_costs(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.problem.mean_costs(self.program, dict(params))

    def decide(self, obs: Observation, params: Mapping[str, float]) -> float:
        return call_policy(self.program, obs, params)

    @property
    def vectorised(self) -> bool | None:
        return self.program.vectorised


class InProcessHost(PolicyHost):
    """Executes policy code in this process. For trusted code, or when the user opts out
    (``--sandbox none``: tuning runs here; the trusted replay still runs in a fresh plain
    subprocess, :class:`evaluation.plain_process.PlainProcessHost`)."""

    name = "in-process"

    def open(self, source: str, name: str, *, vectorised: bool | None = None) -> PolicyHandle:
        program = compile_policy(source, name)
        if vectorised is not None:
            program.vectorised = vectorised
        return InProcessHandle(program, self.problem)


def data_free_problem(problem: ReplayProblem) -> ReplayProblem:
    """The same specs, cost model and start state as ``problem``, with zero days of data.

    What a replay host is built on: it can compile a policy and answer decisions, but holds
    no demand or feature value beyond what each Observation reveals.
    """
    seq = problem.seq
    empty = DemandSequence([], np.empty(0), {k: v[:0].copy() for k, v in seq.features.items()})
    return ReplayProblem(empty, problem.specs, problem.model, problem.init)
