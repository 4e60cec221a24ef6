"""Choosing where untrusted policy code runs, and the static check applied before it does."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from typing import TYPE_CHECKING

from inventory.host import InProcessHost, PolicyHost
from inventory.replay import ReplayProblem

if TYPE_CHECKING:
    from evaluation.hosts import HostProvider

log = logging.getLogger(__name__)

Validator = Callable[[str], tuple[bool, tuple[str, ...]]]


def open_host(problem: ReplayProblem, backend: str) -> PolicyHost:
    """A policy host for ``backend`` (auto | bwrap | docker | degraded | none).

    ``none`` runs policy code in this process: only for trusted code or an explicit opt-out.
    """
    if backend == "none":
        log.warning("sandbox disabled: candidate policies run in the evaluator's own process")
        return InProcessHost(problem)
    from sandbox import open_host as sandbox_host

    return sandbox_host(problem, backend)


def open_hosts(backend: str, hidden: "tuple[Path, ...]" = ()) -> "HostProvider":
    """The evaluator's host provider for ``backend`` (auto | bwrap | docker | degraded | none).

    ``none`` tunes in this process and replays in a fresh plain subprocess (no isolation).
    ``hidden`` names folders sandboxed code must never read (a workspace's ``hidden/``); the
    degraded backend proves them unreadable or refuses to start.
    """
    from evaluation.hosts import InProcessProvider, SandboxProvider

    if backend == "none":
        log.warning("sandbox disabled: candidate policies are tuned in the evaluator's own process "
                    "(the trusted replay still runs in a fresh plain subprocess)")
        return InProcessProvider()
    return SandboxProvider(backend, hidden=hidden)


def policy_validator() -> Validator:
    """The white-box validator V(pi) as a plain function (ok, reasons)."""
    from sandbox.validator import validate_policy

    def check(source: str) -> tuple[bool, tuple[str, ...]]:
        v = validate_policy(source)
        return v.ok, tuple(v.reasons)

    return check
