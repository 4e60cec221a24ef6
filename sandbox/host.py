"""``SandboxHost``: the :class:`~inventory.host.PolicyHost` that runs policies in a sandbox.

One host owns one long-lived worker (started lazily) for one replay problem. The worker is
given only that problem (the agent-visible replay window, or zero days for a data-free
replay host) and, for the trusted step-by-step replay, one
:class:`~inventory.observation.Observation` at a time (as a delta). Each :meth:`SandboxHost.open`
forks a fresh candidate process inside the worker.

Failures, by whose fault they are:

* the **policy's** (an error, a limit hit, a per-request deadline): :class:`~inventory.policy.PolicyError`;
  only that candidate dies;
* the **infrastructure's** (the worker gave no reply within the deadline plus a grace
  period, hit EOF, sent a malformed frame or a reply of the wrong shape, or could not
  start; or a handle outlived the worker it was opened on): :class:`~sandbox.errors.SandboxFailure`,
  a PolicyError subclass. The whole sandbox is killed and the next :meth:`open` starts a
  fresh one ("recycle"); the caller may retry the candidate once on it.

Resources: each open handle is one process in the sandbox. A handle the caller drops
without :meth:`~SandboxHandle.close` is closed when it is garbage-collected, and at most
``Limits.max_live_candidates`` handles stay open per host (the least recently used one is
closed first, and later calls on it raise SandboxFailure), so a caller that forgets to
close cannot exhaust the sandbox's pid limit.

Trust: replies are parsed as JSON and checked (:func:`sandbox.protocol.check_costs`,
:func:`~sandbox.protocol.check_order`); nothing is unpickled or evaluated. Tuning values
returned by ``mean_costs`` only steer the search; the score that decides anything is the
trusted simulator's own replay of the decisions returned by :meth:`SandboxHandle.decide`.
"""
from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from inventory.host import PolicyHandle, PolicyHost
from inventory.observation import Observation
from inventory.policy import ParamSpec, PolicyError
from inventory.replay import ReplayProblem
from sandbox import protocol
from sandbox.backends.base import SandboxBackend
from sandbox.channel import Channel
from sandbox.errors import SandboxFailure
from sandbox.limits import Limits
from sandbox.selection import select_backend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    """Wall-clock deadlines (seconds) per request kind, enforced inside the worker.

    The host waits ``grace`` longer before it declares the worker itself broken, so every
    request has a host-side deadline too.
    """

    open: float = 10.0
    space: float = 5.0
    mean_costs: float = 60.0
    decide: float = 2.0
    close: float = 5.0
    boot: float = 60.0
    grace: float = 5.0


class _Worker:
    """One sandbox running the worker; serialises requests."""

    def __init__(self, channel: Channel, generation: int):
        self.channel = channel
        self.generation = generation
        self.lock = threading.Lock()
        self.broken: str | None = None

    def post(self, msg: dict[str, Any]) -> None:
        """Send a request that gets no reply (close). A failure marks the worker broken."""
        with self.lock:
            if self.broken:
                return
            try:
                self.channel.send(msg, timeout=5.0)
            except (EOFError, OSError, TimeoutError) as exc:
                self.broken = f"{type(exc).__name__}: {exc}"

    def request(self, msg: dict[str, Any], deadline: float, grace: float) -> dict[str, Any]:
        with self.lock:
            if self.broken:
                raise _WorkerBroken(self.broken)
            try:
                self.channel.send(msg, timeout=deadline + grace)
                reply = self.channel.recv(deadline + grace)
            except (TimeoutError, EOFError, protocol.ProtocolError, OSError) as exc:
                self.broken = f"{type(exc).__name__}: {exc}"
                raise _WorkerBroken(self.broken) from exc
            if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
                self.broken = "worker sent a reply of the wrong shape"
                raise _WorkerBroken(self.broken)
            return reply


class _WorkerBroken(Exception):
    pass


