"""Sandbox backends, one module each: :mod:`.bwrap`, :mod:`.docker`, :mod:`.degraded`.

This package also re-exports the names that lived in the former single ``backends``
module (limits, channels, errors, selection), so ``from sandbox.backends import ...``
keeps working.
"""
from __future__ import annotations

from typing import Any

from sandbox.backends.base import SANDBOX_WS, WORKER_BOOT, SandboxBackend, project_binds
from sandbox.backends.bwrap import BwrapBackend
from sandbox.backends.degraded import DegradedBackend
from sandbox.backends.docker import DockerBackend, DockerChannel
from sandbox.cgroups import CgroupV1
from sandbox.channel import Channel, PipeChannel
from sandbox.environment import launcher_env, sandbox_env
from sandbox.errors import SandboxFailure, SandboxUnavailable
from sandbox.limits import Limits

BACKENDS: dict[str, type[SandboxBackend]] = {"docker": DockerBackend, "bwrap": BwrapBackend, "degraded": DegradedBackend}

__all__ = ["BACKENDS", "BwrapBackend", "CgroupV1", "Channel", "DegradedBackend", "DockerBackend", "DockerChannel",
           "Limits", "PipeChannel", "SANDBOX_WS", "SandboxBackend", "SandboxFailure", "SandboxUnavailable",
           "WORKER_BOOT", "available_backends", "launcher_env", "project_binds", "sandbox_env", "select_backend"]


def __getattr__(name: str) -> Any:
    # sandbox.selection imports this package; resolve its names lazily to avoid a cycle.
    if name in ("select_backend", "available_backends", "_selected"):
        from sandbox import selection
        return getattr(selection, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
