"""Coverage of every certification method by Monte Carlo, on processes whose truth is known.

    nice -n 10 python benchmarks/certify_coverage.py --reps 200 --workers 2 [--json out.json]

Each replication draws a workspace from a demand process with a known generative model
(stationary, drifting, regime-switching, promotion-driven; see ``benchmarks/_coverage_world``),
builds a pool (four baselines, five tunable candidates, three "lucky" candidates whose
constants were fitted on the whole replay window and frozen), gates the pool with each
method, applies SPEC §4's deployment rule (argmax UCB among safety-passing members, else
the reference = best baseline on replay), and scores the pick against the truth: each
policy's expected cost over the deployment horizon after the replay window, from
``--paths`` independent continuations of the same process (common random numbers across
policies).

Reported per method and process: false promotion (deployed a policy truly worse than the
reference), power (deployed one truly better), mean realised gain vs the reference (% of
its true cost, 0 when the reference is kept). Formal modes must keep false promotion <= delta.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._coverage_world import PROCESSES, World, build_world  # noqa: E402
from certify import EpsChoice, EpsEstimator, GainDays, GainSource, GateConfig  # noqa: E402
from certify import certify_family, choose_eps, EpsInputs, window_gaps  # noqa: E402

DELTA = 0.05
# Pool A: what evolve's built-in proposer makes (every candidate re-tuned by its PARAMS);
# pool B adds three candidates whose constants were fitted on the whole replay window and
# frozen, as an LLM that read the data might write them.
POOLS = {"A: tunable candidates": lambda m: not m.startswith("lucky"),
         "B: + 3 lucky frozen candidates": lambda m: True}

# (label, method, gain source, eps rule). eps rule "window": historical quantile of the
# in-window gaps (in-sample minus walk-forward), as certify.eps_budget feeds it.
METHODS: tuple[tuple[str, str, str, str], ...] = (
    ("in-sample hoeffding (paper)", "hoeffding", "in_sample", "none"),
    ("in-sample blockwise_t (paper)", "blockwise_t", "in_sample", "none"),
    ("in-sample blockwise_t + eps(window gaps)", "blockwise_t", "in_sample", "window"),
    ("walk-forward hoeffding", "hoeffding", "walk_forward", "none"),
    ("walk-forward blockwise_t", "blockwise_t", "walk_forward", "none"),
    ("walk-forward blockwise_maxt", "blockwise_maxt", "walk_forward", "none"),
    ("walk-forward maxt_bootstrap", "maxt_bootstrap", "walk_forward", "none"),
    ("walk-forward eb_cs", "eb_cs", "walk_forward", "none"),
    ("cross-fit blockwise_maxt", "blockwise_maxt", "cross_fit", "none"),
    ("cross-fit maxt_bootstrap", "maxt_bootstrap", "cross_fit", "none"),
    ("replications hoeffding (formal)", "hoeffding", "replications", "none"),
    ("replications t (asymptotic)", "blockwise_t", "replications", "none"),
    ("replications eb_cs (formal)", "eb_cs", "replications", "none"),
)
FORMAL = {"replications hoeffding (formal)", "replications eb_cs (formal)"}


def deploy(world: World, method: str, source: str, eps_rule: str, members: list[str]) -> str:
    """The member SPEC §4's rule deploys when ``method`` gates gains from ``source``."""
    ref = world.reference
    others = [m for m in members if m != ref]
    if source == "replications":
        costs, days, bound = world.replication_costs, GainDays(GainSource.REPLICATIONS, None, None,
                                                             world.replication_costs[ref].size), world.sim_bound
    elif source == "in_sample":
        costs, days, bound = world.in_sample, GainDays(GainSource.IN_SAMPLE, 0, world.n_days - 1, 1), world.bound
    else:
        costs = world.walk_forward if source == "walk_forward" else world.cross_fit
        plan = world.wf_plan if source == "walk_forward" else world.cf_plan
        days, bound = GainDays(GainSource.WALK_FORWARD, plan.first_day, plan.last_day, len(plan.folds)), world.bound
    eps = None
    if eps_rule == "window":
        gaps = window_gaps(np.column_stack([world.in_sample[ref] - world.in_sample[m] for m in others]),
                           np.column_stack([world.walk_forward[ref] - world.walk_forward[m] for m in others]),
                           [f.score_days for f in world.wf_plan.folds], world.wf_plan.first_day)
        eps = choose_eps(EpsEstimator.HISTORICAL_QUANTILE, EpsInputs(window_gaps=gaps), GainSource.IN_SAMPLE)
    cfg = GateConfig(method=method, delta=DELTA, gains=days.source.value, reps=499)
    try:
        certs = certify_family([(m, m, costs[m]) for m in others], ref, costs[ref], config=cfg,
                               n_pairs=len(others), bound=bound, lead_time=world.lead_time,
                               role="safety", days=days, eps=eps)
    except ValueError:     # a Hoeffding/CS bound exceeded: no certificate, nothing passes
        return ref
    passing = [c for c in certs if c.safety_pass and c.ucb > 0]
    if not passing:
        return ref
    return min(passing, key=lambda c: (-c.ucb, -c.lcb, c.candidate_id)).candidate_id


