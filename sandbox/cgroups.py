"""A private memory + pids cgroup (v1) per sandbox, when this process may create one.

The bwrap backend puts each sandbox (one worker, or one shell command) in its own cgroup
under ``/sys/fs/cgroup/{memory,pids}/invevolve-sandbox/``, so one sandbox's memory use is
charged to it alone and its OOM kills stay inside it. Where cgroups are not writable (not
root, or cgroup v2 without delegation) the rlimits of :mod:`sandbox.limits` remain, and each
candidate still has its own address-space limit.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)


class CgroupV1:
    """A private memory+pids cgroup (v1); ``dirs`` holds the controllers that worked."""

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, name: str, memory_bytes: int, pids: int):
        self.dirs: list[Path] = []
        for ctrl, settings in (("memory", {"memory.limit_in_bytes": memory_bytes}), ("pids", {"pids.max": pids})):
            base = self.ROOT / ctrl
            if not (base / "cgroup.procs").exists():
                continue
            d = base / "invevolve-sandbox" / name
            try:
                d.mkdir(parents=True, exist_ok=True)
                for k, v in settings.items():
                    (d / k).write_text(str(v))
                if ctrl == "memory" and (d / "memory.memsw.limit_in_bytes").exists():
                    try:
                        (d / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
                    except OSError:
                        pass
                self.dirs.append(d)
            except OSError as exc:
                log.debug("cgroup %s not usable: %s", d, exc)
                try:
                    d.rmdir()
                except OSError:
                    pass

    @classmethod
    def writable(cls) -> bool:
        for ctrl in ("memory", "pids"):
            if not os.access(cls.ROOT / ctrl, os.W_OK) or not (cls.ROOT / ctrl / "cgroup.procs").exists():
                return False
        return True

    @property
    def controllers(self) -> list[str]:
        return [d.parent.parent.name for d in self.dirs]

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer took in this cgroup (0 if unknown)."""
        for d in self.dirs:
            f = d / "memory.oom_control"
            if f.exists():
                try:
                    for line in f.read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
                except (OSError, ValueError):
                    return 0
        return 0

    def kill_all(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                try:
                    pids = [int(x) for x in (d / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                time.sleep(0.01)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
