"""``RayExecutor``: the :class:`~evolve.executor.Executor` contract on a Ray cluster.

The same tasks and the same module-level functions as the local pool (candidate
evaluations inside a run, whole workspaces inside a ``bench`` sweep), run by ``workers``
Ray actors. Why actors rather than plain Ray tasks: each actor is one long-lived worker
process that keeps its sandbox hosts and evaluators warm between tasks (exactly like a
:class:`~evolve.executor.ProcessExecutor` worker), and the number of processes that
hold sandboxes is the ``workers`` asked for, not whatever Ray's worker pool grows to.

Contract (the ABC's, plus what a cluster adds):

* ``map(fn, tasks)`` returns ``[fn(t) for t in tasks]`` **in submission order**, at most
  ``workers`` tasks in flight; a task's result does not depend on the actor that ran it
  (every seed is derived from the task itself), so results equal the local executor's.
* A worker process that dies (killed, OOM, node lost) is restarted by Ray
  (``max_restarts``) and the task it was running is resubmitted (``max_task_retries``);
  the caller sees one result per task, never a duplicate and never a gap. Task functions
  must therefore be idempotent (the evolve and bench task functions are: a re-run resumes
  from, or atomically overwrites, what the killed attempt wrote). An exception raised by
  ``fn`` itself is not retried (it would fail the same way) and propagates from ``map``.
* Sandboxing applies on every worker: with ``sandbox`` = ``auto`` / ``bwrap`` / ``docker``
  each actor probes that backend on its own node when it starts and refuses to work if it
  cannot isolate policy code there (``auto`` falling back to ``degraded``); only an
  explicit ``degraded`` or ``none`` skips the check.

``address`` None starts a private local Ray instance (``num_cpus = workers``, no
dashboard) that :meth:`close` shuts down; otherwise ``ray.init(address=...)`` joins a
running cluster (``"auto"`` or ``"ray://host:10001"``), which is left running. Every
node must see the project code and the workspace paths (see ``docs/scale.md``).
"""
from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from evolve.executor import Executor, WorkerLost
from sandbox.backends import SandboxUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ISOLATING = ("auto", "bwrap", "docker")


class SandboxNotIsolating(SandboxUnavailable):
    """A Ray worker's node cannot isolate policy code with the sandbox backend asked for."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is in the `scale` extra
        raise RuntimeError("the Ray executor needs ray: pip install -e '.[scale]'") from exc
    return ray


def _probe_sandbox(backend: str) -> str:
    """Raise SandboxNotIsolating unless ``backend`` isolates policy code on this node; the backend's description."""
    from sandbox import select_backend

    try:
        chosen = select_backend(backend)
    except SandboxUnavailable as exc:
        raise SandboxNotIsolating(f"Ray worker on {socket.gethostname()}: sandbox {backend!r} unavailable: {exc}") from exc
    if not getattr(chosen, "isolating", True):
        raise SandboxNotIsolating(
            f"Ray worker on {socket.gethostname()}: sandbox {backend!r} would fall back to {chosen.describe()}; "
            "install bubblewrap or docker on every node, or pass --sandbox degraded explicitly")
    return str(chosen.describe())


class _Worker:
    """One Ray actor = one worker process; made remote in :meth:`RayExecutor._start`."""

    def __init__(self, sandbox: str | None, log_level: int):
        logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.sandbox = _probe_sandbox(sandbox) if sandbox in ISOLATING else str(sandbox)

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname(), "sandbox": self.sandbox}

    def run(self, fn: Callable[[Any], Any], task: Any) -> Any:
        return fn(task)

    def close(self) -> None:
        from evolve.executor import close_worker_state
        close_worker_state()


