"""Resource limits of a sandbox, and the rlimits a launcher applies before it execs.

Two levels:

* the **sandbox** (one policy worker, or one shell command): ``memory_bytes`` and ``pids``
  through a cgroup (bwrap, where writable) or the container (docker), plus outer rlimits;
* each **candidate** (a process the worker forks per policy): its own rlimits, set by the
  candidate itself before it compiles the source. ``candidate_memory_bytes`` is the
  address space a candidate may *add* to what it inherits from the worker at fork time,
  and it is kept well below ``memory_bytes``, so a memory bomb hits its own limit (and its
  process exits, freeing the memory) long before the sandbox's cgroup or the machine's
  OOM killer would pick a victim among other candidates.

Agent shell sessions add quotas on the workspace copy: bytes, entries (files, directories,
links: an inode quota, so a million empty files is caught) and directory depth.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Limits:
    """Resource limits. ``memory_bytes``/``pids`` bound the whole sandbox (cgroup or docker);
    the ``candidate_*`` ones are rlimits each forked candidate sets for itself."""

    memory_bytes: int = 2 << 30
    pids: int = 128
    nofile: int = 256
    nproc: int = 1024
    fsize_bytes: int = 64 << 20
    tmpfs_bytes: int = 64 << 20
    worker_as_bytes: int = 8 << 30
    candidate_memory_bytes: int = 768 << 20
    candidate_cpu_s: int = 600
    candidate_nproc: int = 64
    max_live_candidates: int = 32
    workspace_quota_bytes: int = 256 << 20
    workspace_quota_entries: int = 20_000
    workspace_max_depth: int = 48

    def __post_init__(self) -> None:
        if self.candidate_memory_bytes >= self.memory_bytes:
            raise ValueError("candidate_memory_bytes must be below memory_bytes, or one candidate can exhaust "
                             "the sandbox and get the others killed")
        if self.max_live_candidates * 2 + 8 > self.pids:
            raise ValueError(f"max_live_candidates={self.max_live_candidates} leaves no room under pids={self.pids}")

    def candidate_rlimits(self) -> dict[str, int]:
        """What the worker's candidates apply (``memory_bytes`` is relative to the fork baseline)."""
        return {"cpu_s": self.candidate_cpu_s, "memory_bytes": self.candidate_memory_bytes,
                "fsize_bytes": self.fsize_bytes, "nofile": 64, "nproc": self.candidate_nproc, "core": 0}


def outer_rlimits(limits: Limits, as_bytes: int | None) -> dict[int, int]:
    """rlimits of the launched sandbox process (and everything it starts)."""
    out = {resource.RLIMIT_NOFILE: limits.nofile, resource.RLIMIT_NPROC: limits.nproc,
           resource.RLIMIT_FSIZE: limits.fsize_bytes, resource.RLIMIT_CORE: 0}
    if as_bytes:
        out[resource.RLIMIT_AS] = as_bytes
    return out


def preexec(rlimits: dict[int, int], cgroup_files: list[str], drop_to: tuple[int, int] | None) -> Callable[[], None]:
    """Runs in the forked child before exec: join cgroups, set rlimits, drop uid (root only).

    Only async-signal-safe-ish syscalls: no logging, no locks.
    """
    def fn() -> None:
        pid = str(os.getpid()).encode()
        for f in cgroup_files:
            fd = os.open(f, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        for res, val in rlimits.items():
            soft, hard = resource.getrlimit(res)
            new_hard = val if hard == resource.RLIM_INFINITY else min(val, hard)
            resource.setrlimit(res, (min(val, new_hard), new_hard))
        if drop_to is not None:
            os.setgroups([])
            os.setgid(drop_to[1])
            os.setuid(drop_to[0])
    return fn
