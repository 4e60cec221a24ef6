"""Sandbox backends: where untrusted policy code and agent shell commands run.

A :class:`SandboxBackend` can (a) start a long-lived worker that speaks the
:mod:`sandbox.protocol` frames on a :class:`Channel`, and (b) run one shell command in a
directory (the agent's workspace copy) with a timeout and bounded output.

``bwrap`` (bubblewrap)
    Runs on the runtime tree of :mod:`sandbox.image` bound read-only as ``/`` (never the
    host's ``/``), the project packages bound read-only at ``/opt/invevolve``, the workspace
    copy bound writable at ``/workspace``, then ``--proc``/``--dev`` (binds first, or the
    host's /proc would show through), a size-capped tmpfs at ``/tmp``. ``--unshare-all``
    (user, pid, net, ipc, uts, cgroup namespaces) and ``--disable-userns``, ``--cap-drop ALL``,
    ``--die-with-parent``, ``--new-session``, ``--clearenv``. When the caller is root, bwrap
    itself is started as the unprivileged uid/gid 65534 (bwrap sets no-new-privileges for
    unprivileged callers), so the sandbox is an unprivileged user namespace owned by an
    unprivileged host uid. rlimits are applied before exec; v1 ``memory`` and ``pids``
    cgroups are used where writable (root, cgroup v1).
``docker`` (docker SDK)
    The locally imported image, ``network_mode="none"``, read-only root, tmpfs ``/tmp``,
    ``mem_limit``/``memswap_limit``, ``pids_limit``, ``cap_drop=["ALL"]``,
    ``no-new-privileges``, user 65534, ulimits, ``init=True``. Containers are labelled with
    their owner; they are killed on timeout, on close, at interpreter exit, and stale ones
    of dead owners are removed when a backend starts (killing the client alone would leave
    them running).
``degraded``
    No filesystem isolation: a network (and, as root, pid/ipc/uts) namespace via
    ``unshare`` plus rlimits and, as root, uid 65534. Logged loudly at start.

:func:`select_backend` picks docker when an engine answers ``ping()``, else bubblewrap when
a probe sandbox starts, else degraded, and logs the choice.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import os
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sandbox import image as img
from sandbox import protocol
from sandbox.shell import CommandResult

log = logging.getLogger(__name__)

WORKER_BOOT = ("import sys; sys.path.insert(0, '/opt/invevolve'); "
               "from sandbox.worker import main; main()")
SANDBOX_WS = "/workspace"


class SandboxUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says why)."""


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
    candidate_as_bytes: int = 2 << 30
    candidate_cpu_s: int = 600
    candidate_nproc: int = 64
    workspace_quota_bytes: int = 256 << 20

    def candidate_rlimits(self) -> dict[str, int]:
        return {"cpu_s": self.candidate_cpu_s, "as_bytes": self.candidate_as_bytes,
                "fsize_bytes": self.fsize_bytes, "nofile": 64, "nproc": self.candidate_nproc, "core": 0}


def sandbox_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "PATH": f"{img.PY_DEST}/bin:/usr/bin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONPATH": img.PROJECT_DEST, "PYTHONDONTWRITEBYTECODE": "1",
        "LD_LIBRARY_PATH": f"{img.PY_DEST}/lib",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg", "TMPDIR": "/tmp",
    }
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- channels


class Channel(ABC):
    """A duplex frame channel to a worker, and the power to kill it."""

    @abstractmethod
    def send(self, msg: Any) -> None: ...

    @abstractmethod
    def recv(self, timeout: float) -> Any:
        """Next frame; raises TimeoutError, EOFError or ProtocolError."""

    @abstractmethod
    def kill(self) -> None:
        """Kill everything the worker started. Idempotent."""

    @abstractmethod
    def alive(self) -> bool: ...


class _FrameBuffer:
    def __init__(self) -> None:
        self.buf = bytearray()

    def pop(self) -> Any | None:
        if len(self.buf) < 4:
            return None
        (n,) = struct.unpack(">I", self.buf[:4])
        if n > protocol.MAX_FRAME:
            raise protocol.ProtocolError(f"frame of {n} bytes exceeds {protocol.MAX_FRAME}")
        if len(self.buf) < 4 + n:
            return None
        body = bytes(self.buf[4:4 + n])
        del self.buf[:4 + n]
        return protocol.decode_body(body)