class RayExecutor(Executor):
    """``workers`` Ray actors; see the module docstring for the contract."""

    def __init__(self, workers: int, address: str | None = None, *, sandbox: str | None = "auto",
                 max_retries: int = 3, cpus_per_worker: float = 1.0):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.workers, self.address, self.sandbox = workers, address, sandbox
        self.max_retries, self.cpus_per_worker = max_retries, cpus_per_worker
        self._actors: list[Any] = []
        self._owns_ray = False

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        if self._actors:
            return
        ray = _import_ray()
        if not ray.is_initialized():
            if self.address is None:
                # A private local instance; workers see this checkout first on their path.
                path = os.pathsep.join([str(PROJECT_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
                ray.init(address="local", num_cpus=max(self.workers, int(self.workers * self.cpus_per_worker + 0.999)),
                         include_dashboard=False, configure_logging=False, log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": path}})
            else:
                ray.init(address=self.address, configure_logging=False, log_to_driver=False)
            self._owns_ray = True
        remote = ray.remote(num_cpus=self.cpus_per_worker, max_restarts=self.max_retries,
                            max_task_retries=self.max_retries)(_Worker)
        level = logging.getLogger().getEffectiveLevel()
        self._actors = [remote.remote(self.sandbox, level) for _ in range(self.workers)]
        try:
            infos = ray.get([a.info.remote() for a in self._actors])
        except Exception as exc:
            self._kill_actors()
            cause = getattr(exc, "cause", None) or exc
            if isinstance(cause, SandboxNotIsolating) or "SandboxNotIsolating" in str(exc):
                raise SandboxNotIsolating(str(cause).splitlines()[-1] if str(cause) else str(exc)) from exc
            raise
        for info in infos:
            log.info("ray worker pid %s on %s, sandbox %s", info["pid"], info["host"], info["sandbox"])

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring, and for the kill test)."""
        self._start()
        ray = _import_ray()
        return [int(i["pid"]) for i in ray.get([a.info.remote() for a in self._actors])]

    def _kill_actors(self) -> None:
        ray = _import_ray()
        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already dead
                pass
        self._actors = []

    def close(self) -> None:
        if not self._actors and not self._owns_ray:
            return
        ray = _import_ray()
        if self._actors:
            try:
                ray.get([a.close.remote() for a in self._actors], timeout=60)
            except Exception as exc:  # noqa: BLE001 - closing must not hide the caller's result
                log.warning("closing Ray workers: %s", exc)
            self._kill_actors()
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False

    # ------------------------------------------------------------------ work
    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if not tasks:
            return []
        self._start()
        ray = _import_ray()
        results: list[Any] = [None] * len(tasks)
        idle = list(self._actors)
        inflight: dict[Any, tuple[int, Any]] = {}
        todo = iter(range(len(tasks)))

        def submit() -> None:
            while idle:
                i = next(todo, None)
                if i is None:
                    return
                actor = idle.pop()
                inflight[actor.run.remote(fn, tasks[i])] = (i, actor)

        try:
            submit()
            while inflight:
                ready, _ = ray.wait(list(inflight), num_returns=1)
                ref = ready[0]
                i, actor = inflight.pop(ref)
                try:
                    results[i] = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    log.debug("task %d failed on its Ray worker:\n%s", i, exc)
                    cause = exc.cause if isinstance(exc.cause, BaseException) else exc.as_instanceof_cause()
                    raise cause from None
                except ray.exceptions.RayActorError as exc:
                    raise WorkerLost(f"task {i}: its Ray worker died more than {self.max_retries} times: {exc}") from exc
                idle.append(actor)
                submit()
        except BaseException:
            for ref in inflight:
                ray.cancel(ref, force=False)
            raise
        return results


def make_executor(kind: str, workers: int, *, address: str | None = None, sandbox: str | None = "auto") -> Executor:
    """The executor for ``kind`` = ``local`` (serial for one worker, else a process pool) or ``ray``."""
    if kind == "ray":
        return RayExecutor(workers, address, sandbox=sandbox)
    if address is not None:
        raise ValueError("--address is for --executor ray")
    from evolve.executor import make_executor as local
    return local(workers)


__all__ = ["RayExecutor", "WorkerLost", "SandboxNotIsolating", "make_executor"]
