"""Where candidate evaluations run: the ``Executor`` extension point.

A round's candidates are independent until they are gated, so they can be tuned and
replayed concurrently. The unit of work is a :class:`CandidateTask`, a picklable value
(workspace path, tuning config with its seed, sandbox backend, candidate id and source);
:func:`evaluate_task` is a pure function of it that returns the trusted
:class:`~evaluation.trusted.EvalRecord`. Executors return results **in submission order**,
so a loop that gates them in that order makes the same decisions whichever executor ran
them (records differ only in ``seconds``).

Implementations: :class:`SerialExecutor` (this process) and :class:`ProcessExecutor`
(a local pool of worker processes). Each worker process opens its own host provider
(sandbox) and trusted evaluator (with the task's replay backend) for a workspace the first time it needs one and reuses
them (and their warm tuning host) for later tasks; they are closed when the worker exits.
Candidate seeds depend on (run seed, candidate id) only (:func:`evaluation.trusted.candidate_seed`),
so a record does not depend on which worker computed it or what ran there before. A distributed engine (Ray)
plugs in by implementing :meth:`Executor.map` for the same tasks.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from evaluation.config import EvaluatorConfig
from evaluation.records import EvalRecord
from evaluation.trusted import TrustedEvaluator
from inventory.tuning import TuningConfig
from evaluation.walkforward import Plan
from inventory.sequence import DemandSequence
from orpr.backend import BackendConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class WorkerLost(RuntimeError):
    """A worker process died under its task (a signal, the kernel's OOM killer) or, on Ray,
    more often than the retries allow. Finished work is kept: re-running the command resumes."""


@dataclass(frozen=True)
class CandidateTask:
    """Evaluate one candidate of one workspace. Everything a fresh process needs, nothing more
    (ordered like the fields of the evaluator it configures)."""

    workspace: str
    candidate_id: str
    name: str
    source: str
    tuning: TuningConfig               # seed = the run seed; the evaluator derives the candidate's own
    sandbox: str
    evaluation: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    replay: BackendConfig = field(default_factory=BackendConfig)  # daily, or periodic review
    params: dict[str, float] | None = None  # fixed parameters (pre-tuned baselines): replay only
    vectorised: bool | None = None          # calling convention, with fixed parameters


@dataclass(frozen=True)
class WalkForwardTask:
    """Walk-forward costs of one pool member (:func:`evolve.oos.walk_forward_row`) on the plan."""

    task: CandidateTask
    plan: Plan


@dataclass(frozen=True)
class ReplicationTask:
    """Formal-mode costs of one tuned member (:func:`evolve.replications.replication_row`) on
    ``paths``, drawn once by the run (so every member sees the same ones, whatever the
    sampler does); ``task.params``/``task.vectorised`` are the member's tuned ones."""

    task: CandidateTask
    paths: tuple[DemandSequence, ...]


class Executor(ABC):
    """Runs independent tasks; ``map`` returns their results in submission order."""

    workers: int = 1

    @abstractmethod
    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        """``[fn(t) for t in tasks]``, possibly concurrently. ``fn`` must be a module-level function."""

    def close(self) -> None:
        """Release workers."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One task after the other, in this process."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        return [fn(t) for t in tasks]

    def close(self) -> None:
        close_worker_state()


class ProcessExecutor(Executor):
    """A pool of ``workers`` local processes (started with ``spawn``: no inherited sandboxes,
    threads or open studies). Worker processes live as long as the executor."""

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if not tasks:
            return []
        if self._pool is None:
            from sandbox.image import process_state  # workers need not recompute the sandbox's runtime key
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(process_state(),))
        try:
            return list(self._pool.map(fn, tasks))
        except BrokenProcessPool as exc:
            # not retried: a task that exhausted memory would only kill the next worker too
            self.terminate()
            raise WorkerLost("a local worker process died abruptly (killed by a signal, or out of memory: see "
                             "`dmesg`); finished work is kept, run the same command again to resume") from exc
        except BaseException:
            # Ctrl-C, or a task that raised: stop now. A graceful shutdown would let every
            # worker finish its task and then start the one already queued for it (minutes
            # for a benchmark workspace). Tasks are resumable by contract (a killed worker's
            # run directory resumes exactly), so killing them loses no finished work.
            self.terminate()
            raise

    def terminate(self) -> None:
        """Cancel queued tasks and kill the workers (SIGTERM, then SIGKILL after 5 s)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(5.0)
            if proc.is_alive():
                proc.kill()
                proc.join(5.0)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _start_worker(state: dict) -> None:
    """A pool worker ignores SIGINT: a terminal's Ctrl-C reaches the whole process group, and
    only the parent decides (it kills the workers and exits "interrupted"). A worker that died
    of it between tasks would otherwise break the pool and be reported as a lost worker."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from sandbox.image import adopt_process_state
    adopt_process_state(state)


def make_executor(workers: int) -> Executor:
    """Serial for one worker, a local process pool otherwise."""
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ---- per-process evaluation state (one provider + evaluator per workspace, backend and limits)
_STATE: dict[tuple[str, str, EvaluatorConfig, BackendConfig], TrustedEvaluator] = {}


def _evaluator(task: CandidateTask) -> TrustedEvaluator:
    key = (str(Path(task.workspace).resolve()), task.sandbox, task.evaluation, task.replay)
    if key not in _STATE:
        from evaluation.factory import open_hosts, policy_validator
        from inventory.workspace import HIDDEN_DIR, load_workspace
        from orpr.backend import make_backend

        if not _STATE:
            atexit.register(close_worker_state)
        hosts = open_hosts(task.sandbox, hidden=(Path(key[0]) / HIDDEN_DIR,))
        _STATE[key] = TrustedEvaluator(load_workspace(key[0]), hosts, task.tuning, validator=policy_validator(),
                                       config=task.evaluation, backend=make_backend(task.replay))
    evaluator = _STATE[key]
    evaluator.tuning = task.tuning
    return evaluator


def close_worker_state() -> None:
    """Close every evaluator (and its hosts) this process opened for tasks."""
    while _STATE:
        _, evaluator = _STATE.popitem()
        evaluator.close()


def evaluate_task(task: CandidateTask) -> EvalRecord:
    """Validate, tune and replay one candidate in this process's evaluator (never raises for a bad policy)."""
    return _evaluator(task).evaluate(task.source, task.name, task.candidate_id, params=task.params,
                                     vectorised=task.vectorised)


def walk_forward_task(wf: WalkForwardTask) -> dict:
    """One member's ``walkforward.jsonl`` row, computed in this process's evaluator."""
    from evolve.oos import walk_forward_row

    t = wf.task
    return walk_forward_row(_evaluator(t), wf.plan, t.candidate_id, t.source, t.name)


def replication_task(rt: ReplicationTask) -> dict:
    """One member's ``replications.jsonl`` row, computed in this process's evaluator."""
    from evolve.replications import replication_row

    t = rt.task
    return replication_row(_evaluator(t), list(rt.paths), t.candidate_id, t.name, t.source, t.params or {},
                           t.vectorised)
