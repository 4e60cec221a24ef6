"""The agent's shell: a per-rollout, sandboxed copy of a workspace's agent-visible files.

Contract: the copy never contains ``hidden/`` (the forward window); commands run inside the
sandbox with a per-command timeout and truncated output; the copy is discarded on close.
Only bytes explicitly read out (the submitted policy file) leave it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None     # None when killed on timeout
    output: str               # stdout+stderr, truncated to the session's limit
    timed_out: bool
    truncated: bool


class ShellSession(ABC):
    @abstractmethod
    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run one shell command in the workspace copy (cwd = its root)."""

    @abstractmethod
    def read_file(self, rel_path: str, max_bytes: int = 200_000) -> bytes | None:
        """Bytes of a file in the copy, or None if absent. Paths escaping the copy are refused."""

    @abstractmethod
    def write_file(self, rel_path: str, data: bytes) -> None:
        """Create or replace a file in the copy."""

    @abstractmethod
    def close(self) -> None:
        """Kill anything still running and delete the copy."""

    def __enter__(self) -> "ShellSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