def replicate(task: tuple[str, int, int, int]) -> dict:
    process, seed, paths, replications = task
    world = build_world(process, seed, paths=paths, replications=replications)
    out = {"process": process, "seed": seed, "reference": world.reference, "truth": world.truth,
           "truth_se": world.truth_se, "picks": {}}
    for pool_name, members in POOLS.items():
        members = [m for m in world.members if members(m)]
        picks = {label: deploy(world, m, s, e, members) for label, m, s, e in METHODS}
        picks["uncertified: best in-sample replay cost"] = min(members, key=lambda m: world.in_sample[m].mean())
        picks["uncertified: best walk-forward cost"] = min(members, key=lambda m: world.walk_forward[m].mean())
        out["picks"][pool_name] = picks
    return out


def summarise(results: list[dict], pool: str) -> dict[str, dict[str, dict[str, float]]]:
    table: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    by_process = defaultdict(list)
    for r in results:
        by_process[r["process"]].append(r)
    for process, rows in by_process.items():
        for label in rows[0]["picks"][pool]:
            worse = better = 0
            gains = []
            for r in rows:
                ref, dep = r["reference"], r["picks"][pool][label]
                t_ref, t_dep = r["truth"][ref], r["truth"][dep]
                worse += dep != ref and t_dep > t_ref
                better += dep != ref and t_dep < t_ref
                gains.append((t_ref - t_dep) / t_ref)
            n = len(rows)
            table[label][process] = {"false_promotion": worse / n, "power": better / n,
                                     "mean_gain": float(np.mean(gains)), "n": n}
        keep = POOLS[pool]
        best = [max((r["truth"][r["reference"]] - v) / r["truth"][r["reference"]]
                    for m, v in r["truth"].items() if keep(m)) for r in rows]
        table["oracle (truly best member)"][process] = {
            "false_promotion": 0.0, "power": float(np.mean([g > 0 for g in best])),
            "mean_gain": float(np.mean(best)), "n": len(rows)}
    return table


def print_table(table: dict, processes: list[str]) -> None:
    head = f"{'method':44s}" + "".join(f" | {p[:18]:^22s}" for p in processes)
    print(head)
    print(f"{'':44s}" + "".join(f" | {'FP':>6s} {'power':>6s} {'gain':>7s}" for _ in processes))
    print("-" * len(head))
    for label, per in table.items():
        cells = []
        for p in processes:
            s = per[p]
            flag = "!" if label in FORMAL and s["false_promotion"] > DELTA else " "
            cells.append(f" | {s['false_promotion']:6.1%}{flag}{s['power']:5.0%} {s['mean_gain']:+7.2%}")
        print(f"{label:44s}" + "".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="replications per process (>= 200 for the table)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--paths", type=int, default=100, help="forward continuations for the truth")
    ap.add_argument("--replications", type=int, default=40, help="independent replications of the formal mode")
    ap.add_argument("--processes", default=",".join(PROCESSES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the raw outcomes here")
    args = ap.parse_args(argv)
    processes = args.processes.split(",")
    tasks = [(p, args.seed * 1_000_003 + i, args.paths, args.replications)
             for p in processes for i in range(args.reps)]
    start = time.perf_counter()
    from tqdm import tqdm
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(tqdm(pool.map(replicate, tasks, chunksize=4), total=len(tasks), desc="replications"))
    wall = time.perf_counter() - start
    if args.json:
        args.json.write_text(json.dumps(results))
    print(f"\n{args.reps} replications per process, delta = {DELTA}, truth from {args.paths} forward "
          f"paths, formal mode {args.replications} replications; wall {wall:.0f} s ({args.workers} workers)")
    print("FP = false promotion (deployed a truly worse policy than the reference); power = deployed a "
          "truly better one;\ngain = mean true cost reduction vs the reference. '!' marks a formal mode "
          f"above delta. MC standard error of a rate near 5%: {np.sqrt(0.05 * 0.95 / args.reps):.1%}.\n")
    for pool in POOLS:
        print(f"\npool {pool}")
        print_table(summarise(results, pool), processes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
