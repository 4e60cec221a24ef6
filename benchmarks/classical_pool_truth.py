"""What the pools of an exp3 sweep hold in truth: every member's long-run cost on the classical testbed.

    python benchmarks/classical_pool_truth.py --sweep /work/benchruns/exp3-evolve \
        --suite /work/data/classical [--only poisson_L2_p9 ...] [--days 20000]

For each finished workspace of ``invevolve bench exp3`` (its run directory under
``SWEEP/runs``), every pool member (baselines and generated policies, each at the parameters
the run tuned on the replay window) is replayed over one fresh ``--days``-day path drawn from
the workspace's declared law, common random numbers for all members. Reported per member:
the long-run cost difference to the tuned CBS with a batch-means 95% half-width, and where
the exact DP applies (Poisson, geometric: SPEC §8) the gap to the optimum, estimated as
``C_exact(tuned CBS) + mean(c_member - c_CBS)``.

It answers two questions the exp3 table cannot: does the pool hold a policy that beats tuned
CBS by the margins the issue asks about, and could any certificate resolve that margin on
the suite's windows (compare the half-width at ``--days`` with the margin). The code it
replays is the run directory's: our own built-in templates, run in this process.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.dp import evaluate_cbs, geometric_pmf, poisson_pmf  # noqa: E402
from inventory.policy import compile_policy  # noqa: E402
from inventory.reference_values import SPEC8  # noqa: E402
from inventory.sequence import DemandSequence  # noqa: E402
from inventory.simulator import simulate  # noqa: E402
from inventory.workspace import load_workspace  # noqa: E402

log = logging.getLogger("classical_pool_truth")
WARM = 500
BATCH = 500
REFERENCE = "baseline-capped_base_stock"


def member_costs(run: Path, problem, seq: DemandSequence) -> dict[str, tuple[str, np.ndarray, dict]]:
    out = {}
    for line in (run / "candidates.jsonl").read_text(encoding="utf-8").splitlines():
        c = json.loads(line)
        if c.get("error") or c.get("params") is None:
            continue
        prog = compile_policy((run / "candidates" / f"{c['candidate_id']}.py").read_text(encoding="utf-8"),
                              c["candidate_id"])
        params = {k: np.array([float(v)]) for k, v in c["params"].items()}
        costs = simulate(prog, seq, problem.specs, problem.model, params, init=problem.init).costs[0][WARM:]
        out[c["candidate_id"]] = (c["name"], costs, c["params"])
    return out


def scenario(run: Path, ws_dir: Path, days: int, seed: int) -> list[dict]:
    ws = load_workspace(ws_dir)
    _, family, lead, pen = ws.name.split("_")
    L, p = int(lead[1:]), int(pen[1:])
    problem = ws.replay_problem()
    demand = ws.spec.demand_model.draw(np.random.default_rng(seed), days).astype(float)
    seq = DemandSequence([str(np.datetime64("2000-01-01") + i) for i in range(days)], demand, {})
    members = member_costs(run, problem, seq)
    _, ref, ref_params = members[REFERENCE]
    exact = opt = None
    if family in SPEC8:
        opt = SPEC8[family][(L, p)][0]
        pmf = poisson_pmf(5.0) if family == "poisson" else geometric_pmf(5.0)
        exact = evaluate_cbs(pmf, L, 1.0, float(p), int(ref_params["S"]), int(ref_params["r"]))
    rows = []
    for cid, (name, costs, _) in members.items():
        diff = costs - ref
        m = len(diff) // BATCH
        hw = 1.96 * diff[: m * BATCH].reshape(m, BATCH).mean(axis=1).std(ddof=1) / math.sqrt(m)
        rows.append({"workspace": ws.name, "family": family, "member": cid, "name": name,
                     "vs_cbs_pct": 100 * diff.mean() / ref.mean(), "half_width_pct": 100 * hw / ref.mean(),
                     "gap_pct": None if exact is None else 100 * ((exact + diff.mean()) / opt - 1)})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", type=Path, required=True)
    ap.add_argument("--suite", type=Path, required=True)
    ap.add_argument("--only", nargs="*", default=None, help="name suffixes, e.g. poisson_L2_p9")
    ap.add_argument("--days", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=123)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    runs = sorted(r for r in (args.sweep / "runs").iterdir()
                  if (args.sweep / "results" / f"{r.name}.json").exists()
                  and (not args.only or any(r.name.endswith(o) for o in args.only)))
    print("| workspace | tuned CBS gap % | best generated member | its long-run cost vs CBS % (95% hw) | its gap % |")
    print("|---|---|---|---|---|")
    for run in runs:
        rows = scenario(run, args.suite / run.name, args.days, args.seed)
        ref = next(r for r in rows if r["member"] == REFERENCE)
        gen = [r for r in rows if not r["member"].startswith("baseline-")]
        best = min(gen, key=lambda r: r["vs_cbs_pct"]) if gen else None
        fmt = lambda x: "—" if x is None else f"{x:.2f}"  # noqa: E731
        if best is None:
            print(f"| {run.name} | {fmt(ref['gap_pct'])} | — | — | — |")
            continue
        print(f"| {run.name} | {fmt(ref['gap_pct'])} | {best['member']} | {best['vs_cbs_pct']:+.2f} "
              f"(±{best['half_width_pct']:.2f}) | {fmt(best['gap_pct'])} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
