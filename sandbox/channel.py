"""Frame channels between the trusted host and a sandboxed worker, with deadlines both ways.

A :class:`Channel` sends and receives :mod:`sandbox.protocol` frames and can kill whatever
it started. Every read and every write has a deadline: a worker that stops reading its
input, or that sends half a frame and then goes quiet, costs the host at most the deadline
(``TimeoutError``), never a blocked thread. Bytes are buffered by :class:`FrameBuffer`, so a
frame split over many reads is reassembled and an oversized length header is refused
before anything is allocated.
"""
from __future__ import annotations

import logging
import os
import select
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, Callable

from sandbox import protocol
from sandbox.process import kill_process_group
from sandbox.protocol import FrameBuffer, write_all

log = logging.getLogger(__name__)

SEND_TIMEOUT = 30.0


class Channel(ABC):
    """A duplex frame channel to a worker, and the power to kill it."""

    @abstractmethod
    def send(self, msg: Any, timeout: float = SEND_TIMEOUT) -> None:
        """Write one frame; raises TimeoutError or EOFError."""

    @abstractmethod
    def recv(self, timeout: float) -> Any:
        """Next frame; raises TimeoutError, EOFError or ProtocolError."""

    @abstractmethod
    def kill(self) -> None:
        """Kill everything the worker started. Idempotent."""

    @abstractmethod
    def alive(self) -> bool: ...


class PipeChannel(Channel):
    """A worker started as a subprocess (bwrap or degraded) with stdin/stdout pipes."""

    def __init__(self, proc: subprocess.Popen, cleanup: Callable[[], None] | None = None):
        self.proc = proc
        self._cleanup = cleanup
        self._frames = FrameBuffer()
        self._stderr_tail = bytearray()
        self._killed = False
        assert proc.stdout is not None and proc.stdin is not None
        self._out_fd = proc.stdout.fileno()
        self._in_fd = proc.stdin.fileno()
        self._err_thread = None
        if proc.stderr is not None:
            self._err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
            self._err_thread.start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        try:
            for line in iter(self.proc.stderr.readline, b""):
                self._stderr_tail = (self._stderr_tail + line)[-4000:]
                log.debug("sandbox worker stderr: %s", line.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass  # closed by kill()

    @property
    def stderr_tail(self) -> str:
        return self._stderr_tail.decode("utf-8", "replace")

    def send(self, msg: Any, timeout: float = SEND_TIMEOUT) -> None:
        if self._killed:
            raise EOFError("channel is closed")
        try:
            write_all(self._in_fd, protocol.encode(msg), time.monotonic() + timeout)
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
                partial = f" ({len(self._frames.buf)} bytes of a partial frame)" if self._frames.buf else ""
                raise TimeoutError(f"worker did not answer in time{partial}")
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
        kill_process_group(self.proc)
        if self._err_thread is not None:
            self._err_thread.join(timeout=2)  # EOF follows the kill; then its pipe can be closed
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr if not (self._err_thread and self._err_thread.is_alive()) else None):
            try:
                if f is not None:
                    f.close()
            except (OSError, ValueError):
                pass
        if self._cleanup is not None:
            self._cleanup()

    def alive(self) -> bool:
        return not self._killed and self.proc.poll() is None