class SandboxHandle(PolicyHandle):
    """One candidate process inside the host's worker."""

    def __init__(self, host: "SandboxHost", hid: int, worker: _Worker, name: str, opened: dict[str, Any] | None = None):
        self.host, self.hid, self.worker, self.name = host, hid, worker, name
        self._opened = opened  # the open reply carries the search space
        self._encoder = protocol.ObservationEncoder()
        self._closed = False
        self._evicted = False
        self._space: tuple[ParamSpec, ...] | None = None
        self._vectorised: bool | None = None

    def _call(self, op: str, deadline: float, **payload: Any) -> dict[str, Any]:
        if self._evicted:
            raise SandboxFailure(f"policy {self.name}: closed by the host to stay under "
                                 f"{self.host.limits.max_live_candidates} open candidates; reopen it")
        if self._closed:
            raise PolicyError(f"policy {self.name}: handle is closed")
        if self.worker is not self.host._worker:
            raise SandboxFailure(f"policy {self.name}: its sandbox worker was recycled; reopen it")
        self.host._touch(self.hid)
        reply = self.host._request({"op": op, "id": self.hid, "timeout": deadline, **payload}, deadline)
        if not reply["ok"]:
            kind = reply.get("kind", "policy")
            err = str(reply.get("error", "unknown error"))[:2000]
            if kind in ("timeout", "dead", "protocol"):
                self._closed = True
                self.host._forget(self.hid)
            raise PolicyError(f"policy {self.name}: {err}" if kind != "policy" else err)
        return reply

    def space(self) -> tuple[ParamSpec, ...]:
        if self._space is None:
            reply = self._opened if self._opened is not None else self._call("space", self.host.deadlines.space)
            self._opened = None
            if "space_error" in reply:
                raise PolicyError(str(reply["space_error"])[:2000])
            raw = reply.get("space")
            if not isinstance(raw, list):
                raise PolicyError("sandbox returned a malformed search space")
            specs = []
            for item in raw:
                if not (isinstance(item, list) and len(item) == 5 and isinstance(item[0], str)):
                    raise PolicyError("sandbox returned a malformed search space")
                name, low, high, integer, log_ = item
                if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
                    raise PolicyError("sandbox returned non-numeric bounds")
                specs.append(ParamSpec(name, float(low), float(high), bool(integer), bool(log_)))
            self._space = tuple(specs)
        return self._space

    def mean_costs(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(params.values()))) if params else 1
        reply = self._call("mean_costs", self.host.deadlines.mean_costs, params=protocol.encode_params(params))
        try:
            costs = protocol.check_costs(reply.get("costs"), n)
        except protocol.ProtocolError as exc:
            raise PolicyError(f"policy {self.name}: sandbox returned malformed costs ({exc})") from exc
        if isinstance(reply.get("vectorised"), bool):
            self._vectorised = reply["vectorised"]
        return costs

    @property
    def vectorised(self) -> bool | None:
        """Calling convention learnt by ``mean_costs`` (None until known)."""
        return self._vectorised

    def decide(self, obs: Observation, params: Mapping[str, float]) -> float:
        reply = self._call("decide", self.host.deadlines.decide, obs=self._encoder.encode(obs),
                           params=protocol.encode_scalar_params(params))
        try:
            return protocol.check_order(reply.get("order"))
        except protocol.ProtocolError as exc:
            raise PolicyError(f"policy {self.name}: day {obs.t}: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.host._forget(self.hid)
        if self.worker is self.host._worker and not self.worker.broken:
            self.worker.post({"op": "close", "id": self.hid})


class SandboxHost(PolicyHost):
    """Runs policy code in a sandboxed worker for one (agent-visible or data-free) replay problem.

    ``hidden`` names folders sandboxed code must not be able to read (a workspace's
    ``hidden/``); isolating backends never bind them, the degraded backend proves it or
    refuses (:meth:`~sandbox.backends.base.SandboxBackend.guard_hidden`).
    """

    def __init__(self, problem: ReplayProblem, backend: SandboxBackend | str = "auto", *,
                 limits: Limits | None = None, deadlines: Deadlines = Deadlines(), hidden: Iterable[Path] = ()):
        super().__init__(problem)
        self.backend = backend if isinstance(backend, SandboxBackend) else select_backend(backend, limits)
        self.name = f"sandbox-{self.backend.name}"
        self.limits = limits or self.backend.limits
        self.deadlines = deadlines
        self.hidden = tuple(Path(p) for p in hidden)
        if not self.backend.isolating and not self.hidden:
            log.warning("degraded sandbox host without declared hidden/ folders: a forward window on this machine is "
                        "protected by its file modes only")
        self.backend.guard_hidden(self.hidden)
        self._worker: _Worker | None = None
        self._generation = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._encoded_problem = protocol.encode_problem(problem)
        self._live: collections.OrderedDict[int, weakref.ref[SandboxHandle]] = collections.OrderedDict()
        self._orphans: collections.deque[tuple[int, int]] = collections.deque()  # (generation, hid), from finalizers
        self.recycles = 0
        self.evictions = 0

    # ------------------------------------------------------------ worker lifecycle

    def _ensure_worker(self) -> _Worker:
        with self._lock:
            if self._worker is not None and not self._worker.broken and self._worker.channel.alive():
                return self._worker
            if self._worker is not None:
                self._retire(self._worker, "recycle")
            t0 = time.perf_counter()
            try:
                channel = self.backend.start_worker()
            except OSError as exc:
                raise SandboxFailure(f"sandbox worker ({self.backend.name}) could not start: {exc}") from exc
            self._generation += 1
            worker = _Worker(channel, self._generation)
            try:
                reply = worker.request({"op": "init", "problem": self._encoded_problem,
                                        "limits": self.limits.candidate_rlimits(),
                                        "pidns": self.backend.has_pid_namespace},
                                       self.deadlines.boot, self.deadlines.grace)
            except _WorkerBroken as exc:
                channel.kill()
                raise SandboxFailure(f"sandbox worker ({self.backend.name}) failed to start: {exc}") from exc
            if not reply.get("ok"):
                channel.kill()
                raise SandboxFailure(f"sandbox worker ({self.backend.name}) rejected init: {reply.get('error')}")
            log.debug("sandbox worker %d (%s) ready in %.1f ms", self._generation, self.backend.name,
                      1000 * (time.perf_counter() - t0))
            self._worker = worker
            self._live.clear()
            self._orphans.clear()
            return worker

    def _retire(self, worker: _Worker, why: str) -> None:
        if why == "recycle":
            self.recycles += 1
            log.warning("recycling sandbox worker %d (%s): %s", worker.generation, self.backend.name, worker.broken)
        worker.channel.kill()

    def _request(self, msg: dict[str, Any], deadline: float) -> dict[str, Any]:
        worker = self._worker
        if worker is None:
            raise SandboxFailure("sandbox worker is not running")
        try:
            return worker.request(msg, deadline, self.deadlines.grace)
        except _WorkerBroken as exc:
            with self._lock:
                if self._worker is worker:
                    self._retire(worker, "recycle")
                    self._worker = None
            raise SandboxFailure(f"sandbox worker failed and was recycled: {exc}") from exc

    # ------------------------------------------------------------ handle bookkeeping

    def _touch(self, hid: int) -> None:
        if hid in self._live:
            self._live.move_to_end(hid)

    def _forget(self, hid: int) -> None:
        self._live.pop(hid, None)


    def _reap(self, worker: _Worker) -> None:
        """Close what finalizers queued, and the least recently used handles over the cap."""
        while self._orphans:
            generation, hid = self._orphans.popleft()
            if generation == worker.generation and self._live.pop(hid, None) is not None:
                worker.post({"op": "close", "id": hid})
        while len(self._live) >= self.limits.max_live_candidates:
            hid, ref = self._live.popitem(last=False)
            handle = ref()
            if handle is not None:
                handle._evicted = True
                handle._closed = True
            self.evictions += 1
            log.warning("more than %d candidates open on one sandbox host; closing the least recently used one "
                        "(call close() on handles you are done with)", self.limits.max_live_candidates)
            worker.post({"op": "close", "id": hid})

    # ------------------------------------------------------------ PolicyHost

    def open(self, source: str, name: str, *, vectorised: bool | None = None) -> PolicyHandle:
        worker = self._ensure_worker()
        self._reap(worker)
        hid = next(self._ids)
        reply = self._request({"op": "open", "id": hid, "source": source, "name": name, "vectorised": vectorised,
                               "timeout": self.deadlines.open}, self.deadlines.open)
        if not reply["ok"]:
            raise PolicyError(str(reply.get("error", "policy failed to load"))[:2000])
        handle = SandboxHandle(self, hid, worker, name, reply)
        self._live[hid] = weakref.ref(handle)
        weakref.finalize(handle, _orphaned, weakref.ref(self), worker.generation, hid)
        return handle

    @property
    def live_candidates(self) -> int:
        return len(self._live)

    def ping(self) -> dict[str, Any]:
        """Worker liveness and the pids its sweep killed (diagnostics and tests)."""
        worker = self._ensure_worker()
        self._reap(worker)
        return self._request({"op": "ping"}, 5.0)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._retire(self._worker, "close")
                self._worker = None
            self._live.clear()


def _orphaned(host_ref: "weakref.ref[SandboxHost]", generation: int, hid: int) -> None:
    """Finalizer of a handle dropped without close(): queue its close for the next request.

    It may run inside any allocation, even while this thread holds the worker's lock, so it
    only appends to a deque (no locks, no I/O).
    """
    host = host_ref()
    if host is not None:
        host._orphans.append((generation, hid))
