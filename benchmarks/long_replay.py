"""What the trusted day-by-day replay costs per day on a long window, before and after a change.

The trusted replay sends one observation per day to a fresh data-free host; its cost per day
decides how expensive long windows (the classical testbed's 2,000-10,000 replay days, formal
mode) are. This script replays the workspace's tuned capped base stock over its replay window
with ``TrustedEvaluator.replay``, in the code of a git ref (default ``96efb02``: before the
O(1) observation deltas) and in this working tree, alternating the two ``--repeat`` times per
backend in one run, and prints the median milliseconds per day and the ratio. Usage::

    python3 benchmarks/long_replay.py                          # a 10,000-day Poisson workspace, none + bwrap
    python3 benchmarks/long_replay.py --workspace DATA/classical/classical_poisson_L4_p9 --backends none
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from trusted_replay_cost import export  # noqa: E402

DRIVER = r'''
import json, sys, time
from inventory.workspace import load_workspace
from evaluation.factory import open_hosts
from evaluation.trusted import TrustedEvaluator
from inventory.tuning import TuningConfig
ws = load_workspace(sys.argv[1]); backend = sys.argv[2]
name = "capped_base_stock"
src, params = ws.baseline_source(name), dict(ws.baselines[name].params)
ev = TrustedEvaluator(ws, open_hosts(backend), TuningConfig())
t0 = time.perf_counter()
costs = ev.replay(src, name, params, ws.replay, candidate_id="x", vectorised=False)
dt = time.perf_counter() - t0
ev.close()
print(json.dumps({"ms_per_day": 1e3 * dt / len(ws.replay), "cost": float(costs.mean())}))
'''


def build_workspace(dest: Path, days: int) -> Path:
    """A Poisson(5), L = 2, p = 9 workspace with ``days`` replay days (baselines tuned on it)."""
    import numpy as np

    from inventory.sequence import DemandSequence
    from inventory.simulator import InitialState
    from inventory.tuning import TuningConfig
    from inventory.workspace import ProblemSpec, WorkspaceSpec
    from inventory.workspace_write import write_workspace

    demand = np.random.default_rng(0).poisson(5.0, days).astype(float)
    dates = [str(np.datetime64("2000-01-01") + i) for i in range(days)]
    spec = WorkspaceSpec(ProblemSpec("long_replay", "benchmark", "poisson(5)", 1.0, 9.0, 2, days, 0),
                         InitialState(10.0, (5.0, 5.0)), ())
    write_workspace(dest, spec, DemandSequence(dates, demand, {}), None, tuning=TuningConfig(n_trials=16))
    return dest


def measure(tree: Path, workspace: Path, backend: str) -> dict:
    out = subprocess.run([sys.executable, "-c", DRIVER, str(workspace), backend], capture_output=True, text=True,
                         cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
    if out.returncode != 0:
        raise RuntimeError(f"{tree} ({backend}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="96efb02", help="git ref of the 'before' code")
    ap.add_argument("--workspace", type=Path, help="a workspace (default: a generated 10,000-day one)")
    ap.add_argument("--days", type=int, default=10000, help="replay days of the generated workspace")
    ap.add_argument("--backends", default="none,bwrap")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="long-replay-") as tmp:
        os.chmod(tmp, 0o755)  # the sandbox user binds the exported tree read-only
        before = export(args.ref, Path(tmp) / "before")
        ws = args.workspace.resolve() if args.workspace else build_workspace(Path(tmp) / "ws", args.days)
        print(f"workspace {ws.name}; before = {args.ref}, after = working tree; {args.repeat} alternating runs")
        print(f"{'backend':8s} {'before ms/day':>14s} {'after ms/day':>13s} {'before/after':>13s}")
        for backend in args.backends.split(","):
            b, a = [], []
            for _ in range(args.repeat):
                rb, ra = measure(before, ws, backend), measure(REPO, ws, backend)
                if rb["cost"] != ra["cost"]:
                    raise RuntimeError(f"{backend}: the two versions disagree on the cost ({rb['cost']} vs {ra['cost']})")
                b.append(rb["ms_per_day"]); a.append(ra["ms_per_day"])
            mb, ma = statistics.median(b), statistics.median(a)
            print(f"{backend:8s} {mb:14.3f} {ma:13.3f} {mb / ma:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
