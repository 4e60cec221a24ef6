"""Isolation for untrusted code: policy workers, agent shells, the static validator.

Public API::

    open_host(problem, backend="auto") -> PolicyHost      # policies, sandboxed
    open_shell(workspace_root, backend="auto", *, timeout=30, max_output=8000) -> ShellSession
    select_backend(preference="auto") -> SandboxBackend   # logged at start
    validate_policy(source) -> Validation                 # static white-box check, V(pi)

Backends: ``auto`` (docker when an engine answers, else bubblewrap, else a clear refusal
naming what to install; never a backend without filesystem and network isolation),
``bwrap``, ``docker``, ``degraded`` (opt-in only, by name), and ``none``
(:class:`inventory.host.InProcessHost` for ``open_host``; not accepted by ``open_shell``).
Errors: :class:`SandboxUnavailable` (a backend cannot run here) and
:class:`SandboxFailure` (a PolicyError for infrastructure failures: retry the candidate
once on a fresh worker). See docs/sandbox.md.

This package never imports the agent, training or evolve packages.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.errors import SandboxFailure, SandboxUnavailable
from sandbox.limits import Limits
from sandbox.validator import Validation, validate_policy

if TYPE_CHECKING:
    from inventory.host import PolicyHost
    from inventory.replay import ReplayProblem
    from sandbox.backends.base import SandboxBackend
    from sandbox.shell import ShellSession

BACKEND_CHOICES = ("auto", "bwrap", "docker", "degraded", "none")

__all__ = ["open_host", "open_shell", "select_backend", "validate_policy", "Validation", "BACKEND_CHOICES",
           "Limits", "SandboxFailure", "SandboxUnavailable"]


def select_backend(preference: str = "auto", limits: "Limits | None" = None) -> "SandboxBackend":
    """Probe and return a backend (see :func:`sandbox.selection.select_backend`)."""
    from sandbox.selection import select_backend as _select
    return _select(preference, limits)


def open_host(problem: "ReplayProblem", backend: str = "auto", *, limits: "Limits | None" = None,
              hidden: "tuple[Path, ...]" = ()) -> "PolicyHost":
    """A policy host for ``problem`` (the agent-visible replay problem, or a data-free one).

    ``backend="none"`` returns :class:`inventory.host.InProcessHost` (trusted code only).
    ``hidden`` names folders sandboxed code must not read (a workspace's ``hidden/``): the
    degraded backend proves it or refuses. Raises :class:`SandboxUnavailable` if a named
    backend cannot run.
    """
    if backend not in BACKEND_CHOICES:
        raise ValueError(f"unknown sandbox backend {backend!r}; choose one of {BACKEND_CHOICES}")
    if backend == "none":
        from inventory.host import InProcessHost
        return InProcessHost(problem)
    from sandbox.host import SandboxHost
    return SandboxHost(problem, backend, limits=limits, hidden=hidden)


def open_shell(workspace_root: Path, backend: str = "auto", *, timeout: float = 30, max_output: int = 8000,
               limits: "Limits | None" = None) -> "ShellSession":
    """A sandboxed shell on a private copy of the workspace's agent-visible files."""
    if backend not in BACKEND_CHOICES or backend == "none":
        raise ValueError(f"shell sessions need a sandbox backend: auto, bwrap, docker or degraded (got {backend!r})")
    from sandbox.session import SandboxShellSession
    return SandboxShellSession(Path(workspace_root), select_backend(backend, limits), timeout=timeout, max_output=max_output)
