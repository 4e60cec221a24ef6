"""Host-side process helpers: kill a launched sandbox, read its bounded output."""
from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import time
from typing import Callable

log = logging.getLogger(__name__)


def kill_process_group(proc: subprocess.Popen) -> None:
    """SIGKILL the launcher's process group and reap it (idempotent)."""
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


def read_bounded(proc: subprocess.Popen, timeout: float, max_output: int,
                 on_timeout: Callable[[], None]) -> tuple[bytes, bool, bool]:
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
            continue  # a descendant may still hold the pipe after the leader exited: it gets the deadline
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


def decode_output(data: bytes, truncated: bool, max_output: int) -> str:
    text = data.decode("utf-8", "replace")
    if truncated:
        text += f"\n[output truncated to {max_output} bytes]"
    return text


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
