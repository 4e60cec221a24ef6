"""The long-lived policy worker. Runs *inside* a sandbox; never imported by the host's hot path.

Protocol (frames of :mod:`sandbox.protocol` on the worker's stdin/stdout):

``{"op": "init", "problem": ..., "limits": {...}, "pidns": bool}``
    once, first. ``problem`` is the agent-visible replay problem (nothing else is ever sent).
``{"op": "open", "id": n, "source": str, "name": str, "timeout": s}``
    forks a child for candidate ``n``; the child applies its own rlimits, becomes its own
    session and process group, closes every descriptor but its private pipe pair, and only
    then compiles the source.
``{"op": "space" | "mean_costs" | "decide" | "close", "id": n, ..., "timeout": s}``
    forwarded to candidate ``n``'s child; its reply is relayed back.
``{"op": "ping"}``
    liveness and the list of processes the sweep killed so far (for tests).

Every reply is ``{"ok": true, ...}`` or ``{"ok": false, "kind": "policy"|"timeout"|"dead"|
"protocol", "error": str}``. A request that outlives its wall-clock deadline gets the whole
process group (and session) of its child killed with SIGKILL. The deadline covers the whole
exchange: writing the request into the child's pipe (a child that stops reading) and
reading its reply (a child that sends half a frame and goes quiet), not only the wait for
its first byte.

Each child is a :mod:`sandbox.candidate` process (its limits, seeding and request loop):
a child that runs out of memory reports it and exits, so the other candidates keep theirs.
After every request the worker
sweeps: any process that is neither pid 1, the worker, nor in the session of a live
candidate is killed, so double-forked daemons do not survive their candidate.
"""
from __future__ import annotations

import gc
import os
import select
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from inventory.replay import ReplayProblem
from sandbox import protocol
from sandbox.candidate import _child_main, _no_dump
from sandbox.protocol import FrameBuffer, write_all

CHILD_MAX_FRAME = 16 * 1024 * 1024


@dataclass
class Child:
    pid: int
    to_child: int
    from_child: int
    frames: FrameBuffer | None = None

    def __post_init__(self) -> None:
        if self.frames is None:
            self.frames = FrameBuffer(CHILD_MAX_FRAME)


def _proc_table() -> list[list[Any]]:
    """[pid, session id, command] of every process this worker can see (diagnostics)."""
    out: list[list[Any]] = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
            fields = stat[stat.rindex(")") + 2:].split()
            out.append([int(name), int(fields[3]), stat[stat.index("(") + 1:stat.rindex(")")]])
        except (OSError, ValueError, IndexError):
            continue
    return out


