"""The ``bench`` experiments: which suite, which job per workspace, which table.

:func:`run_experiment` is the one call behind ``invevolve bench exp1|exp2|exp3``: it loads
the suite, runs the resumable sweep on the chosen executor, and writes the Markdown, CSV
and PNG into the sweep directory. ``orpr`` is :mod:`bench.orpr_cmd` (ORPR's own experiment).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bench import paper
from bench.classical_job import ClassicalResult, classical_job
from bench.evolve_job import EvolveResult, evolve_job
from bench.provenance import Provenance, commit_stamp, load_average
from bench.report import Written, write_classical, write_success
from bench.settings import BenchSettings
from bench.suites import SuiteEntry, SuiteKind, load_suite
from bench.sweep import Sweep
from bench.tables import best_baseline_rows, gap_rows, success_rows, wtl_rows
from inventory.errors import ConfigError

log = logging.getLogger(__name__)


class Experiment(str, Enum):
    EXP1 = "exp1"
    EXP2 = "exp2"
    EXP3 = "exp3"

    @property
    def suite_kind(self) -> SuiteKind:
        return {"exp1": SuiteKind.SYNTHETIC, "exp2": SuiteKind.CJ, "exp3": SuiteKind.CLASSICAL}[self.value]


class ExecutorKind(str, Enum):
    LOCAL = "local"
    RAY = "ray"


@dataclass(frozen=True)
class ExecutorSpec:
    """Where the sweep's workspaces run: ``workers`` at once, locally or on a Ray cluster."""

    kind: ExecutorKind = ExecutorKind.LOCAL
    workers: int = 1
    address: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}")
        if self.address is not None and self.kind is not ExecutorKind.RAY:
            raise ConfigError("--address is for --executor ray")

    def describe(self) -> str:
        where = "" if self.kind is ExecutorKind.LOCAL else f" at {self.address or 'a private local instance'}"
        return f"{self.kind.value} executor{where}, {self.workers} workspace(s) at once"


@dataclass(frozen=True)
class BenchOptions:
    experiment: Experiment
    suite: Path
    out: Path
    settings: BenchSettings
    executor: ExecutorSpec = ExecutorSpec()
    limit: int | None = None
    tie_tolerance: float = 0.005
    progress: bool = True
    command: str = ""

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {self.limit}")
        if not 0 <= self.tie_tolerance < 1:
            raise ConfigError(f"--tie-tolerance must be in [0, 1), got {self.tie_tolerance}")


def open_executor(spec: ExecutorSpec, sandbox: str):
    from evolve.executor_ray import make_executor
    return make_executor(spec.kind.value, spec.workers, address=spec.address, sandbox=sandbox)


def _budget(settings: BenchSettings) -> str:
    c = settings.config
    if not settings.evolve:
        return f"no evolve runs (--no-evolve), library variants tuned with {c.tuning.n_trials} trials, seed {c.search.seed}"
    return (f"{c.search.rounds} rounds x {c.search.candidates_per_round} candidates, {c.tuning.n_trials} trials, "
            f"sandbox {c.sandbox}, seed {c.search.seed}")


def run_experiment(opts: BenchOptions) -> tuple[Written, dict[str, str]]:
    """Run (or resume) the experiment's sweep and write its tables; returns the files and failures."""
    entries: list[SuiteEntry] = load_suite(opts.experiment.suite_kind, opts.suite)
    if opts.limit:
        entries = entries[: opts.limit]
    if not entries:
        raise ConfigError(f"{opts.suite}: no workspaces to run")
    sweep = Sweep(opts.out, opts.experiment.value, opts.settings)
    job = classical_job if opts.experiment is Experiment.EXP3 else evolve_job
    load_start = load_average()
    earlier = set(sweep.records(entries))
    start = time.perf_counter()
    with open_executor(opts.executor, opts.settings.config.sandbox) as executor:
        results, errors = sweep.run(entries, executor, job, progress=opts.progress)
    wall = time.perf_counter() - start
    records = [r for name, r in sweep.records(entries).items() if name in results]
    prov = Provenance(opts.experiment.value, str(opts.suite), opts.settings.proposer.label, _budget(opts.settings),
                      opts.command, commit_stamp(), len(results), wall, f"{load_start} at start, {load_average()} at end",
                      opts.executor.describe(), computed=len(set(results) - earlier),
                      worker_seconds=sum(r.seconds for r in records), result_commits=[r.commit for r in records])
    opts.out.mkdir(parents=True, exist_ok=True)
    if opts.experiment is Experiment.EXP3:
        rs = [ClassicalResult.from_dict(results[e.name]) for e in entries if e.name in results]
        files = write_classical(opts.out, "exp3", best_baseline_rows(rs), wtl_rows(rs, opts.tie_tolerance),
                                gap_rows(rs), opts.tie_tolerance, prov, errors)
    else:
        ev = [EvolveResult.from_dict(results[e.name]) for e in entries if e.name in results]
        failed = [(e.group, e.group_label, e.ood) for e in entries if e.name in errors]
        if opts.experiment is Experiment.EXP1:
            rows = success_rows(ev, failed, paper.TABLE2, paper.TABLE2_OVERALL, paper.TABLE2_OOD)
            files = write_success(opts.out, "exp1", "Synthetic test split by industry domain (paper Table 2)", rows,
                                  paper.TABLE2_OTHERS, prov, errors)
        else:
            rows = success_rows(ev, failed, paper.TABLE3, paper.TABLE3_OVERALL)
            files = write_success(opts.out, "exp2", "Complete Journey test split by department (paper Table 3)", rows,
                                  paper.TABLE3_OTHERS, prov, errors)
    log.info("%s: %d of %d workspaces finished in %.0f s; wrote %s", opts.experiment.value, len(results),
             len(entries), wall, files.markdown)
    return files, errors
