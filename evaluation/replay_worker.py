"""The fresh replay process behind :class:`evaluation.plain_process.PlainProcessHost`.

``--zygote FD``: import the replay code, then for each descriptor received on the control
socket ``FD`` fork a child (own session) that serves one candidate on it and reply with the
child's pid. The zygote itself never reads a problem or runs policy code.

A child reads frames of :mod:`sandbox.protocol`: one ``open`` (data-free problem, source,
calling convention), then ``decide`` requests, each carrying the day's Observation as a
delta. The policy's own prints go to /dev/null.
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import sys
from typing import Any

from inventory.policy import PolicyError, compile_policy
from inventory.simulator import call_policy
from sandbox import protocol


def _serve(in_fd: int, out_fd: int) -> None:
    msg = protocol.read_frame_fd(in_fd)
    _seq, _specs, _model, _init = protocol.decode_problem(msg["problem"])
    if len(_seq):
        protocol.write_frame_fd(out_fd, {"ok": False, "error": "replay worker must be given a data-free problem"})
        return
    try:
        program = compile_policy(msg["source"], str(msg.get("name", "policy")))
    except PolicyError as exc:
        protocol.write_frame_fd(out_fd, {"ok": False, "error": str(exc)})
        return
    if isinstance(msg.get("vectorised"), bool):
        program.vectorised = msg["vectorised"]
    del msg, _seq
    protocol.write_frame_fd(out_fd, {"ok": True})
    decoder = protocol.ObservationDecoder()
    while True:
        try:
            req: Any = protocol.read_frame_fd(in_fd)
        except EOFError:
            return
        try:
            obs = decoder.decode(req["obs"])
            q = call_policy(program, obs, dict(req["params"]))
            reply = {"ok": True, "order": float(q)}
        except PolicyError as exc:
            reply = {"ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - policy code may raise anything
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        protocol.write_frame_fd(out_fd, reply)


def _zygote(ctrl_fd: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    ctrl = socket.socket(fileno=ctrl_fd)
    ctrl.sendall(b"R")
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctrl, 1, 1)
        except OSError:
            return
        if not msg or not fds:
            return
        pid = os.fork()
        if pid == 0:
            try:
                ctrl.close()
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _serve(fds[0], fds[0])
            except BaseException:  # noqa: BLE001 - a child always ends with _exit
                pass
            os._exit(0)
        os.close(fds[0])
        ctrl.sendall(struct.pack(">q", pid))


def main() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    if len(sys.argv) == 3 and sys.argv[1] == "--zygote":
        for fd in (0, 1):
            os.dup2(devnull, fd)
        _zygote(int(sys.argv[2]))
        return
    in_fd, out_fd = os.dup(0), os.dup(1)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    try:
        _serve(in_fd, out_fd)
    except (EOFError, protocol.ProtocolError):
        pass


if __name__ == "__main__":
    main()
    sys.exit(0)