class Worker:
    def __init__(self, out_fd: int, in_fd: int):
        self.out_fd, self.in_fd = out_fd, in_fd
        self.problem: ReplayProblem | None = None
        self.limits: dict[str, int] = {}
        self.pidns = True
        self.children: dict[int, Child] = {}
        self.spare: Child | None = None
        self.dead_sessions: set[int] = set()
        self.swept: list[int] = []

    # ------------------------------------------------------------ candidates

    def _fork_spare(self) -> Child:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(req_w)
            os.close(resp_r)
            assert self.problem is not None
            _child_main(req_r, resp_w, self.problem, self.limits)
        os.close(req_r)
        os.close(resp_w)
        return Child(pid, req_w, resp_r)

    def prepare_spare(self) -> None:
        """Fork the next candidate process ahead of need (between requests, off the hot path)."""
        if self.spare is None and self.problem is not None:
            self.spare = self._fork_spare()

    def _open(self, msg: dict[str, Any]) -> dict[str, Any]:
        hid = int(msg["id"])
        if hid in self.children:
            return {"ok": False, "kind": "protocol", "error": f"candidate {hid} already open"}
        child, self.spare = (self.spare or self._fork_spare()), None
        self.children[hid] = child
        timeout = float(msg.get("timeout", 10.0))
        deadline = time.monotonic() + timeout
        try:
            write_all(child.to_child, protocol.encode({"source": msg["source"], "name": msg.get("name", "policy"),
                                                       "vectorised": msg.get("vectorised")}), deadline)
        except TimeoutError:
            self._kill(hid)
            return {"ok": False, "kind": "timeout", "error": f"policy process did not read its source within {timeout:g} s"}
        except OSError:
            self._kill(hid)
            return {"ok": False, "kind": "dead", "error": "policy process died before it started"}
        reply = self._await(hid, child, timeout, deadline)
        if not reply.get("ok"):
            self._kill(hid)
        return reply

    def _forward(self, msg: dict[str, Any]) -> dict[str, Any]:
        hid = int(msg["id"])
        child = self.children.get(hid)
        if child is None:
            return {"ok": False, "kind": "dead", "error": f"candidate {hid} is not running"}
        timeout = float(msg.pop("timeout", 10.0))
        deadline = time.monotonic() + timeout
        try:
            write_all(child.to_child, protocol.encode(msg), deadline)
        except TimeoutError:
            self._kill(hid)
            return {"ok": False, "kind": "timeout", "error": f"policy exceeded its {timeout:g} s wall-clock deadline "
                                                              f"(it stopped reading its requests)"}
        except OSError:
            self._kill(hid)
            return {"ok": False, "kind": "dead", "error": "policy process died"}
        reply = self._await(hid, child, timeout, deadline)
        if reply.get("kind") in ("timeout", "dead", "protocol"):
            self._kill(hid)
        return reply

    def _await(self, hid: int, child: Child, timeout: float, deadline: float) -> dict[str, Any]:
        """The child's next reply frame, all of it before ``deadline`` (monotonic) or it dies."""
        assert child.frames is not None
        while True:
            try:
                reply = child.frames.pop()
            except protocol.ProtocolError as exc:
                self._kill(hid)
                return {"ok": False, "kind": "protocol", "error": f"policy process sent garbage: {exc}"}
            if reply is not None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                partial = " (it sent a partial reply)" if child.frames.buf else ""
                self._kill(hid)
                return {"ok": False, "kind": "timeout",
                        "error": f"policy exceeded its {timeout:g} s wall-clock deadline{partial}"}
            r, _, _ = select.select([child.from_child], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(child.from_child, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                self._kill(hid)
                return {"ok": False, "kind": "dead", "error": "policy process died (killed by a limit or crashed)"}
            child.frames.buf += chunk
        if not isinstance(reply, dict):
            self._kill(hid)
            return {"ok": False, "kind": "protocol", "error": "policy process sent a non-object"}
        return reply

    def _kill(self, hid: int) -> None:
        child = self.children.pop(hid, None)
        if child is None:
            return
        for sig_target in (lambda: os.killpg(child.pid, signal.SIGKILL), lambda: os.kill(child.pid, signal.SIGKILL)):
            try:
                sig_target()
            except (ProcessLookupError, PermissionError):
                pass
        for fd in (child.to_child, child.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self.dead_sessions.add(child.pid)

    # ------------------------------------------------------------ sweep

    def sweep(self) -> list[int]:
        """Kill every process that belongs to no live candidate; returns the pids killed.

        Repeats until a pass finds nothing to kill, so processes forked while a pass runs
        (a fork bomb) are caught by the next one.
        """
        killed: list[int] = []
        for _ in range(200):
            batch = self._sweep_once()
            if not batch:
                break
            killed.extend(batch)
        self._reap()
        self.swept.extend(killed)
        return killed

    def _sweep_once(self) -> list[int]:
        me = os.getpid()
        live = {c.pid for c in self.children.values()}
        if self.spare is not None:
            live.add(self.spare.pid)
        killed = []
        try:
            entries = os.listdir("/proc")
        except OSError:
            return killed
        for name in entries:
            if not name.isdigit():
                continue
            pid = int(name)
            if pid in (1, me):
                continue
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    stat = fh.read().decode("ascii", "replace")
                fields = stat[stat.rindex(")") + 2:].split()
                sid = int(fields[3])
            except (OSError, ValueError, IndexError):
                continue
            if sid in live or pid in live:
                continue  # a live candidate, its descendants, or a spare not yet in its own session
            if not self.pidns and sid not in self.dead_sessions:
                continue  # without a pid namespace only our own dead sessions are ours
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    if fh.read().split(b") ", 1)[-1][:1] == b"Z":
                        continue  # a zombie is already dead; _reap collects our own
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (OSError, ProcessLookupError, PermissionError):
                pass
        self._reap()
        return killed

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    # ------------------------------------------------------------ loop

    def handle(self, msg: Any) -> dict[str, Any] | None:
        if not isinstance(msg, dict):
            return {"ok": False, "kind": "protocol", "error": "request must be an object"}
        op = msg.get("op")
        if op == "init":
            self.problem = ReplayProblem(*protocol.decode_problem(msg["problem"]))
            self.limits = {k: int(v) for k, v in msg.get("limits", {}).items()}
            self.pidns = bool(msg.get("pidns", True))
            gc.collect()
            gc.freeze()  # forked candidates then do not dirty the worker's pages by collecting them
            return {"ok": True, "pid": os.getpid()}
        if op == "ping":
            self.sweep()
            return {"ok": True, "pid": os.getpid(), "swept": list(self.swept), "live": len(self.children),
                    "procs": _proc_table()}
        if self.problem is None:
            return {"ok": False, "kind": "protocol", "error": "init first"}
        if op == "open":
            return self._open(msg)
        if op == "close":
            self._kill(int(msg["id"]))
            return None  # fire-and-forget: the host does not wait for a reply
        if op in ("space", "mean_costs", "decide"):
            return self._forward(msg)
        return {"ok": False, "kind": "protocol", "error": f"unknown op {op!r}"}

    def run(self) -> None:
        while True:
            try:
                msg = protocol.read_frame_fd(self.in_fd)
            except EOFError:
                break
            try:
                reply = self.handle(msg)
            except Exception as exc:  # noqa: BLE001 - report, never die silently
                reply = {"ok": False, "kind": "protocol", "error": f"worker error {type(exc).__name__}: {exc}",
                         "trace": traceback.format_exc(limit=3)}
            if reply is not None:
                protocol.write_frame_fd(self.out_fd, reply)
            # Housekeeping after the reply, while the host works: sweep, reap, next spare.
            self.sweep()
            self.prepare_spare()
        for hid in list(self.children):
            self._kill(hid)
        if self.spare is not None:
            self.children[-1] = self.spare
            self._kill(-1)
        self.sweep()


def main() -> None:
    """Entry point inside the sandbox: protocol on the original stdin/stdout only."""
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _no_dump()
    Worker(out_fd, in_fd).run()


if __name__ == "__main__":
    main()
    sys.exit(0)
