"""Per-candidate overhead of each sandbox backend, against a bare interpreter start.

Run: ``python benchmarks/sandbox_overhead.py [--reps 40] [--backends bwrap,docker,degraded]``

One *candidate* is the cycle the evolve loop runs for every proposal:
``open(source)`` + ``space()`` + ``mean_costs(batch of 8)`` + ``close()``, on a 30-day replay
window with a constant-order policy (so the simulation itself is cheap and the overhead
dominates). For each backend, in the same run:

* **warm**: median candidate time on a running host minus the median of the same cycle on
  :class:`evaluation.host.InProcessHost` (the overhead the sandbox adds per candidate);
* **cold**: median time to start a fresh host and run one candidate, minus the in-process
  candidate time (sandbox start + worker boot + the candidate);
* **bare**: median wall time of ``python3 -I -S -c pass`` as a subprocess, the floor any
  process-per-candidate design pays; ratios are against it.

Printed as a table (this script prints; the library logs).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.host import InProcessHost  # noqa: E402
from inventory.replay import ReplayProblem  # noqa: E402
from inventory.sequence import CostModel, DemandSequence  # noqa: E402
from inventory.simulator import InitialState  # noqa: E402
from sandbox.backends import SandboxUnavailable, select_backend  # noqa: E402
from sandbox.host import SandboxHost  # noqa: E402

POLICY = '''
import numpy as np
PARAMS = {"r": (0.0, 20.0)}

def order(obs, params):
    return params["r"] + 0.0 * obs.on_hand
'''


def problem(days: int = 30) -> ReplayProblem:
    rng = np.random.default_rng(1)
    dates = [f"2024-01-{1 + i % 28:02d}" for i in range(days)]
    seq = DemandSequence(dates, rng.poisson(5, days).astype(float), {})
    return ReplayProblem(seq, (), CostModel(1.0, 9.0, 1), InitialState(10.0, (5.0,)))


def candidate(host, params) -> None:
    h = host.open(POLICY, "bench")
    h.space()
    h.mean_costs(params)
    h.close()


def timed(fn, reps: int) -> float:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--cold-reps", type=int, default=5)
    ap.add_argument("--backends", default="bwrap,docker,degraded")
    args = ap.parse_args(argv)
    prob = problem()
    params = {"r": np.linspace(0, 10, 8)}

    bare = timed(lambda: subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True), args.reps)
    inproc_host = InProcessHost(prob)
    candidate(inproc_host, params)
    inproc = timed(lambda: candidate(inproc_host, params), args.reps)

    rows = []
    for name in [b for b in args.backends.split(",") if b]:
        try:
            backend = select_backend(name)
        except SandboxUnavailable as exc:
            rows.append((name, None, None, f"unavailable: {exc}"[:70]))
            continue
        host = SandboxHost(prob, backend)
        for _ in range(3):
            candidate(host, params)
        warm = timed(lambda: candidate(host, params), args.reps) - inproc
        host.close()

        def cold_once() -> None:
            h = SandboxHost(prob, backend)
            try:
                candidate(h, params)
            finally:
                h.close()
        cold = timed(cold_once, args.cold_reps) - inproc
        rows.append((name, warm, cold, backend.describe()[:70]))

    print(f"\nper-candidate overhead (median of {args.reps}; in-process candidate {inproc:.2f} ms)")
    print(f"bare `python3 -I -S -c pass` start: {bare:.2f} ms\n")
    print(f"{'backend':<10} {'warm ms':>9} {'warm/bare':>10} {'cold ms':>9} {'cold/bare':>10}  notes")
    print("-" * 100)
    for name, warm, cold, note in rows:
        if warm is None:
            print(f"{name:<10} {'-':>9} {'-':>10} {'-':>9} {'-':>10}  {note}")
        else:
            print(f"{name:<10} {warm:>9.2f} {warm / bare:>10.2f} {cold:>9.1f} {cold / bare:>10.2f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
