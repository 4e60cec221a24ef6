"""``HostProvider``: where the trusted evaluator gets its policy hosts from.

Two kinds of host, kept apart on purpose (issue #8, score integrity):

* a **tuning host** holds one replay window and scores parameter batches while Optuna
  tunes. It is untrusted: a policy may memorise what it sees there or walk the stack to the
  worker's copy of the window. Its numbers only steer the search. One per distinct window,
  shared by the candidates tuned on it (each candidate gets its own process inside it).
* a **replay host** is built on :func:`~inventory.host.data_free_problem` (specs, costs,
  start state, no days), new for every candidate replay and closed after it. It gets the
  frozen policy and one Observation per day, so it never holds data beyond what the days so
  far reveal and shares no state with tuning or with another candidate. Its decisions,
  replayed by the trusted simulator in the evaluator's process, give every number that
  decides anything.

Implementations: :class:`SandboxProvider` (both kinds sandboxed, one backend probed once)
and :class:`InProcessProvider` (``--sandbox none``: tuning in this process, replay in a fresh
plain subprocess, :class:`~evaluation.plain_process.PlainProcessHost`).
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from inventory.host import InProcessHost, PolicyHost
from inventory.replay import ReplayProblem

log = logging.getLogger(__name__)

def is_infrastructure_failure(exc: BaseException) -> bool:
    """Did the host fail (worker recycled or killed, did not start) rather than the policy?

    The evaluator retries a candidate once on a fresh worker for these: the sandbox's
    :class:`~sandbox.errors.SandboxFailure`, and OSError (a process could not be started).
    """
    from sandbox.errors import SandboxFailure

    return isinstance(exc, (SandboxFailure, OSError))


class HostProvider(ABC):
    """Makes the evaluator's hosts. See the module docstring for the two kinds."""

    name: str = "hosts"

    @abstractmethod
    def tuning_host(self, problem: ReplayProblem) -> PolicyHost:
        """A host holding ``problem``'s window, for tuning only. The caller closes it."""

    @abstractmethod
    def replay_host(self, problem: ReplayProblem) -> PolicyHost:
        """A new host on the data-free ``problem`` for one candidate's replay. The caller closes it."""

    def close(self) -> None:
        """Release what the provider holds (hosts are closed by their callers)."""


def _require_data_free(problem: ReplayProblem) -> None:
    if len(problem.seq):
        raise ValueError(f"a replay host must be built on a data-free problem, got {len(problem.seq)} days")


class SandboxProvider(HostProvider):
    """Tuning and replay hosts in sandbox workers of one backend (probed once)."""

    def __init__(self, backend: Any = "auto", hidden: tuple[Path, ...] = ()):
        from sandbox import select_backend
        from sandbox.backends import SandboxBackend

        self.backend = backend if isinstance(backend, SandboxBackend) else select_backend(backend)
        self.name = f"sandbox-{self.backend.name}"
        self.hidden = tuple(hidden)

    def tuning_host(self, problem: ReplayProblem) -> PolicyHost:
        from sandbox.host import SandboxHost
        return SandboxHost(problem, self.backend, hidden=self.hidden)

    def replay_host(self, problem: ReplayProblem) -> PolicyHost:
        from sandbox.host import SandboxHost
        _require_data_free(problem)
        return SandboxHost(problem, self.backend, hidden=self.hidden)


class InProcessProvider(HostProvider):
    """``--sandbox none``: tune in this process, replay in a fresh plain process (no isolation),
    forked per candidate from a clean zygote interpreter that never holds data."""

    name = "none"

    def __init__(self) -> None:
        self._zygote = None

    def tuning_host(self, problem: ReplayProblem) -> PolicyHost:
        return InProcessHost(problem)

    def replay_host(self, problem: ReplayProblem) -> PolicyHost:
        from evaluation.plain_process import PlainProcessHost, Zygote
        _require_data_free(problem)
        if self._zygote is None:
            self._zygote = Zygote()
        return PlainProcessHost(problem, self._zygote)

    def close(self) -> None:
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None


def provider_for(host: PolicyHost) -> HostProvider:
    """The provider of the same kind as an already opened tuning ``host`` (older call sites)."""
    backend = getattr(host, "backend", None)
    if backend is not None:
        return SandboxProvider(backend)
    return InProcessProvider()
