"""docker (through the SDK): the locally imported runtime image, no network, no capabilities.

``network_mode="none"``, read-only root, tmpfs ``/tmp``, ``mem_limit``/``memswap_limit``,
``pids_limit``, ``cap_drop=["ALL"]``, ``no-new-privileges``, user 65534, ulimits,
``init=True``, and an environment that is exactly :func:`sandbox.environment.sandbox_env`
(the image, made by ``docker import``, declares none). Containers are labelled with their
owner; they are killed on timeout, on close, at interpreter exit, and stale ones of dead
owners are removed when a backend starts (killing the client alone would leave them running).
"""
from __future__ import annotations

import atexit
import logging
import os
import select
import socket
import struct
import time
import weakref
from pathlib import Path
from typing import Any

from sandbox import image as img
from sandbox.backends.base import SANDBOX_WS, WORKER_BOOT, SandboxBackend, project_binds
from sandbox.channel import SEND_TIMEOUT, Channel, FrameBuffer
from sandbox.environment import sandbox_env
from sandbox.errors import SandboxUnavailable
from sandbox.process import decode_output, pid_alive
from sandbox.shell import CommandResult
from sandbox import protocol

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install -y docker.io and start the engine (or set DOCKER_HOST)"

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
        self._frames = FrameBuffer()
        self._mux = bytearray()
        self._stderr = bytearray()
        self._killed = False
        self._eof = False
        _LIVE_CONTAINERS.add(self)

    def send(self, msg: Any, timeout: float = SEND_TIMEOUT) -> None:
        if self._killed:
            raise EOFError("channel is closed")
        data = memoryview(protocol.encode(msg))
        deadline = time.monotonic() + timeout
        try:
            while data:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("worker container did not read its input in time")
                _, w, _ = select.select([], [self._sock], [], left)
                if w:
                    data = data[self._sock.send(data):]
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
            if self._sock is not None:
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

    def __init__(self, limits=None, client: Any | None = None, build_image: bool = True):
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
                raise SandboxUnavailable("the docker Python SDK is not installed (pip install docker)") from exc
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
        try:
            root = img.ensure_runtime_root()
        except img.UntrustedCache as exc:
            raise SandboxUnavailable(str(exc)) from exc
        import docker
        try:
            self.client.images.get(root.image_tag)
        except docker.errors.ImageNotFound:
            if not self._build:
                raise SandboxUnavailable(f"image {root.image_tag} missing; run `python -m sandbox.image build`") from None
            log.info("docker image %s missing; building it locally (python -m sandbox.image build)", root.image_tag)
            from sandbox.dockerimage import build_docker_image
            build_docker_image(root, self.client)
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
            if h != host or not pid.isdigit() or pid_alive(int(pid)):
                continue
            log.info("removing stale sandbox container %s of dead owner %s", c.short_id, owner)
            try:
                c.remove(force=True)
            except Exception:  # noqa: BLE001
                pass

    def _run_kwargs(self, workdir: Path | None, kind: str) -> dict[str, Any]:
        from docker.types import LogConfig, Ulimit

        L = self.limits
        volumes = {str(src): {"bind": dest, "mode": "ro"} for src, dest in project_binds()}
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
        guard = DockerChannel(container, None)  # registered for the at-exit kill while it exists
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
            guard.kill()
        truncated = len(raw) > max_output
        return CommandResult(None if timed_out else int(rc), decode_output(raw[:max_output], truncated, max_output),
                             timed_out, truncated)

    def describe(self) -> str:
        try:
            v = self.client.version().get("Version", "?")
        except Exception:  # noqa: BLE001
            v = "?"
        return f"docker (engine {v}, image {self._image})"
