"""Sweep throughput (workspaces per minute) on the local pool with 1 and 2 processes and on
Ray with 2 workers, measured in the same run, and Ray's overhead per task.

    nice -n 10 python benchmarks/throughput.py [--suite /work/data/synthetic --limit 6] [--repeats 2]

Workload: the exp1 job of ``invevolve bench`` (a whole ``evolve`` run plus its test-window
report) on N workspaces, with a small budget (``--rounds 1 --candidates 2 --trials 16``,
``--sandbox none`` by default; pass ``--sandbox bwrap`` to include sandbox start-up). Without
``--suite``, N example workspaces are generated. Each configuration gets a fresh sweep
directory; the configurations are interleaved ``--repeats`` times (the shared machine's
load drifts) and the best wall time of each is reported with the median. Ray's cluster
start-up is timed apart; its per-task overhead is the round trip of a no-op task through
``RayExecutor.map`` against the same through the local pool.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evolve_job import evolve_job  # noqa: E402
from bench.settings import BenchSettings  # noqa: E402
from bench.suites import SuiteEntry, SuiteKind, load_suite  # noqa: E402
from bench.sweep import Sweep  # noqa: E402
from evolve.config import EvolveConfig, with_overrides  # noqa: E402
from evolve.executor import Executor, ProcessExecutor, SerialExecutor  # noqa: E402
from evolve.executor_ray import RayExecutor  # noqa: E402


def noop(x: int) -> int:
    return x


def entries(args: argparse.Namespace, scratch: Path) -> list[SuiteEntry]:
    if args.suite:
        return load_suite(SuiteKind.SYNTHETIC, args.suite)[: args.limit]
    from datagen.examples import EXAMPLES, build
    names, out = list(EXAMPLES), []
    for i in range(args.limit):
        name, k = names[i % len(names)], i // len(names)
        path = build(scratch / "workspaces", [name], seed_offset=500 * (k + 1), suffix=f"_t{k}", force=True)[0]
        out.append(SuiteEntry(path.name, str(path), name, name))
    return out


def sweep_seconds(ex: Executor, items: list[SuiteEntry], settings: BenchSettings, root: Path) -> float:
    start = time.perf_counter()
    _, errors = Sweep(root, "throughput", settings).run(items, ex, evolve_job, progress=False)
    if errors:
        raise SystemExit(f"workspaces failed: {errors}")
    return time.perf_counter() - start


def per_task_ms(ex: Executor, n: int) -> float:
    ex.map(noop, list(range(4)))  # warm: workers started
    start = time.perf_counter()
    ex.map(noop, list(range(n)))
    return 1000 * (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, help="synthetic suite folder (its test split); default: generated examples")
    ap.add_argument("--limit", type=int, default=6, help="workspaces per sweep (default 6)")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved repetitions (default 1)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--candidates", type=int, default=2)
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--sandbox", default="none", choices=("none", "bwrap", "docker", "auto"))
    ap.add_argument("--noop-tasks", type=int, default=200, help="no-op tasks for the per-task overhead")
    ap.add_argument("--address", default=None, help="Ray cluster to join (default: a private local instance)")
    ap.add_argument("--ray-workers", type=int, default=2, help="Ray actors (default 2)")
    args = ap.parse_args(argv)
    settings = BenchSettings(with_overrides(EvolveConfig(), search_rounds=args.rounds,
                                            search_candidates_per_round=args.candidates,
                                            tuning_n_trials=args.trials, sandbox=args.sandbox))
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="invevolve-throughput-") as tmp:
        scratch = Path(tmp)
        items = entries(args, scratch)
        t0 = time.perf_counter()
        ray_ex = RayExecutor(args.ray_workers, args.address, sandbox=args.sandbox)
        ray_ex.worker_pids()
        ray_start = time.perf_counter() - t0
        ray_label = f"Ray, {args.ray_workers} workers"
        times: dict[str, list[float]] = {"local, 1 process": [], "local pool, 2 processes": [], ray_label: []}
        try:
            for rep in range(args.repeats):
                with SerialExecutor() as ex:
                    times["local, 1 process"].append(sweep_seconds(ex, items, settings, scratch / f"l1-{rep}"))
                with ProcessExecutor(2) as ex:
                    times["local pool, 2 processes"].append(sweep_seconds(ex, items, settings, scratch / f"l2-{rep}"))
                times[ray_label].append(sweep_seconds(ray_ex, items, settings, scratch / f"r2-{rep}"))
            with ProcessExecutor(2) as ex:
                local_ms = per_task_ms(ex, args.noop_tasks)
            ray_ms = per_task_ms(ray_ex, args.noop_tasks)
        finally:
            ray_ex.close()
    load1 = os.getloadavg()
    base = min(times["local, 1 process"])
    print(f"\n{len(items)} workspaces per sweep ({'suite ' + str(args.suite) if args.suite else 'generated examples'}), "
          f"{args.rounds} round(s) x {args.candidates} candidates, {args.trials} trials, sandbox {args.sandbox}; "
          f"{args.repeats} repetition(s); load average {load0[0]:.1f} -> {load1[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'executor':26s} {'best wall s':>11s} {'median s':>9s} {'ws/min':>8s} {'speed-up':>9s}")
    for label, ts in times.items():
        best = min(ts)
        print(f"{label:26s} {best:11.1f} {statistics.median(ts):9.1f} {60 * len(items) / best:8.2f} {base / best:8.2f}x")
    ray_ws = (min(times[ray_label]) - min(times["local pool, 2 processes"])) / len(items)
    where = args.address or "private local instance"
    print(f"Ray cluster start ({where}, {args.ray_workers} actors): {ray_start:.1f} s, once per sweep")
    print(f"no-op task round trip: Ray {ray_ms:.2f} ms, local pool {local_ms:.2f} ms "
          f"-> Ray overhead {ray_ms - local_ms:+.2f} ms per task")
    print(f"Ray ({args.ray_workers} workers) vs local pool (2), per workspace: {ray_ws:+.2f} s "
          f"({100 * ray_ws * len(items) / min(times['local pool, 2 processes']):+.1f}% of the local sweep)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
