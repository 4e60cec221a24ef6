"""``PlainProcessHost``: the trusted replay's fresh process when the user turned the sandbox off.

With ``--sandbox none`` candidate policies are tuned in the evaluator's own process
(:class:`~evaluation.host.InProcessHost`), which holds the replay and (at report time) the
forward window. The replay that decides anything must still run in a process that never
held data beyond what each day reveals, so each :meth:`PlainProcessHost.open` starts a new
``python -m evaluation.replay_worker`` subprocess: it is given the data-free problem and the
source, then one Observation per decision. It starts from an empty environment (no secret
of the evaluator's) but is *not* a sandbox: no filesystem, network or resource isolation.
Use a sandbox backend for untrusted code.
"""
from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from evaluation.host import PolicyHandle, PolicyHost
from inventory.observation import Observation
from inventory.policy import ParamSpec, PolicyError
from inventory.replay import ReplayProblem
from sandbox import protocol

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAX_REPLY = 1 << 20
_HEADER = struct.Struct(">I")


def _clean_env() -> dict[str, str]:
    """An environment with nothing of the evaluator's own: no keys, tokens or paths of the user."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


class _Process:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evaluation.replay_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=_clean_env(), cwd="/", start_new_session=True, close_fds=True,
        )

    def request(self, msg: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(protocol.encode(msg))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise PolicyError(f"replay process died ({exc})") from exc
        reply = self._read(self.proc.stdout.fileno(), time.monotonic() + timeout, timeout)
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise PolicyError("replay process sent a reply of the wrong shape")
        return reply

    def _read(self, fd: int, until: float, timeout: float) -> Any:
        def exact(n: int) -> bytes:
            buf = bytearray()
            while len(buf) < n:
                left = until - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    self.kill()
                    raise PolicyError(f"policy exceeded its {timeout:g} s wall-clock deadline")
                chunk = os.read(fd, n - len(buf))
                if not chunk:
                    raise PolicyError("replay process died (crashed or was killed)")
                buf += chunk
            return bytes(buf)

        (n,) = _HEADER.unpack(exact(4))
        if n > MAX_REPLY:
            self.kill()
            raise PolicyError(f"replay process sent a {n}-byte frame")
        try:
            return protocol.decode_body(exact(n))
        except protocol.ProtocolError as exc:
            self.kill()
            raise PolicyError(f"replay process sent garbage: {exc}") from exc

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        for fh in (self.proc.stdin, self.proc.stdout):
            try:
                if fh is not None:
                    fh.close()
            except OSError:
                pass
        self.proc.wait()


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
    """One fresh plain subprocess per :meth:`open`, killed on close (see the module docstring)."""

    name = "plain-process"

    def __init__(self, problem: ReplayProblem, *, open_deadline: float = 30.0, decide_deadline: float = 2.0):
        if len(problem.seq):
            raise ValueError("PlainProcessHost is a replay host: give it data_free_problem(...), not a window")
        super().__init__(problem)
        self.open_deadline, self.decide_deadline = open_deadline, decide_deadline
        self._encoded = protocol.encode_problem(problem)
        self._procs: list[_Process] = []

    def open(self, source: str, name: str, *, vectorised: bool | None = None) -> PolicyHandle:
        proc = _Process()
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
