"""Isolation for untrusted code: policy workers, agent shells, the static validator.

Public API::

    open_host(problem, backend="auto") -> PolicyHost      # policies, sandboxed
    open_shell(workspace_root, backend="auto", *, timeout=30, max_output=8000) -> ShellSession
    select_backend(preference="auto") -> SandboxBackend   # logged at start
    validate_policy(source) -> Validation                 # static white-box check, V(pi)

Backends: ``auto`` (docker when an engine answers, else bubblewrap, else degraded),
``bwrap``, ``docker``, ``degraded``, and ``none`` (:class:`evaluation.host.InProcessHost`
for ``open_host``; not accepted by ``open_shell``). See docs/sandbox.md.

This package never imports the agent, training or evolve packages.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.validator import Validation, validate_policy

if TYPE_CHECKING:
    from evaluation.host import PolicyHost
    from inventory.replay import ReplayProblem
    from sandbox.backends import Limits, SandboxBackend
    from sandbox.shell import ShellSession

BACKEND_CHOICES = ("auto", "bwrap", "docker", "degraded", "none")

__all__ = ["open_host", "open_shell", "select_backend", "validate_policy", "Validation", "BACKEND_CHOICES"]


def select_backend(preference: str = "auto", limits: "Limits | None" = None) -> "SandboxBackend":
    """Probe and return a backend (see :func:`sandbox.backends.select_backend`)."""
    from sandbox.backends import select_backend as _select
    return _select(preference, limits)


def open_host(problem: "ReplayProblem", backend: str = "auto", *, limits: "Limits | None" = None) -> "PolicyHost":
    """A policy host for ``problem`` (pass the agent-visible replay problem only).

    ``backend="none"`` returns :class:`evaluation.host.InProcessHost` (trusted code only).
    Raises :class:`sandbox.backends.SandboxUnavailable` if a named backend cannot run.
    """
    if backend not in BACKEND_CHOICES:
        raise ValueError(f"unknown sandbox backend {backend!r}; choose one of {BACKEND_CHOICES}")
    if backend == "none":
        from evaluation.host import InProcessHost
        return InProcessHost(problem)
    from sandbox.host import SandboxHost
    return SandboxHost(problem, backend, limits=limits)


def open_shell(workspace_root: Path, backend: str = "auto", *, timeout: float = 30, max_output: int = 8000,
               limits: "Limits | None" = None) -> "ShellSession":
    """A sandboxed shell on a private copy of the workspace's agent-visible files."""
    if backend not in BACKEND_CHOICES or backend == "none":
        raise ValueError(f"shell sessions need a sandbox backend: auto, bwrap, docker or degraded (got {backend!r})")
    from sandbox.session import SandboxShellSession
    return SandboxShellSession(Path(workspace_root), select_backend(backend, limits), timeout=timeout, max_output=max_output)
