"""Run build tasks in worker processes with a tqdm progress bar.

Results come back in task order whatever the completion order, so outputs that depend on
them (indexes, split files) are deterministic.
"""
from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Sequence, TypeVar

from tqdm import tqdm

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def run_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    workers: int,
    desc: str,
    unit: str = "ws",
    weight: Callable[[T], int] = lambda _t: 1,
    progress: bool = True,
) -> list[R]:
    """Apply ``fn`` to every task, in ``workers`` processes (in-process when ``workers <= 1``).

    The bar advances by ``weight(task)`` per finished task (e.g. the number of workspaces a
    task writes). An exception in a task is re-raised after the pool shuts down.
    """
    total = sum(weight(t) for t in tasks)
    results: list[R | None] = [None] * len(tasks)
    with tqdm(total=total, desc=desc, unit=unit, disable=not progress, dynamic_ncols=True) as bar:
        if workers <= 1:
            for i, task in enumerate(tasks):
                results[i] = fn(task)
                bar.update(weight(task))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
                for fut in as_completed(futures):
                    i = futures[fut]
                    results[i] = fut.result()
                    bar.update(weight(tasks[i]))
    return results  # type: ignore[return-value]
