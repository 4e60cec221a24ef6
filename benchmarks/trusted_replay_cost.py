"""What the fresh, data-free trusted-replay process costs per candidate.

Before (issue #8), the trusted day-by-day replay asked the tuning host's process for each
decision; now every candidate's replay runs in a new data-free host (a sandbox worker, or a
plain subprocess with ``--sandbox none``) that is started and closed for it. This script
scores the same candidates on ``workspaces/retail_promo`` with both versions, in one run:

- ``before``: the code of a git ref (default ``bbe3670``, main before the fix), exported with
  ``git archive``; measured twice: as ``evolve`` ran it (one SQLite Optuna study per
  candidate in the run directory) and in memory (which isolates the replay's cost);
- ``after``: this working tree.

Each version runs in its own interpreter (``PYTHONPATH`` = its tree) and evaluates every
candidate (tune with the same budget + trusted replay) ``--repeat`` times per backend, after a
warm-up candidate (host start, imports). It prints the median wall seconds per candidate,
the ratio after/before and the seconds the fresh replay process adds. Usage::

    nice -n 10 python3 benchmarks/trusted_replay_cost.py                       # none + bwrap
    python3 benchmarks/trusted_replay_cost.py --backends none --repeat 1 --ref bbe3670
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs inside each version's interpreter; prints one JSON object.
DRIVER = r'''
import json, sys, time
from pathlib import Path
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace
from evaluation.trusted import TrustedEvaluator

ws_path, backend, trials, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
extra, sqlite_dir = json.loads(sys.argv[5]), sys.argv[6]
ws = load_workspace(ws_path)
kw = {}
try:
    from evaluation.factory import open_hosts          # after: a provider of tuning + fresh replay hosts
    hosts, closer = open_hosts(backend), None
except ImportError:                                     # before: one host for everything
    from evaluation.factory import open_host
    hosts = closer = open_host(ws.replay_problem(), backend)
    if sqlite_dir:                                      # as `evolve` ran it: one SQLite study per candidate
        from evolve.rundir import RunDir
        Path(sqlite_dir).mkdir(parents=True, exist_ok=True)
        kw["storage"] = RunDir(sqlite_dir).optuna_storage()
ev = TrustedEvaluator(ws, hosts, TuningConfig(n_trials=trials), **kw)
cands = [(ws.baseline_source(n), n) for n in ws.baselines] + [(src, f"extra{i}") for i, src in enumerate(extra)]
ev.evaluate(cands[0][0], "warm-up", "warm-up")           # host boot and imports, not counted
times, costs = [], {}
for r in range(repeat):
    for src, name in cands:
        t0 = time.perf_counter()
        rec = ev.evaluate(src, name, f"{name}-{r}")
        times.append(time.perf_counter() - t0)
        assert rec.ok, (name, rec.error)
        costs[name] = rec.replay_cost
ev.close()
if closer is not None:
    closer.close()
print(json.dumps({"times": times, "costs": costs}))
'''

EXTRA = [
    """import numpy as np
PARAMS = {"S": (0.0, 300.0), "r0": (0.0, 150.0), "gamma": (0.0, 1.0)}
def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r0"] + params["gamma"] * gap)
""",
    """import numpy as np
def search_space(info):
    return {"k": (0.5, 4.0), "w": (3, 28, "int")}
def order(obs, params):
    d = obs.demand
    if len(d) == 0:
        return 0.0
    w = int(params["w"])
    mean = float(np.mean(d[-w:]))
    target = params["k"] * mean * (obs.lead_time + 1)
    return max(target - obs.position, 0.0)
""",
]


def export(ref: str, dest: Path) -> Path:
    data = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest)
    return dest


def measure(tree: Path, workspace: Path, backend: str, trials: int, repeat: int, sqlite_dir: str = "") -> dict:
    out = subprocess.run([sys.executable, "-c", DRIVER, str(workspace), backend, str(trials), str(repeat),
                          json.dumps(EXTRA), sqlite_dir], capture_output=True, text=True, cwd=tree,
                         env={**os.environ, "PYTHONPATH": str(tree)})
    if out.returncode != 0:
        raise RuntimeError(f"{tree} ({backend}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="bbe3670", help="git ref of the 'before' code (default: main before #8's evaluator)")
    ap.add_argument("--workspace", type=Path, default=REPO / "workspaces" / "retail_promo")
    ap.add_argument("--backends", default="none,bwrap")
    ap.add_argument("--trials", type=int, default=50, help="Optuna trials per candidate")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="replay-cost-") as tmp:
        os.chmod(tmp, 0o755)  # the sandbox user binds the exported tree read-only
        before = export(args.ref, Path(tmp) / "before")
        print(f"workspace {args.workspace.name}, {args.trials} trials per candidate, "
              f"{len(EXTRA) + 5} candidates x {args.repeat}; before = {args.ref}, after = working tree")
        print(f"{'backend':8s} {'before+sqlite':>14s} {'before':>9s} {'after':>9s} {'after/before':>13s} "
              f"{'fresh replay s':>15s} {'after/before+sqlite':>20s}   (median s per candidate)")
        for backend in args.backends.split(","):
            bs = measure(before, args.workspace.resolve(), backend, args.trials, args.repeat, str(Path(tmp) / backend))
            b = measure(before, args.workspace.resolve(), backend, args.trials, args.repeat)
            a = measure(REPO, args.workspace.resolve(), backend, args.trials, args.repeat)
            ms, mb, ma = (statistics.median(x["times"]) for x in (bs, b, a))
            print(f"{backend:8s} {ms:14.3f} {mb:9.3f} {ma:9.3f} {ma / mb:13.2f} {ma - mb:15.3f} {ma / ms:20.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
