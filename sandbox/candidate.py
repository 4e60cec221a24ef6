"""One candidate's process inside the sandbox: forked by the worker (:mod:`sandbox.worker`)
for one policy, it sets its own limits and seeds, compiles the source, then answers that
worker's requests on a private pipe pair until it is killed.

Memory: the address space is limited to what the process inherited at fork plus
``limits["memory_bytes"]``; running out is reported, then the process exits so its memory
goes back at once. Randomness: Python's and numpy's global generators are seeded with 0
before the source is compiled (defence in depth: the validator rejects ``random`` anyway).
"""
from __future__ import annotations

import os
import random
import resource
import signal
import sys
from typing import Any

import numpy as np

from inventory.policy import PolicyError, compile_policy
from inventory.replay import ReplayProblem
from inventory.simulator import call_policy
from sandbox import protocol


def _vm_size() -> int:
    """This process's address space in bytes (VmSize), 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _set_limits(limits: dict[str, int]) -> None:
    limits = dict(limits)
    if "memory_bytes" in limits:  # relative to what the fork inherited
        limits["as_bytes"] = _vm_size() + int(limits.pop("memory_bytes"))
    table = {
        "cpu_s": resource.RLIMIT_CPU, "as_bytes": resource.RLIMIT_AS, "fsize_bytes": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC, "core": resource.RLIMIT_CORE,
    }
    for key, res in table.items():
        if key not in limits:
            continue
        val = int(limits[key])
        try:
            _, hard = resource.getrlimit(res)
            hard_new = val + (1 if key == "cpu_s" else 0)
            if hard != resource.RLIM_INFINITY:
                hard_new = min(hard_new, hard)
                val = min(val, hard_new)
            resource.setrlimit(res, (val, hard_new))
        except (ValueError, OSError):
            pass


def _seed_global_rngs() -> None:
    """Deterministic global RNGs in every candidate (defence in depth; the validator forbids them).

    ``numpy.random`` costs ~70 ms to import, so the worker does not import it: if it is
    not loaded yet, a one-shot import hook seeds it right after the policy first imports it.
    """
    random.seed(0)
    if "numpy.random" in sys.modules:
        np.random.seed(0)
    else:
        sys.meta_path.insert(0, _SeedNumpyOnImport())


class _SeedNumpyOnImport:
    """Meta-path finder: when ``numpy.random`` is imported, run the real loader, then seed it."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "numpy.random":
            return None
        import importlib.machinery

        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        real_exec = loader.exec_module

        def exec_module(module: Any) -> None:
            real_exec(module)
            module.seed(0)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _no_dump() -> None:
    """Make the worker non-dumpable, so same-uid candidates cannot ptrace or read its memory."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _child_main(req_fd: int, resp_fd: int, problem: ReplayProblem, limits: dict[str, int]) -> None:
    """Candidate process (forked ahead of need as a spare): never returns.

    It isolates itself first (own session, only its pipe pair open, rlimits), then waits
    for the ``open`` request carrying the source, compiles it and serves requests.
    """
    code = 0
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        lo, hi = sorted((req_fd, resp_fd))
        os.closerange(3, lo)
        os.closerange(lo + 1, hi)
        os.closerange(hi + 1, 4096)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _set_limits(limits)
        _seed_global_rngs()
        try:
            msg = protocol.read_frame_fd(req_fd)
        except EOFError:
            os._exit(0)
        try:
            program = compile_policy(msg["source"], str(msg.get("name", "policy")))
        except PolicyError as exc:
            protocol.write_frame_fd(resp_fd, {"ok": False, "kind": "policy", "error": str(exc)})
            os._exit(0)
        if isinstance(msg.get("vectorised"), bool):  # calling convention learnt while tuning elsewhere
            program.vectorised = msg["vectorised"]
        # The search space travels with the open reply: one round trip fewer per candidate.
        protocol.write_frame_fd(resp_fd, {"ok": True, **_child_op(program, problem, None, {"op": "space"})})
        decoder = protocol.ObservationDecoder()
        while True:
            try:
                req = protocol.read_frame_fd(req_fd)
            except EOFError:
                break
            reply = _child_op(program, problem, decoder, req)
            protocol.write_frame_fd(resp_fd, reply)
            if req.get("op") == "close" or reply.get("kind") == "dead":
                break
    except BaseException as exc:  # noqa: BLE001 - the child must always end with _exit
        code = 3
        try:
            protocol.write_frame_fd(resp_fd, {"ok": False, "kind": "dead",
                                              "error": f"policy process failed: {type(exc).__name__}: {exc}"})
        except BaseException:  # noqa: BLE001
            pass
    os._exit(code)


def _child_op(program: Any, problem: ReplayProblem, decoder: protocol.ObservationDecoder | None,
              req: dict[str, Any]) -> dict[str, Any]:
    op = req.get("op")
    try:
        if op == "space":
            try:
                specs = program.space(problem.info)
            except PolicyError as exc:
                return {"ok": True, "space_error": str(exc)}
            return {"ok": True, "space": [[s.name, s.low, s.high, s.integer, s.log] for s in specs]}
        if op == "mean_costs":
            params = protocol.decode_params(req["params"])
            costs = problem.mean_costs(program, params)
            return {"ok": True, "costs": [float(c) for c in np.asarray(costs, dtype=float).tolist()],
                    "vectorised": program.vectorised}
        if op == "decide" and decoder is not None:
            obs = decoder.decode(req["obs"])
            q = call_policy(program, obs, dict(req["params"]))
            return {"ok": True, "order": float(q)}
        if op == "close":
            return {"ok": True}
        return {"ok": False, "kind": "protocol", "error": f"unknown op {op!r}"}
    except PolicyError as exc:
        if isinstance(exc.__cause__, MemoryError):  # the simulator wraps what order() raised
            return {"ok": False, "kind": "dead", "error": f"{exc} (its per-candidate memory limit)"}
        return {"ok": False, "kind": "policy", "error": str(exc)}
    except MemoryError:
        # Exit after replying (see _child_main): the memory goes back at once.
        return {"ok": False, "kind": "dead", "error": "policy ran out of memory (its per-candidate limit)"}
    except Exception as exc:  # noqa: BLE001 - policy code may raise anything
        return {"ok": False, "kind": "policy", "error": f"{type(exc).__name__}: {exc}"}
