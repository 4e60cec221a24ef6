"""Where policy code runs: the ``PolicyHost`` extension point.

The trusted evaluator never executes untrusted policy code itself. It asks a host to
compile a policy for one replay problem and then (a) scores whole parameter batches on the
replay window while Optuna tunes, and (b) answers one decision at a time while the trusted
simulator replays the tuned policy over replay + forward days. In (b) the host only ever
receives an :class:`~inventory.observation.Observation`, so the forward window is revealed
one day at a time, after each decision, and never as a file or array.

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

    def close(self) -> None:
        """Release whatever the handle holds."""


class PolicyHost(ABC):
    """Runs policy code for one replay problem (the agent-visible replay window only)."""

    name: str = "host"

    def __init__(self, problem: ReplayProblem):
        self.problem = problem

    @abstractmethod
    def open(self, source: str, name: str) -> PolicyHandle:
        """Compile ``source``; raises PolicyError if it does not load."""

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


class InProcessHost(PolicyHost):
    """Executes policy code in this process. For trusted code, or when the user opts out."""

    name = "in-process"

    def open(self, source: str, name: str) -> PolicyHandle:
        return InProcessHandle(compile_policy(source, name), self.problem)
