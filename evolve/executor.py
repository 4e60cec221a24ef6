"""Where candidate evaluations run: the ``Executor`` extension point.

A round's candidates are independent until they are gated, so they can be tuned and
replayed concurrently. The unit of work is a :class:`CandidateTask`, a picklable value
(workspace path, tuning config with its seed, sandbox backend, candidate id and source);
:func:`evaluate_task` is a pure function of it that returns the trusted
:class:`~evaluation.trusted.EvalRecord`. Executors return results **in submission order**,
so a loop that gates them in that order makes the same decisions whichever executor ran
them (records differ only in ``seconds``).

Implementations: :class:`SerialExecutor` (this process) and :class:`ProcessExecutor`
(a local pool of worker processes). Each worker process opens its own policy host
(sandbox) and trusted evaluator for a workspace the first time it needs one and reuses
them for later tasks; they are closed when the worker exits. A distributed engine (Ray)
plugs in by implementing :meth:`Executor.map` for the same tasks.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from evaluation.trusted import EvalRecord, TrustedEvaluator
from inventory.tuning import TuningConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class CandidateTask:
    """Evaluate one candidate of one workspace. Everything a fresh process needs, nothing more."""

    workspace: str
    candidate_id: str
    name: str
    source: str
    tuning: TuningConfig
    sandbox: str
    params: dict[str, float] | None = field(default=None)  # fixed parameters (pre-tuned baselines)


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
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return list(self._pool.map(fn, tasks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_executor(workers: int) -> Executor:
    """Serial for one worker, a local process pool otherwise."""
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ---- per-process evaluation state (one host + evaluator per workspace and backend)
_STATE: dict[tuple[str, str], tuple[object, TrustedEvaluator]] = {}


def _evaluator(workspace: str, sandbox: str, tuning: TuningConfig) -> TrustedEvaluator:
    key = (str(Path(workspace).resolve()), sandbox)
    if key not in _STATE:
        from evaluation.factory import open_host, policy_validator
        from inventory.workspace import load_workspace

        ws = load_workspace(key[0])
        host = open_host(ws.replay_problem(), sandbox)
        if not _STATE:
            atexit.register(close_worker_state)
        _STATE[key] = (host, TrustedEvaluator(ws, host, tuning, validator=policy_validator()))
    evaluator = _STATE[key][1]
    evaluator.tuning = tuning
    return evaluator


def close_worker_state() -> None:
    """Close every host and evaluator this process opened for tasks."""
    while _STATE:
        _, (host, evaluator) = _STATE.popitem()
        evaluator.close()
        host.close()  # type: ignore[attr-defined]


def evaluate_task(task: CandidateTask) -> EvalRecord:
    """Validate, tune and replay one candidate in this process's evaluator (never raises for a bad policy)."""
    evaluator = _evaluator(task.workspace, task.sandbox, task.tuning)
    try:
        return evaluator.evaluate(task.source, task.name, task.candidate_id, params=task.params)
    finally:
        evaluator.close()  # drop the candidate's handle; the host stays up for the next task
