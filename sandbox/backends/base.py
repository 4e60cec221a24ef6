"""The :class:`SandboxBackend` extension point: where untrusted code runs.

A backend can (a) start a long-lived worker that speaks the :mod:`sandbox.protocol` frames
on a :class:`~sandbox.channel.Channel`, and (b) run one shell command in a directory (the
agent's workspace copy) with a timeout and bounded output. Implementations: bwrap, docker
(isolating) and degraded (opt-in, no filesystem isolation), in this package.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Iterable

from sandbox import fstree
from sandbox import image as img
from sandbox.channel import Channel
from sandbox.errors import SandboxUnavailable
from sandbox.limits import Limits
from sandbox.shell import CommandResult

WORKER_BOOT = ("import sys; sys.path.insert(0, '/opt/invevolve'); "
               "from sandbox.worker import main; main()")
SANDBOX_WS = "/workspace"


class SandboxBackend(ABC):
    """Where untrusted code runs. Subclasses are cheap to construct; :meth:`probe` may be slow."""

    name: str = "abstract"
    isolating: bool = True  # False only for the opt-in degraded backend

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._root: img.RuntimeRoot | None = None

    @property
    def root(self) -> img.RuntimeRoot:
        """The verified runtime tree (built on first use); an untrusted cache makes the backend unavailable."""
        if self._root is None:
            try:
                self._root = img.ensure_runtime_root()
            except img.UntrustedCache as exc:
                raise SandboxUnavailable(str(exc)) from exc
        return self._root

    @abstractmethod
    def probe(self) -> None:
        """Raise :class:`~sandbox.errors.SandboxUnavailable` with a reason unless this backend can run here."""

    @abstractmethod
    def start_worker(self) -> Channel:
        """Start a policy worker (protocol on a channel); the caller sends ``init`` first."""

    @abstractmethod
    def run_command(self, workdir: Path | None, command: str, timeout: float, max_output: int) -> CommandResult:
        """Run ``sh -c command`` with cwd = ``workdir`` (seen inside as /workspace)."""

    @property
    def has_pid_namespace(self) -> bool:
        return True

    def guard_hidden(self, paths: Iterable[Path]) -> None:
        """Make sure sandboxed code cannot read ``paths`` (a workspace's ``hidden/``).

        Isolating backends never bind anything but the runtime tree, the project packages
        and the workspace copy, so there is nothing to do. The degraded backend overrides
        this to prove it, or refuse.
        """

    def prepare_workdir(self, workdir: Path) -> None:
        """Make a workspace copy writable by the sandbox user (uid 65534 when we are root)."""
        if os.geteuid() == 0:
            fstree.chown_tree(workdir, img.SANDBOX_UID, img.SANDBOX_GID)
            return
        os.chmod(workdir, 0o777)
        for e in fstree.scan(workdir, max_depth=10_000).entries:
            p = workdir.joinpath(*e.parts)
            if e.is_dir:
                os.chmod(p, 0o777)
            elif not p.is_symlink():
                os.chmod(p, 0o666)

    def describe(self) -> str:
        return self.name


def project_binds() -> list[tuple[Path, str]]:
    """(host path, sandbox path) of the project packages bound read-only into every sandbox."""
    root = img.project_root()
    return [(root / pkg, f"{img.PROJECT_DEST}/{pkg}") for pkg in img.PROJECT_PACKAGES]
