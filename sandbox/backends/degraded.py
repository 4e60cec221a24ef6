"""The opt-in degraded backend: namespaces and rlimits, but no filesystem isolation.

Only ever used when asked for by name (``--sandbox degraded``); ``auto`` never picks it.
It runs on the host filesystem inside a network namespace (and, as root, pid/ipc/uts
namespaces with uid 65534 through ``setpriv``; otherwise a user namespace), plus rlimits.

It refuses to run at all when ``unshare`` cannot create those namespaces: that would be no
isolation whatsoever. Because it cannot hide files, it must *prove* that sandboxed code
cannot read a workspace's ``hidden/`` (:meth:`DegradedBackend.guard_hidden`): it lists the
files as the host and tries to open each one as the sandbox identity, and refuses if any
open succeeds (the fix is ``chmod -R go-rwx hidden`` as root, or a real backend).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

from sandbox import fstree
from sandbox import image as img
from sandbox.backends.base import WORKER_BOOT, SandboxBackend
from sandbox.backends.bwrap import INSTALL_HINT
from sandbox.channel import Channel, PipeChannel
from sandbox.environment import launcher_env, sandbox_env
from sandbox.errors import SandboxUnavailable
from sandbox.limits import outer_rlimits, preexec
from sandbox.process import decode_output, kill_process_group, read_bounded
from sandbox.shell import CommandResult

log = logging.getLogger(__name__)

_READ_PROBE = ("import json, os, sys\n"
               "ok = []\n"
               "for p in json.loads(sys.stdin.read()):\n"
               "    try:\n"
               "        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)\n"
               "        os.close(fd)\n"
               "        ok.append(p)\n"
               "    except OSError:\n"
               "        pass\n"
               "print(json.dumps(ok))\n")


class DegradedBackend(SandboxBackend):
    """Network namespace + rlimits (+ uid 65534 and pid namespace as root). No filesystem isolation."""

    name = "degraded"
    isolating = False

    def __init__(self, limits=None):
        super().__init__(limits)
        self._mode: str | None = None

    @property
    def mode(self) -> str:
        """``root`` (uid 65534 + namespaces), ``userns`` (user namespace) or ``none`` (refused)."""
        if self._mode is None:
            self._mode = self._detect()
        return self._mode

    def _prefix(self) -> list[str]:
        if self.mode == "root":
            return ["unshare", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc",
                    "setpriv", f"--reuid={img.SANDBOX_UID}", f"--regid={img.SANDBOX_GID}", "--clear-groups",
                    "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        if self.mode == "userns":
            return ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]
        raise SandboxUnavailable(self._refusal())

    @property
    def has_pid_namespace(self) -> bool:
        return self.mode in ("root", "userns")

    def _detect(self) -> str:
        path = launcher_env()["PATH"]
        if shutil.which("unshare", path=path) is None:
            return "none"
        if os.geteuid() == 0 and shutil.which("setpriv", path=path):
            probe = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"]
            mode = "root"
        else:
            probe = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc", "true"]
            mode = "userns"
        try:
            ok = subprocess.run(probe, capture_output=True, timeout=10, env=launcher_env()).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        return mode if ok else "none"

    @staticmethod
    def _refusal() -> str:
        return ("degraded backend refused: `unshare` cannot create network and pid namespaces here, so there would "
                f"be no isolation at all; install bubblewrap ({INSTALL_HINT}) or start a docker engine")

    def probe(self) -> None:
        _ = self.root
        self._mode = self._detect()
        if self._mode == "none":
            raise SandboxUnavailable(self._refusal())
        log.warning(
            "SANDBOX DEGRADED: policies and shell commands run on the host filesystem with only %s and rlimits "
            "(opt-in; hidden/ folders are checked to be unreadable). Do NOT run untrusted code like this outside a "
            "disposable machine.",
            {"root": "network/pid namespaces, uid 65534", "userns": "network/pid namespaces (user ns)"}[self._mode])

    def _env(self, workdir: Path | None) -> dict[str, str]:
        tree = self.root.path
        return sandbox_env({
            "PATH": f"{tree}/opt/python/bin:/usr/bin:/bin",
            "PYTHONPATH": str(img.project_root()),
            "LD_LIBRARY_PATH": f"{tree}/opt/python/lib",
            "HOME": str(workdir) if workdir else "/tmp",
        })

    def _spawn(self, argv: list[str], workdir: Path | None, *, as_bytes: int | None, stdin: Any, stderr: Any) -> subprocess.Popen:
        pre = preexec(outer_rlimits(self.limits, as_bytes), [], None)
        return subprocess.Popen(self._prefix() + argv, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                                preexec_fn=pre, start_new_session=True, close_fds=True,
                                cwd=str(workdir) if workdir else "/tmp", env=self._env(workdir))

    def guard_hidden(self, paths: Iterable[Path]) -> None:
        """Prove that the sandbox identity can open no file or directory under ``paths``; else refuse."""
        targets: list[str] = []
        for p in paths:
            p = Path(p).resolve()
            if not p.exists():
                continue
            targets.append(str(p))
            if p.is_dir():
                targets += [str(p.joinpath(*e.parts)) for e in fstree.scan(p, max_depth=64).entries]
        if not targets:
            return
        py = str(self.root.path / "opt/python/bin/python3")
        proc = self._spawn([py, "-I", "-S", "-c", _READ_PROBE], None, as_bytes=None, stdin=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        try:
            out, _ = proc.communicate(json.dumps(targets).encode(), timeout=30)
        except subprocess.TimeoutExpired:
            kill_process_group(proc)
            raise SandboxUnavailable("degraded backend: the hidden-file probe did not finish") from None
        try:
            readable = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise SandboxUnavailable(f"degraded backend: hidden-file probe failed: {out[-300:]!r}") from None
        if readable:
            who = f"uid {img.SANDBOX_UID}" if self.mode == "root" else f"uid {os.getuid()} (user namespace)"
            raise SandboxUnavailable(
                f"degraded backend refused: {readable[0]} (and {len(readable) - 1} more) is readable by the sandbox "
                f"user ({who}); make hidden/ private (`chmod -R go-rwx <workspace>/hidden` as root) or use bwrap/docker")

    def start_worker(self) -> Channel:
        py = str(self.root.path / "opt/python/bin/python3")
        boot = WORKER_BOOT.replace("/opt/invevolve", str(img.project_root()))
        proc = self._spawn([py, "-I", "-c", boot], None, as_bytes=self.limits.worker_as_bytes,
                           stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        return PipeChannel(proc)

    def run_command(self, workdir: Path | None, command: str, timeout: float, max_output: int) -> CommandResult:
        proc = self._spawn(["/bin/sh", "-c", command], workdir, as_bytes=None, stdin=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT)
        out, truncated, timed_out = read_bounded(proc, timeout, max_output, lambda: kill_process_group(proc))
        if proc.stdout:
            proc.stdout.close()
        if proc.poll() is None:
            kill_process_group(proc)
        return CommandResult(None if timed_out else proc.returncode, decode_output(out, truncated, max_output),
                             timed_out, truncated)

    def describe(self) -> str:
        return f"degraded ({self.mode}; NO filesystem isolation)"
