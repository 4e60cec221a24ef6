"""Per-candidate overhead of each sandbox backend, against a bare interpreter start.

Run: ``python benchmarks/sandbox_overhead.py [--reps 40] [--backends bwrap,docker,degraded]
[--before PATH]``

One *candidate* is the cycle the evolve loop runs for every proposal:
``open(source)`` + ``space()`` + ``mean_costs(batch of 8)`` + ``close()``, on a 30-day replay
window with a constant-order policy (so the simulation itself is cheap and the overhead
dominates). For each backend, in the same run:

* **warm**: median candidate time on a running host minus the median of the same cycle on
  :class:`inventory.host.InProcessHost` (the overhead the sandbox adds per candidate);
* **cold**: median time to start a fresh host and run one candidate, minus the in-process
  candidate time (sandbox start + worker boot + the candidate);
* **bare**: median wall time of ``python3 -I -S -c pass`` as a subprocess, the floor any
  process-per-candidate design pays; ratios are against it.

``--before PATH`` compares against another checkout (for example ``git archive`` of the
previous commit): the same measurement runs in a subprocess on each code tree, alternating
rounds (A B A B ...), and the table shows both and their ratio. ``--code PATH`` (internal)
runs the measurement on the packages under PATH and prints JSON.

Printed as a table (this script prints; the library logs).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

POLICY = '''
import numpy as np
PARAMS = {"r": (0.0, 20.0)}

def order(obs, params):
    return params["r"] + 0.0 * obs.on_hand
'''


def timed(fn, reps: int) -> float:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000


def measure(reps: int, cold_reps: int, backends: list[str]) -> dict:
    """Run in a process whose sys.path starts with the code tree under test."""
    import numpy as np

    from inventory.host import InProcessHost
    from inventory.replay import ReplayProblem
    from inventory.sequence import CostModel, DemandSequence
    from inventory.simulator import InitialState
    from sandbox.backends import SandboxUnavailable, select_backend
    from sandbox.host import SandboxHost

    rng = np.random.default_rng(1)
    days = 30
    seq = DemandSequence([f"2024-01-{1 + i % 28:02d}" for i in range(days)], rng.poisson(5, days).astype(float), {})
    prob = ReplayProblem(seq, (), CostModel(1.0, 9.0, 1), InitialState(10.0, (5.0,)))
    params = {"r": np.linspace(0, 10, 8)}

    def candidate(host) -> None:
        h = host.open(POLICY, "bench")
        h.space()
        h.mean_costs(params)
        h.close()

    bare = timed(lambda: subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True), reps)
    inproc_host = InProcessHost(prob)
    candidate(inproc_host)
    inproc = timed(lambda: candidate(inproc_host), reps)
    rows = {}
    for name in backends:
        t0 = time.perf_counter()
        try:
            backend = select_backend(name)
        except SandboxUnavailable as exc:
            rows[name] = {"error": str(exc)[:70]}
            continue
        probe_ms = (time.perf_counter() - t0) * 1000
        host = SandboxHost(prob, backend)
        for _ in range(3):
            candidate(host)
        warm = timed(lambda: candidate(host), reps) - inproc
        host.close()

        def cold_once() -> None:
            h = SandboxHost(prob, backend)
            try:
                candidate(h)
            finally:
                h.close()
        cold = timed(cold_once, cold_reps) - inproc
        rows[name] = {"warm": warm, "cold": cold, "probe": probe_ms, "note": backend.describe()[:60]}
    return {"bare": bare, "inproc": inproc, "rows": rows}


def _run_tree(code: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--code", str(code), "--reps", str(args.reps),
           "--cold-reps", str(args.cold_reps), "--backends", args.backends]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(code), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _merge(runs: list[dict]) -> dict:
    """Median over rounds of every figure."""
    first = runs[0]
    rows = {}
    for name, row in first["rows"].items():
        if "error" in row:
            rows[name] = row
            continue
        rows[name] = {k: statistics.median(r["rows"][name][k] for r in runs) for k in ("warm", "cold", "probe")}
        rows[name]["note"] = row["note"]
    return {"bare": statistics.median(r["bare"] for r in runs), "inproc": statistics.median(r["inproc"] for r in runs),
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--cold-reps", type=int, default=5)
    ap.add_argument("--backends", default="bwrap,docker,degraded")
    ap.add_argument("--before", type=Path, help="another checkout to compare against (same run, alternating)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = [b for b in args.backends.split(",") if b]
    if args.code:
        sys.path.insert(0, str(args.code))
        print(json.dumps(measure(args.reps, args.cold_reps, names)))
        return 0
    if args.before is None:
        sys.path.insert(0, str(HERE))
        res = measure(args.reps, args.cold_reps, names)
        print(f"\nper-candidate overhead (median of {args.reps}; in-process candidate {res['inproc']:.2f} ms)")
        print(f"bare `python3 -I -S -c pass` start: {res['bare']:.2f} ms\n")
        print(f"{'backend':<10} {'warm ms':>9} {'warm/bare':>10} {'cold ms':>9} {'cold/bare':>10}  notes")
        print("-" * 100)
        for name, row in res["rows"].items():
            if "error" in row:
                print(f"{name:<10} {'-':>9} {'-':>10} {'-':>9} {'-':>10}  unavailable: {row['error']}")
            else:
                print(f"{name:<10} {row['warm']:>9.2f} {row['warm'] / res['bare']:>10.2f} {row['cold']:>9.1f} "
                      f"{row['cold'] / res['bare']:>10.2f}  {row['note']}")
        return 0
    before, after = [], []
    for _ in range(args.rounds):
        before.append(_run_tree(args.before.resolve(), args))
        after.append(_run_tree(HERE, args))
    b, a = _merge(before), _merge(after)
    print(f"\nper-candidate overhead, before ({args.before}) vs after (this checkout); median of {args.reps} reps "
          f"x {args.rounds} alternating rounds")
    print(f"bare start: before {b['bare']:.2f} ms, after {a['bare']:.2f} ms; in-process candidate: before "
          f"{b['inproc']:.2f} ms, after {a['inproc']:.2f} ms\n")
    print(f"{'backend':<10} {'warm before':>12} {'warm after':>11} {'after/before':>13} {'cold before':>12} "
          f"{'cold after':>11} {'after/before':>13} {'select ms b/a':>16}")
    print("-" * 104)
    for name in names:
        rb, ra = b["rows"].get(name, {}), a["rows"].get(name, {})
        if "error" in rb or "error" in ra:
            print(f"{name:<10} unavailable: {rb.get('error') or ra.get('error')}")
            continue
        print(f"{name:<10} {rb['warm']:>12.2f} {ra['warm']:>11.2f} {ra['warm'] / rb['warm']:>13.2f} "
              f"{rb['cold']:>12.1f} {ra['cold']:>11.1f} {ra['cold'] / rb['cold']:>13.2f} "
              f"{rb['probe']:>8.0f}/{ra['probe']:<7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
