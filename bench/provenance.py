"""What ran, where and how long: the header line of every experiment table.

A sweep is resumable, so one table may hold workspaces computed by several invocations,
possibly by different code. The header therefore says how many this invocation computed
(and its wall time), how many were read from earlier runs, the worker time summed over all
of them (from each result file), and which commits the result files were computed by.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from inventory.provenance import code_commit

UNRECORDED = "not recorded"


def commit_stamp() -> str:
    """Short commit of the code that ran (``+dirty`` with local changes), or 'unknown'."""
    return code_commit() or "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


@dataclass(frozen=True)
class Provenance:
    experiment: str
    suite: str
    proposer: str
    budget: str                 # "R rounds x C candidates, T trials, sandbox S, seed N"
    command: str
    commit: str                 # the code of this invocation
    workspaces: int             # in the table
    wall_seconds: float         # this invocation
    load: str                   # load average at the start and at the end
    executor: str
    computed: int | None = None  # workspaces this invocation computed (None: all of them)
    worker_seconds: float = 0.0  # summed over every workspace in the table, from its result file
    result_commits: Sequence[str] = ()  # the commits the result files record (UNRECORDED for old files)

    def markdown(self) -> str:
        computed = self.workspaces if self.computed is None else self.computed
        head = (f"`{self.command}` at commit `{self.commit}`: {self.workspaces} workspaces of `{self.suite}`, "
                f"{self.proposer}, {self.budget}; {self.executor}; ")
        if computed == self.workspaces:
            run = f"wall {self.wall_seconds / 60:.1f} min"
        else:
            run = (f"this invocation computed {computed} of them in {self.wall_seconds / 60:.1f} min wall, "
                   f"{self.workspaces - computed} were read from earlier runs of the sweep")
        extra = ""
        if self.worker_seconds > 0:
            extra += f"; worker time {self.worker_seconds / 60:.1f} min summed over all {self.workspaces}"
        commits = sorted(set(self.result_commits))
        if commits and commits != [self.commit]:
            extra += "; results computed by commit(s) " + ", ".join(f"`{c}`" for c in commits)
        return f"{head}{run}{extra} (load average {self.load})."
