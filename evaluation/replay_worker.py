"""The fresh replay process behind :class:`evaluation.plain_process.PlainProcessHost`.

Reads frames of :mod:`sandbox.protocol` on stdin: one ``open`` (data-free problem, source,
calling convention), then ``decide`` requests, each carrying the day's Observation as a
delta. Replies on the original stdout; the policy's own prints go to /dev/null.
"""
from __future__ import annotations

import os
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


def main() -> None:
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    try:
        _serve(in_fd, out_fd)
    except (EOFError, protocol.ProtocolError):
        pass


if __name__ == "__main__":
    main()
    sys.exit(0)
