"""bubblewrap: the runtime tree as ``/``, namespaces, no capabilities, a cgroup per sandbox.

Runs on the runtime tree of :mod:`sandbox.image` bound read-only as ``/`` (never the host's
``/``), the project packages bound read-only at ``/opt/invevolve``, the workspace copy
bound writable at ``/workspace``, then ``--proc``/``--dev`` (binds first, or the host's
/proc would show through), a size-capped tmpfs at ``/tmp``. ``--unshare-all`` (user, pid,
net, ipc, uts, cgroup namespaces), ``--disable-userns``, ``--cap-drop ALL``,
``--die-with-parent``, ``--new-session``, ``--clearenv``. bwrap itself is started with the
launcher environment of :mod:`sandbox.environment` (its pid 1 inside the namespace keeps
the environment bwrap was started with). When the caller is root, bwrap is started as the
unprivileged uid/gid 65534 (bwrap sets no-new-privileges for unprivileged callers), so the
sandbox is an unprivileged user namespace owned by an unprivileged host uid. rlimits are
applied before exec; v1 ``memory`` and ``pids`` cgroups are used where writable.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from sandbox import image as img
from sandbox.backends.base import SANDBOX_WS, WORKER_BOOT, SandboxBackend, project_binds
from sandbox.cgroups import CgroupV1
from sandbox.channel import Channel, PipeChannel
from sandbox.environment import launcher_env, sandbox_env
from sandbox.errors import SandboxUnavailable
from sandbox.limits import outer_rlimits, preexec
from sandbox.process import decode_output, kill_process_group, read_bounded
from sandbox.shell import CommandResult

INSTALL_HINT = "apt-get install -y --no-install-recommends bubblewrap"


class BwrapBackend(SandboxBackend):
    """bubblewrap on the runtime tree (see module docstring)."""

    name = "bwrap"

    def __init__(self, limits=None):
        super().__init__(limits)
        self._probed = False

    def _drop(self) -> tuple[int, int] | None:
        return (img.SANDBOX_UID, img.SANDBOX_GID) if os.geteuid() == 0 else None

    def argv(self, inner: list[str], *, workdir: Path | None, cwd: str) -> list[str]:
        uid = img.SANDBOX_UID if os.geteuid() == 0 else os.getuid()
        gid = img.SANDBOX_GID if os.geteuid() == 0 else os.getgid()
        a = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
             "--new-session", "--cap-drop", "ALL", "--uid", str(uid), "--gid", str(gid),
             "--hostname", "sandbox",
             "--ro-bind", str(self.root.path), "/"]
        for src, dest in project_binds():
            a += ["--ro-bind", str(src), dest]
        if workdir is not None:
            a += ["--bind", str(workdir), SANDBOX_WS]
        # Binds first, then proc/dev: a --proc before "/" would be hidden by the bind.
        a += ["--proc", "/proc", "--dev", "/dev", "--size", str(self.limits.tmpfs_bytes), "--tmpfs", "/tmp",
              "--chdir", cwd, "--clearenv"]
        for k, v in sandbox_env().items():
            a += ["--setenv", k, v]
        return a + ["--"] + inner

    def probe(self) -> None:
        if self._probed:
            return
        if shutil.which("bwrap", path=launcher_env()["PATH"]) is None:
            raise SandboxUnavailable(f"bwrap not installed ({INSTALL_HINT})")
        for src, _ in project_binds():
            if os.geteuid() == 0 and not _other_readable(src):
                raise SandboxUnavailable(f"{src} is not readable by uid {img.SANDBOX_UID}; bwrap cannot bind it")
        res = self.run_command(None, "echo ok", timeout=30, max_output=2000)
        if res.exit_code != 0 or "ok" not in res.output:
            raise SandboxUnavailable(f"bwrap probe failed (rc={res.exit_code}): {res.output.strip()[:500]}")
        self._probed = True

    def _spawn(self, argv: list[str], *, as_bytes: int | None, stdin: Any, stderr: Any) -> tuple[subprocess.Popen, CgroupV1 | None]:
        cg = CgroupV1(f"{os.getpid()}-{uuid.uuid4().hex[:8]}", self.limits.memory_bytes, self.limits.pids) \
            if CgroupV1.writable() else None
        pre = preexec(outer_rlimits(self.limits, as_bytes), cg.procs_files() if cg else [], self._drop())
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=launcher_env(),
                                preexec_fn=pre, start_new_session=True, close_fds=True, cwd="/")
        return proc, cg

    def start_worker(self) -> Channel:
        argv = self.argv([self.root.python, "-I", "-c", WORKER_BOOT], workdir=None, cwd="/tmp")
        proc, cg = self._spawn(argv, as_bytes=self.limits.worker_as_bytes, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        return PipeChannel(proc, cleanup=cg.remove if cg else None)

    def run_command(self, workdir: Path | None, command: str, timeout: float, max_output: int) -> CommandResult:
        argv = self.argv(["/bin/sh", "-c", command], workdir=workdir, cwd=SANDBOX_WS if workdir else "/tmp")
        proc, cg = self._spawn(argv, as_bytes=None, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            def kill() -> None:
                kill_process_group(proc)
                if cg:
                    cg.kill_all()
            out, truncated, timed_out = read_bounded(proc, timeout, max_output, kill)
            if proc.stdout:
                proc.stdout.close()
        finally:
            if proc.poll() is None:
                kill_process_group(proc)
            if cg:
                cg.remove()
        return CommandResult(None if timed_out else proc.returncode, decode_output(out, truncated, max_output),
                             timed_out, truncated)

    def describe(self) -> str:
        who = f"host uid {img.SANDBOX_UID}" if os.geteuid() == 0 else f"host uid {os.getuid()}"
        cg = "memory+pids cgroups (v1)" if CgroupV1.writable() else "no cgroups (rlimits only)"
        return f"bwrap (user namespace as {who}, {cg}, root {self.root.path})"


def _other_readable(path: Path) -> bool:
    """True if every directory from / to ``path`` is traversable by 'others'."""
    p = path.resolve()
    for parent in [p, *p.parents]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
    return True
