"""Which point of an exactly scored grid to deploy: the replay argmin, or a smoothed one?

    python benchmarks/tuning_selection.py --workspaces /work/data/classical [--only geometric_L3_p9 ...] \
        [--days N --seeds K]

The exact tuner scores every (S, r) of capped base stock on the replay window and takes the
minimum. On a finite window that minimum is partly luck (winner's curse), and it tends to sit
on a cliff edge: the smallest cap r that keeps up on *this* sample. For each Poisson/geometric
workspace of ``invevolve datagen classical`` this script scores the whole grid once on the
replay window and compares selection rules by the **exact** long-run cost of the point each
rule picks (the Markov chain of :mod:`inventory.dp`), against the exact best CBS of SPEC §8:

- ``argmin``: the replay minimum (what the tuner does today);
- ``box``: the minimum of the replay cost averaged over the point's 3 x 3 neighbourhood
  (neighbours outside the grid left out), a point chosen for being good with its neighbours;
- ``box5``: the same over the 5 x 5 neighbourhood.

``--days N --seeds K`` replaces each replay window by K fresh N-day windows drawn from the
workspace's declared ``[demand_model]`` (seeds 1..K), to see how the window's length, not the
rule, limits the tuned point.

Printed: per workspace the gap of each pick to the best CBS, and per family the mean gap and
how many picks land within 0.1% of the best CBS (the issue-10 target).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.dp import evaluate_cbs, geometric_pmf, poisson_pmf  # noqa: E402
from inventory.library import policy_source  # noqa: E402
from inventory.policy import compile_policy  # noqa: E402
from inventory.reference_values import SPEC8  # noqa: E402
from inventory.sequence import DemandSequence  # noqa: E402
from inventory.tuning import TuningConfig, grid_points  # noqa: E402
from inventory.workspace import load_workspace  # noqa: E402

log = logging.getLogger("tuning_selection")
RULES = ("argmin", "box", "box5")


def box_mean(values: np.ndarray, size: int) -> np.ndarray:
    """Mean over the size x size neighbourhood of each grid cell, cells outside the grid left out."""
    ones = np.ones_like(values)
    num = uniform_filter(values, size=size, mode="constant", cval=0.0)
    den = uniform_filter(ones, size=size, mode="constant", cval=0.0)
    return num / den


def picks(surface: np.ndarray) -> dict[str, tuple[int, int]]:
    """The (i, j) cell each rule selects (ties: the first in row-major order, as the tuner's)."""
    finite = np.where(np.isfinite(surface), surface, np.inf)
    capped = np.where(np.isfinite(surface), surface, np.nanmax(surface[np.isfinite(surface)]) * 10)
    out = {"argmin": np.unravel_index(int(np.argmin(finite)), surface.shape)}
    for rule, size in (("box", 3), ("box5", 5)):
        out[rule] = np.unravel_index(int(np.argmin(box_mean(capped, size))), surface.shape)
    return {k: (int(v[0]), int(v[1])) for k, v in out.items()}


def run(ws_dir: Path, days: int = 0, seed: int = 0) -> dict:
    ws = load_workspace(ws_dir)
    _, family, lead, pen = ws.name.split("_")
    L, p = int(lead[1:]), int(pen[1:])
    pmf = poisson_pmf(5.0) if family == "poisson" else geometric_pmf(5.0)
    opt, _, (best_cbs, _, _) = SPEC8[family][(L, p)]
    problem = ws.replay_problem()
    if days:
        demand = ws.spec.demand_model.draw(np.random.default_rng(seed), days).astype(float)
        dates = [str(np.datetime64("2000-01-01") + i) for i in range(days)]
        problem = replace(problem, seq=DemandSequence(dates, demand, {}))
    prog = compile_policy(policy_source("capped_base_stock"), "cbs")
    space = prog.space(problem.info)
    points = grid_points(space, TuningConfig().grid_limit)
    names = [s.name for s in space]
    S_axis = sorted({pt[names.index("S")] for pt in points})
    r_axis = sorted({pt[names.index("r")] for pt in points})
    values = np.empty(len(points))
    chunk = 512
    for start in range(0, len(points), chunk):
        block = np.asarray(points[start:start + chunk])
        values[start:start + len(block)] = problem.mean_costs(prog, {n: block[:, i].copy() for i, n in enumerate(names)})
    surface = values.reshape(len(S_axis), len(r_axis)) if names == ["S", "r"] else values.reshape(
        len(r_axis), len(S_axis)).T
    chosen = picks(surface)
    row = {"workspace": ws.name, "family": family, "replay_days": len(problem.seq), "best_cbs": best_cbs, "opt": opt}
    exact_of: dict[tuple[int, int], float] = {}
    for rule, (i, j) in chosen.items():
        S, r = int(S_axis[i]), int(r_axis[j])
        if (S, r) not in exact_of:
            exact_of[S, r] = evaluate_cbs(pmf, L, 1.0, float(p), S, r)
        exact = exact_of[S, r]
        row[rule] = {"S": S, "r": r, "replay": float(surface[i, j]), "exact": float(exact),
                     "vs_best_cbs": 100 * (exact / best_cbs - 1)}
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspaces", type=Path, required=True)
    ap.add_argument("--only", nargs="*", default=None, help="name suffixes, e.g. geometric_L3_p9")
    ap.add_argument("--days", type=int, default=0, help="fresh replay windows of this many days (0: the workspace's)")
    ap.add_argument("--seeds", type=int, default=1, help="with --days: this many fresh windows per workspace")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    dirs = sorted(d for d in args.workspaces.iterdir()
                  if d.is_dir() and d.name.split("_")[1] in ("poisson", "geometric")
                  and (not args.only or any(d.name.endswith(o) for o in args.only)))
    rows = []
    for d, seed in [(d, k) for d in dirs for k in (range(1, args.seeds + 1) if args.days else (0,))]:
        t0 = time.perf_counter()
        rows.append(run(d, args.days, seed))
        r = rows[-1]
        log.info("%s (%d days, %.0f s): %s", r["workspace"], r["replay_days"], time.perf_counter() - t0,
                 "  ".join(f"{k} ({r[k]['S']},{r[k]['r']}) {r[k]['vs_best_cbs']:+.2f}%" for k in RULES))
    print("\n| family | n | " + " | ".join(f"{k}: mean % over best CBS / within 0.1%" for k in RULES) + " |")
    print("|---|---|" + "---|" * len(RULES))
    for fam in ("poisson", "geometric", "all"):
        sel = [r for r in rows if fam == "all" or r["family"] == fam]
        if not sel:
            continue
        cells = [f"{np.mean([r[k]['vs_best_cbs'] for r in sel]):.2f} / {sum(r[k]['vs_best_cbs'] <= 0.1 for r in sel)}"
                 for k in RULES]
        print(f"| {fam} | {len(sel)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
