"""``PlainProcessHost``: the trusted replay's fresh process when the user turned the sandbox off.

With ``--sandbox none`` candidate policies are tuned in the evaluator's own process
(:class:`~inventory.host.InProcessHost`), which holds the replay and (at report time) the
forward window. The replay that decides anything must still run in a process that never
held data beyond what each day reveals, so each :meth:`PlainProcessHost.open` gets a new
process: a fork of a :class:`Zygote`, a ``python -m evaluation.replay_worker --zygote``
started from an empty environment (no secret of the evaluator's) that imports the replay
code and then only forks. The zygote never holds data or runs policy code, so every child
starts clean, shares nothing with tuning or with another candidate, and costs a fork
instead of an interpreter start. The child is given the data-free problem and the source,
then one Observation per decision. This is *not* a sandbox: no filesystem, network or
resource isolation. Use a sandbox backend for untrusted code.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from inventory.host import PolicyHandle, PolicyHost
from inventory.observation import Observation
from inventory.policy import ParamSpec, PolicyError
from inventory.replay import ReplayProblem
from sandbox import protocol
from sandbox.errors import SandboxFailure

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAX_REPLY = 1 << 20
_HEADER = struct.Struct(">I")
_PID = struct.Struct(">q")


def _clean_env() -> dict[str, str]:
    """An environment with nothing of the evaluator's own: no keys, tokens or paths of the user."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


def _recv_exact(sock: socket.socket, n: int, until: float, what: str) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        left = until - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise TimeoutError(what)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(what)
        buf += chunk
    return bytes(buf)


class Zygote:
    """A clean interpreter that forks one replay process per candidate (see the module docstring)."""

    def __init__(self, start_timeout: float = 60.0):
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._ctrl: socket.socket | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "evaluation.replay_worker", "--zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=_clean_env(), cwd="/", start_new_session=True)
        theirs.close()
        self._ctrl = ours
        _recv_exact(ours, 1, time.monotonic() + self.start_timeout, "replay zygote did not start")

    def fork(self) -> tuple[int, socket.socket]:
        """(pid, socket) of a new replay process. Raises OSError if the zygote cannot fork."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._proc is None or self._proc.poll() is not None:
                        self._start()
                    assert self._ctrl is not None
                    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        socket.send_fds(self._ctrl, [b"F"], [theirs.fileno()])
                    finally:
                        theirs.close()
                    (pid,) = _PID.unpack(_recv_exact(self._ctrl, _PID.size, time.monotonic() + 10, "no pid"))
                    return pid, ours
                except (OSError, EOFError, TimeoutError) as exc:
                    self._stop()
                    if attempt == 2:
                        raise OSError(f"replay process died: the replay zygote failed ({exc})") from exc
        raise AssertionError("unreachable")

    def _stop(self) -> None:
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()


class _Process:
    """One forked replay process, spoken to over its socket."""

    def __init__(self, zygote: Zygote):
        self.pid, self.sock = zygote.fork()
        self._dead = False

    def request(self, msg: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            self.sock.sendall(protocol.encode(msg))
            until = time.monotonic() + timeout
            (n,) = _HEADER.unpack(_recv_exact(self.sock, 4, until, "deadline"))
            if n > MAX_REPLY:
                raise protocol.ProtocolError(f"a {n}-byte frame")
            reply = protocol.decode_body(_recv_exact(self.sock, n, until, "deadline"))
        except TimeoutError:
            self.kill()
            raise PolicyError(f"policy exceeded its {timeout:g} s wall-clock deadline") from None
        except (EOFError, OSError) as exc:
            self.kill()
            raise SandboxFailure(f"replay process died (crashed or was killed): {exc}") from exc
        except protocol.ProtocolError as exc:
            self.kill()
            raise PolicyError(f"replay process sent garbage: {exc}") from exc
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self.kill()
            raise PolicyError("replay process sent a reply of the wrong shape")
        return reply

    def kill(self) -> None:
        if self._dead:
            return
        self._dead = True
        for target in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass
        self.sock.close()


class PlainProcessHandle(PolicyHandle):
    def __init__(self, proc: _Process, name: str, decide_deadline: float):
        self.proc, self.name, self.decide_deadline = proc, name, decide_deadline
        self._encoder = protocol.ObservationEncoder()

    def space(self) -> tuple[ParamSpec, ...]:
        raise PolicyError("a replay host answers decisions only (it holds no data to tune on)")

    def mean_costs(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        raise PolicyError("a replay host answers decisions only (it holds no data to tune on)")

    def decide(self, obs: Observation, params: Mapping[str, float]) -> float:
        reply = self.proc.request({"op": "decide", "obs": self._encoder.encode(obs),
                                   "params": protocol.encode_scalar_params(params)}, self.decide_deadline)
        if not reply["ok"]:
            raise PolicyError(str(reply.get("error", "policy failed"))[:2000])
        try:
            return protocol.check_order(reply.get("order"))
        except protocol.ProtocolError as exc:
            raise PolicyError(f"policy {self.name}: day {obs.t}: {exc}") from exc

    def close(self) -> None:
        self.proc.kill()


class PlainProcessHost(PolicyHost):
    """One fresh forked process per :meth:`open`, killed on close (see the module docstring)."""

    name = "plain-process"

    def __init__(self, problem: ReplayProblem, zygote: Zygote, *, open_deadline: float = 30.0,
                 decide_deadline: float = 2.0):
        if len(problem.seq):
            raise ValueError("PlainProcessHost is a replay host: give it data_free_problem(...), not a window")
        super().__init__(problem)
        self.zygote = zygote
        self.open_deadline, self.decide_deadline = open_deadline, decide_deadline
        self._encoded = protocol.encode_problem(problem)
        self._procs: list[_Process] = []

    def open(self, source: str, name: str, *, vectorised: bool | None = None) -> PolicyHandle:
        proc = _Process(self.zygote)
        self._procs.append(proc)
        reply = proc.request({"op": "open", "problem": self._encoded, "source": source, "name": name,
                              "vectorised": vectorised}, self.open_deadline)
        if not reply["ok"]:
            proc.kill()
            raise PolicyError(str(reply.get("error", "policy failed to load"))[:2000])
        return PlainProcessHandle(proc, name, self.decide_deadline)

    def close(self) -> None:
        for proc in self._procs:
            proc.kill()
        self._procs.clear()