class PipeChannel(Channel):
    """A worker started as a subprocess (bwrap or degraded) with stdin/stdout pipes."""

    def __init__(self, proc: subprocess.Popen, cleanup: Callable[[], None] | None = None):
        self.proc = proc
        self._cleanup = cleanup
        self._frames = _FrameBuffer()
        self._stderr_tail = bytearray()
        self._killed = False
        assert proc.stdout is not None and proc.stdin is not None
        self._out_fd = proc.stdout.fileno()
        self._err_thread = None
        if proc.stderr is not None:
            self._err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
            self._err_thread.start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in iter(self.proc.stderr.readline, b""):
            self._stderr_tail = (self._stderr_tail + line)[-4000:]
            log.debug("sandbox worker stderr: %s", line.decode("utf-8", "replace").rstrip())

    @property
    def stderr_tail(self) -> str:
        return self._stderr_tail.decode("utf-8", "replace")

    def send(self, msg: Any) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(protocol.encode(msg))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise EOFError(f"worker stdin closed: {exc}") from exc

    def recv(self, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frames.pop()
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("worker did not answer in time")
            r, _, _ = select.select([self._out_fd], [], [], left)
            if not r:
                continue
            chunk = os.read(self._out_fd, 1 << 20)
            if not chunk:
                raise EOFError(f"worker exited (rc={self.proc.poll()}): {self.stderr_tail[-500:]}")
            self._frames.buf += chunk

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        _kill_process_group(self.proc)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        if self._cleanup is not None:
            self._cleanup()

    def alive(self) -> bool:
        return not self._killed and self.proc.poll() is None


def _kill_process_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except (ProcessLookupError, OSError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log.error("sandbox process %d did not die after SIGKILL", proc.pid)


# ---------------------------------------------------------------- cgroups (v1)


class CgroupV1:
    """A private memory+pids cgroup (v1), when this process may create one."""

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


def _preexec(rlimits: dict[int, int], cgroup_files: list[str], drop_to: tuple[int, int] | None) -> Callable[[], None]:
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


def _outer_rlimits(limits: Limits, as_bytes: int | None) -> dict[int, int]:
    out = {resource.RLIMIT_NOFILE: limits.nofile, resource.RLIMIT_NPROC: limits.nproc,
           resource.RLIMIT_FSIZE: limits.fsize_bytes, resource.RLIMIT_CORE: 0}
    if as_bytes:
        out[resource.RLIMIT_AS] = as_bytes
    return out


def _read_bounded(proc: subprocess.Popen, timeout: float, max_output: int, on_timeout: Callable[[], None]) -> tuple[bytes, bool, bool]:
    """(output, truncated, timed_out): read stdout until EOF and exit, keep max_output bytes."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    kept = bytearray()
    truncated = False
    deadline = time.monotonic() + timeout
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            on_timeout()
            break
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not r:
            if proc.poll() is not None:
                # the leader exited but a descendant may still hold the pipe; give it the deadline
                continue
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        room = max_output - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > max(room, 0):
            truncated = True
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()) if not timed_out else 5)
    except subprocess.TimeoutExpired:
        timed_out = True
        on_timeout()
    return bytes(kept), truncated, timed_out


def _decode_output(data: bytes, truncated: bool, max_output: int) -> str:
    text = data.decode("utf-8", "replace")
    if truncated:
        text += f"\n[output truncated to {max_output} bytes]"
    return text


# ---------------------------------------------------------------- backends


class SandboxBackend(ABC):
    """Where untrusted code runs. Subclasses are cheap to construct; :meth:`probe` may be slow."""

    name: str = "abstract"
    isolating: bool = True  # False only for the degraded fallback

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()

    @abstractmethod
    def probe(self) -> None:
        """Raise :class:`SandboxUnavailable` with a reason unless this backend can run here."""

    @abstractmethod
    def start_worker(self) -> Channel:
        """Start a policy worker (protocol on a channel); the caller sends ``init`` first."""

    @abstractmethod
    def run_command(self, workdir: Path, command: str, timeout: float, max_output: int) -> CommandResult:
        """Run ``sh -c command`` with cwd = ``workdir`` (seen inside as /workspace)."""

    @property
    def has_pid_namespace(self) -> bool:
        return True

    def prepare_workdir(self, workdir: Path) -> None:
        """Make a workspace copy writable by the sandbox user (uid 65534 when we are root)."""
        if os.geteuid() == 0:
            for dirpath, dirnames, filenames in os.walk(workdir):
                os.chown(dirpath, img.SANDBOX_UID, img.SANDBOX_GID)
                for n in filenames:
                    os.chown(os.path.join(dirpath, n), img.SANDBOX_UID, img.SANDBOX_GID, follow_symlinks=False)
        else:
            for dirpath, dirnames, filenames in os.walk(workdir):
                os.chmod(dirpath, 0o777)
                for n in filenames:
                    p = os.path.join(dirpath, n)
                    if not os.path.islink(p):
                        os.chmod(p, 0o666)

    def describe(self) -> str:
        return self.name


def _project_binds() -> list[tuple[Path, str]]:
    root = img.project_root()
    return [(root / pkg, f"{img.PROJECT_DEST}/{pkg}") for pkg in img.PROJECT_PACKAGES]


class BwrapBackend(SandboxBackend):
    """bubblewrap on the runtime tree (see module docstring)."""

    name = "bwrap"

    def __init__(self, limits: Limits | None = None):
        super().__init__(limits)
        self._root: img.RuntimeRoot | None = None
        self._probed = False

    @property
    def root(self) -> img.RuntimeRoot:
        if self._root is None:
            self._root = img.ensure_runtime_root()
        return self._root

    def _drop(self) -> tuple[int, int] | None:
        return (img.SANDBOX_UID, img.SANDBOX_GID) if os.geteuid() == 0 else None

    def argv(self, inner: list[str], *, workdir: Path | None, cwd: str) -> list[str]:
        uid = img.SANDBOX_UID if os.geteuid() == 0 else os.getuid()
        gid = img.SANDBOX_GID if os.geteuid() == 0 else os.getgid()
        a = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
             "--new-session", "--cap-drop", "ALL", "--uid", str(uid), "--gid", str(gid),
             "--hostname", "sandbox",
             "--ro-bind", str(self.root.path), "/"]
        for src, dest in _project_binds():
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
        if shutil.which("bwrap") is None:
            raise SandboxUnavailable("bwrap not installed (apt-get install -y --no-install-recommends bubblewrap)")
        for src, _ in _project_binds():
            if os.geteuid() == 0 and not _other_readable(src):
                raise SandboxUnavailable(f"{src} is not readable by uid {img.SANDBOX_UID}; bwrap cannot bind it")
        res = self.run_command(None, "echo ok", timeout=30, max_output=2000)
        if res.exit_code != 0 or "ok" not in res.output:
            raise SandboxUnavailable(f"bwrap probe failed (rc={res.exit_code}): {res.output.strip()[:500]}")
        self._probed = True

    def _spawn(self, argv: list[str], *, as_bytes: int | None, stdin: Any, stderr: Any) -> tuple[subprocess.Popen, CgroupV1 | None]:
        cg = CgroupV1(f"{os.getpid()}-{uuid.uuid4().hex[:8]}", self.limits.memory_bytes, self.limits.pids) \
            if CgroupV1.writable() else None
        pre = _preexec(_outer_rlimits(self.limits, as_bytes), cg.procs_files() if cg else [], self._drop())
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
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
                _kill_process_group(proc)
                if cg:
                    cg.kill_all()
            out, truncated, timed_out = _read_bounded(proc, timeout, max_output, kill)
            if proc.stdout:
                proc.stdout.close()
        finally:
            if proc.poll() is None:
                _kill_process_group(proc)
            if cg:
                cg.remove()
        return CommandResult(None if timed_out else proc.returncode, _decode_output(out, truncated, max_output),
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


class DegradedBackend(SandboxBackend):
    """Network namespace + rlimits (+ uid 65534 and pid namespace as root). No filesystem isolation."""

    name = "degraded"
    isolating = False

    def __init__(self, limits: Limits | None = None):
        super().__init__(limits)
        self._root: img.RuntimeRoot | None = None
        self._mode: str | None = None

    @property
    def root(self) -> img.RuntimeRoot:
        if self._root is None:
            self._root = img.ensure_runtime_root()
        return self._root

    def _prefix(self) -> list[str]:
        if self._mode is None:
            self._mode = self._detect()
        if self._mode == "root":
            return ["unshare", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc",
                    "setpriv", f"--reuid={img.SANDBOX_UID}", f"--regid={img.SANDBOX_GID}", "--clear-groups",
                    "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        if self._mode == "userns":
            return ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]
        return []

    @property
    def has_pid_namespace(self) -> bool:
        if self._mode is None:
            self._mode = self._detect()
        return self._mode in ("root", "userns")

    def _detect(self) -> str:
        if shutil.which("unshare") is None:
            return "none"
        if os.geteuid() == 0 and shutil.which("setpriv"):
            probe = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"]
            mode = "root"
        else:
            probe = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc", "true"]
            mode = "userns"
        try:
            ok = subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        return mode if ok else "none"

    def probe(self) -> None:
        _ = self.root
        mode = self._detect()
        self._mode = mode
        log.warning(
            "SANDBOX DEGRADED: neither bubblewrap nor docker isolates this run. Policies and shell commands run on the host "
            "filesystem with only %s and rlimits. Do NOT run untrusted code like this outside a disposable machine.",
            {"root": "network/pid namespaces, uid 65534", "userns": "network/pid namespaces (user ns)",
             "none": "NO network isolation"}[mode])

    def _env(self, workdir: Path | None) -> dict[str, str]:
        tree = self.root.path
        return sandbox_env({
            "PATH": f"{tree}/opt/python/bin:/usr/bin:/bin",
            "PYTHONPATH": str(img.project_root()),
            "LD_LIBRARY_PATH": f"{tree}/opt/python/lib",
            "HOME": str(workdir) if workdir else "/tmp",
        })

    def _spawn(self, argv: list[str], workdir: Path | None, *, as_bytes: int | None, stdin: Any, stderr: Any) -> subprocess.Popen:
        pre = _preexec(_outer_rlimits(self.limits, as_bytes), [], None)
        return subprocess.Popen(self._prefix() + argv, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                                preexec_fn=pre, start_new_session=True, close_fds=True,
                                cwd=str(workdir) if workdir else "/tmp", env=self._env(workdir))

    def start_worker(self) -> Channel:
        py = str(self.root.path / "opt/python/bin/python3")
        boot = WORKER_BOOT.replace("/opt/invevolve", str(img.project_root()))
        proc = self._spawn([py, "-I", "-c", boot], None, as_bytes=self.limits.worker_as_bytes,
                           stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        return PipeChannel(proc)

    def run_command(self, workdir: Path | None, command: str, timeout: float, max_output: int) -> CommandResult:
        proc = self._spawn(["/bin/sh", "-c", command], workdir, as_bytes=None, stdin=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT)
        out, truncated, timed_out = _read_bounded(proc, timeout, max_output, lambda: _kill_process_group(proc))
        if proc.stdout:
            proc.stdout.close()
        if proc.poll() is None:
            _kill_process_group(proc)
        return CommandResult(None if timed_out else proc.returncode, _decode_output(out, truncated, max_output),
                             timed_out, truncated)

    def describe(self) -> str:
        return f"degraded ({self._mode or self._detect()}; NO filesystem isolation)"


# ---------------------------------------------------------------- docker


_LIVE_CONTAINERS: "weakref.WeakSet[DockerChannel]" = weakref.WeakSet()
_OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _kill_live_containers() -> None:
    for ch in list(_LIVE_CONTAINERS):
        try:
            ch.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_kill_live_containers)


class DockerChannel(Channel):
    """A worker container: stdin/stdout over the attach socket (multiplexed stream frames)."""

    def __init__(self, container: Any, sock: Any):
        self.container = container
        self._sock = getattr(sock, "_sock", sock)
        self._frames = _FrameBuffer()
        self._mux = bytearray()
        self._stderr = bytearray()
        self._killed = False
        self._eof = False
        _LIVE_CONTAINERS.add(self)

    def send(self, msg: Any) -> None:
        try:
            self._sock.sendall(protocol.encode(msg))
        except OSError as exc:
            raise EOFError(f"container stdin closed: {exc}") from exc

    def _demux(self) -> None:
        while len(self._mux) >= 8:
            stream, size = self._mux[0], struct.unpack(">I", self._mux[4:8])[0]
            if len(self._mux) < 8 + size:
                return
            payload = bytes(self._mux[8:8 + size])
            del self._mux[:8 + size]
            if stream == 1:
                self._frames.buf += payload
            else:
                self._stderr = (self._stderr + payload)[-4000:]

    def recv(self, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frames.pop()
            if frame is not None:
                return frame
            if self._eof:
                raise EOFError(f"worker container exited: {self._stderr.decode('utf-8', 'replace')[-500:]}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("worker container did not answer in time")
            r, _, _ = select.select([self._sock], [], [], left)
            if not r:
                continue
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                self._eof = True
                continue
            self._mux += chunk
            self._demux()

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        try:
            self._sock.close()
        except OSError:
            pass
        try:
            self.container.remove(force=True)
        except Exception as exc:  # noqa: BLE001 - already gone is fine
            log.debug("removing container: %s", exc)

    def alive(self) -> bool:
        return not self._killed and not self._eof


class DockerBackend(SandboxBackend):
    """Docker engine through the SDK, on the locally imported image (see module docstring)."""

    name = "docker"

    def __init__(self, limits: Limits | None = None, client: Any | None = None, build_image: bool = True):
        super().__init__(limits)
        self._client = client
        self._image: str | None = None
        self._build = build_image

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import docker
            except ImportError as exc:
                raise SandboxUnavailable("the docker Python SDK is not installed") from exc
            try:
                self._client = docker.from_env(timeout=120)
            except Exception as exc:  # noqa: BLE001
                raise SandboxUnavailable(f"no docker engine: {exc}") from exc
        return self._client

    def probe(self) -> None:
        try:
            self.client.ping()
        except SandboxUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SandboxUnavailable(f"docker engine does not answer ping(): {exc}") from exc
        root = img.ensure_runtime_root()
        import docker
        try:
            self.client.images.get(root.image_tag)
        except docker.errors.ImageNotFound:
            if not self._build:
                raise SandboxUnavailable(f"image {root.image_tag} missing; run `python -m sandbox.image build`") from None
            log.info("docker image %s missing; building it locally (python -m sandbox.image build)", root.image_tag)
            img.build_docker_image(root, self.client)
        self._image = root.image_tag
        self._sweep_stale()

    @property
    def image(self) -> str:
        if self._image is None:
            self.probe()
        assert self._image is not None
        return self._image

    def _sweep_stale(self) -> None:
        """Remove containers left by dead owners on this host (a killed client leaves them running)."""
        host = socket.gethostname()
        try:
            found = self.client.containers.list(all=True, filters={"label": "invevolve.sandbox"})
        except Exception as exc:  # noqa: BLE001
            log.debug("listing containers: %s", exc)
            return
        for c in found:
            owner = c.labels.get("invevolve.owner", "")
            h, _, pid = owner.rpartition(":")
            if h != host or not pid.isdigit() or _pid_alive(int(pid)):
                continue
            log.info("removing stale sandbox container %s of dead owner %s", c.short_id, owner)
            try:
                c.remove(force=True)
            except Exception:  # noqa: BLE001
                pass

    def _run_kwargs(self, workdir: Path | None, kind: str) -> dict[str, Any]:
        from docker.types import LogConfig, Ulimit

        L = self.limits
        volumes = {str(src): {"bind": dest, "mode": "ro"} for src, dest in _project_binds()}
        if workdir is not None:
            volumes[str(workdir)] = {"bind": SANDBOX_WS, "mode": "rw"}
        return dict(
            image=self.image, network_mode="none", read_only=True,
            tmpfs={"/tmp": f"size={L.tmpfs_bytes},mode=1777,nosuid,nodev"},
            mem_limit=L.memory_bytes, memswap_limit=L.memory_bytes, pids_limit=L.pids,
            cap_drop=["ALL"], security_opt=["no-new-privileges"], user=f"{img.SANDBOX_UID}:{img.SANDBOX_GID}",
            init=True, ipc_mode="private", hostname="sandbox",
            ulimits=[Ulimit(name="nofile", soft=L.nofile, hard=L.nofile), Ulimit(name="nproc", soft=L.nproc, hard=L.nproc),
                     Ulimit(name="fsize", soft=L.fsize_bytes, hard=L.fsize_bytes), Ulimit(name="core", soft=0, hard=0)],
            volumes=volumes, environment=sandbox_env(),
            working_dir=SANDBOX_WS if workdir is not None else "/tmp",
            labels={"invevolve.sandbox": kind, "invevolve.owner": _OWNER},
            log_config=LogConfig(type="json-file", config={"max-size": "2m", "max-file": "1"}),
        )

    def start_worker(self) -> Channel:
        kw = self._run_kwargs(None, "worker")
        container = self.client.containers.create(command=[img.RuntimeRoot(Path("/"), "").python, "-I", "-c", WORKER_BOOT],
                                                  stdin_open=True, tty=False, **kw)
        try:
            sock = container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            container.start()
        except Exception:
            container.remove(force=True)
            raise
        return DockerChannel(container, sock)

    def run_command(self, workdir: Path | None, command: str, timeout: float, max_output: int) -> CommandResult:
        kw = self._run_kwargs(workdir, "shell")
        container = self.client.containers.create(command=["/bin/sh", "-c", command], **kw)
        ch_guard = _ContainerGuard(container)
        try:
            container.start()
            timed_out = False
            try:
                rc = container.wait(timeout=timeout)["StatusCode"]
            except Exception:  # noqa: BLE001 - requests' ReadTimeout / ConnectionError
                timed_out, rc = True, None
                try:
                    container.kill()
                except Exception:  # noqa: BLE001
                    pass
            raw = container.logs(stdout=True, stderr=True) or b""
        finally:
            ch_guard.kill()
        truncated = len(raw) > max_output
        return CommandResult(None if timed_out else int(rc), _decode_output(raw[:max_output], truncated, max_output),
                             timed_out, truncated)

    def prepare_workdir(self, workdir: Path) -> None:
        super().prepare_workdir(workdir)

    def describe(self) -> str:
        try:
            v = self.client.version().get("Version", "?")
        except Exception:  # noqa: BLE001
            v = "?"
        return f"docker (engine {v}, image {self._image})"


class _ContainerGuard:
    """Registers a container for the at-exit kill while it exists."""

    def __init__(self, container: Any):
        self.ch = DockerChannel.__new__(DockerChannel)
        self.ch.container, self.ch._sock, self.ch._killed, self.ch._eof = container, None, False, False
        _LIVE_CONTAINERS.add(self.ch)

    def kill(self) -> None:
        self.ch._killed = True
        try:
            self.ch.container.remove(force=True)
        except Exception:  # noqa: BLE001
            pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class NoSandbox:
    """Marker for ``backend="none"``: policies run in-process (trusted code only)."""

    name = "none"


BACKENDS: dict[str, type[SandboxBackend]] = {"docker": DockerBackend, "bwrap": BwrapBackend, "degraded": DegradedBackend}
_AUTO_ORDER = ("docker", "bwrap", "degraded")
_selected: dict[str, SandboxBackend] = {}
_sel_lock = threading.Lock()


def select_backend(preference: str = "auto", limits: Limits | None = None) -> SandboxBackend:
    """The backend to use, probed and logged. ``auto`` tries docker, bwrap, then degraded.

    A named backend that cannot run raises :class:`SandboxUnavailable` with the reason; it
    is never silently replaced. Probed backends are cached per (preference) when ``limits``
    is the default.
    """
    if preference not in ("auto", *BACKENDS):
        raise ValueError(f"unknown sandbox backend {preference!r}; choose auto, bwrap, docker, degraded or none")
    cacheable = limits is None
    with _sel_lock:
        if cacheable and preference in _selected:
            return _selected[preference]
        order = _AUTO_ORDER if preference == "auto" else (preference,)
        reasons = []
        for name in order:
            backend = BACKENDS[name](limits)
            try:
                backend.probe()
            except SandboxUnavailable as exc:
                reasons.append(f"{name}: {exc}")
                log.info("sandbox backend %s unavailable: %s", name, exc)
                continue
            log.info("sandbox backend selected: %s%s", backend.describe(),
                     f" (skipped: {'; '.join(reasons)})" if reasons else "")
            if cacheable:
                _selected[preference] = backend
            return backend
        raise SandboxUnavailable("; ".join(reasons))


def available_backends() -> dict[str, str | None]:
    """name -> None when usable, else the reason it is not (probes each; for tests and tools)."""
    out: dict[str, str | None] = {}
    for name in BACKENDS:
        try:
            select_backend(name)
            out[name] = None
        except SandboxUnavailable as exc:
            out[name] = str(exc)
    return out


_ids = itertools.count(1)
