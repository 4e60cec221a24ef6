"""Built-in proposer on many workspaces: success against the best baseline on the test window.

    python benchmarks/builtin_proposer.py --generate 20 --out /tmp/bench      # example generators x seeds
    python benchmarks/builtin_proposer.py --workspaces DIR [--limit 30]       # any folder of workspaces

For every workspace it runs the real loop (built-in proposer, trusted evaluator, gates;
``--sandbox none`` by default, which gives identical numbers faster), then replays every
pool member on the forward window and reports, for the deployed policy under several
confidence budgets delta, the success rate (test cost strictly below the minimum test cost
of the five tuned baselines), the mean cost change where it succeeds, and how often the
deployed policy was worse than the reference on the test window. The uncertified rule
"deploy the best replay cost" is reported alongside, from the same pools.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify import GateConfig  # noqa: E402
from inventory.host import InProcessHost  # noqa: E402
from evaluation.trusted import TrustedEvaluator  # noqa: E402
from evolve.builtin import BuiltinProposer  # noqa: E402
from evolve.config import EvolveConfig, with_overrides  # noqa: E402
from evolve.controller import Controller  # noqa: E402
from evolve.pool import Pool  # noqa: E402
from evolve.rundir import RunDir  # noqa: E402
from inventory.workspace import load_workspace  # noqa: E402

log = logging.getLogger("bench")
DELTAS = (0.05, 0.1, 0.2, 0.5)


def run_one(args: tuple[str, str, dict]) -> dict:
    ws_path, run_root, overrides = args
    ws = load_workspace(ws_path)
    cfg = with_overrides(EvolveConfig(), **overrides)
    rd = RunDir(Path(run_root) / ws.name)
    if rd.root.exists():
        import shutil
        shutil.rmtree(rd.root)
    rd.create({"workspace": str(ws.root)}, cfg.to_dict())
    host = InProcessHost(ws.replay_problem())
    ev = TrustedEvaluator(ws, host, cfg.tuning)
    start = time.perf_counter()
    ctl = Controller(ws, rd, cfg, ev, BuiltinProposer(per_round=cfg.search.candidates_per_round))
    pool, _ = ctl.run(progress=False)
    seconds = time.perf_counter() - start
    fwd = {m.id: ev.forward(m.source, m.record.name, m.id, m.record.params).forward_cost for m in pool.members.values()}
    members = {m.id: {"replay": m.record.replay_cost, "costs": m.record.replay_costs, "origin": m.origin,
                      "source_hash": m.record.source_hash} for m in pool.members.values()}
    return {"workspace": ws.name, "reference": pool.reference_id, "forward": fwd, "members": members,
            "seconds": seconds, "lead_time": ws.spec.problem.lead_time, "n_pairs": pool.n_pairs, "bound": pool.bound}


def deploy_under(result: dict, gate: GateConfig) -> str:
    from evaluation.trusted import EvalRecord
    from evolve.pool import Member
    pool = Pool(gate, result["n_pairs"], result["bound"], result["lead_time"])
    for cid, m in result["members"].items():
        rec = EvalRecord(cid, cid, m["source_hash"], "ok", replay_cost=m["replay"], replay_costs=m["costs"])
        pool.add_initial(Member(rec, "", m["origin"], 0))
    pool.certify_initial(result["reference"])
    return pool.deployment().deployed_id


def score(results: list[dict], pick) -> dict:
    wins, changes, worse = 0, [], 0
    for r in results:
        dep = pick(r)
        base = {k: v for k, v in r["forward"].items() if r["members"][k]["origin"] == "baseline"}
        best = min(base.values())
        cost = r["forward"][dep]
        if cost < best:
            wins += 1
            changes.append((cost - best) / best)
        if cost > r["forward"][r["reference"]] * (1 + 1e-12):
            worse += 1
    n = len(results)
    return {"success": wins / n, "mean_change_when_success": float(np.mean(changes)) if changes else float("nan"),
            "worse_than_reference": worse / n}


def format_row(label: str, s: dict) -> str:
    """One table row; a mean over no successes prints as "n/a (0 wins)", never as +nan%."""
    change = s["mean_change_when_success"]
    cell = "n/a (0 wins)" if not np.isfinite(change) else f"{change:+.1%}"
    return f"{label:38s} {s['success']:8.0%} {cell:>20s} {s['worse_than_reference']:15.0%}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--workspaces", type=Path, help="folder whose subfolders are workspaces")
    src.add_argument("--generate", type=int, help="build N example workspaces (4 generators x seeds)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/invevolve-bench"))
    ap.add_argument("--split", help="with --workspaces: only the workspaces listed under 'test' in DIR/splits/standard.json")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--candidates", type=int, default=3)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write raw results here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.generate:
        from datagen.examples import EXAMPLES, build
        ws_root = args.out / "workspaces"
        paths = []
        names = list(EXAMPLES)
        for i in range(args.generate):
            name, k = names[i % len(names)], i // len(names)
            paths += build(ws_root, [name], seed_offset=1000 * (k + 1), suffix=f"_s{k}", force=True)
    else:
        paths = sorted(p for p in args.workspaces.iterdir() if (p / "workspace.toml").exists())
        if args.split:
            names = set(json.loads((args.workspaces / "splits" / "standard.json").read_text())[args.split])
            paths = [p for p in paths if p.name in names]
    if args.limit:
        paths = paths[: args.limit]
    overrides = {"search_rounds": args.rounds, "search_candidates_per_round": args.candidates,
                 "tuning_n_trials": args.trials, "sandbox": "none"}
    jobs = [(str(p), str(args.out / "runs"), overrides) for p in paths]
    start = time.perf_counter()
    from tqdm import tqdm
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(tqdm(pool.map(run_one, jobs), total=len(jobs), desc="workspaces"))
    wall = time.perf_counter() - start
    if args.json:
        args.json.write_text(json.dumps(results))
    print(f"\n{len(results)} workspaces, {args.rounds} rounds x {args.candidates} candidates, {args.trials} trials; "
          f"wall {wall:.0f} s ({args.jobs} jobs), mean {np.mean([r['seconds'] for r in results]):.1f} s per run")
    print(f"{'deployment rule':38s} {'success':>8s} {'mean change|success':>20s} {'worse than ref':>15s}")
    rows = [(f"certified, blockwise_t, delta={d:g}", lambda r, d=d: deploy_under(r, GateConfig("blockwise_t", d))) for d in DELTAS]
    rows.append(("certified, hoeffding, delta=0.05", lambda r: deploy_under(r, GateConfig("hoeffding", 0.05))))
    rows.append(("uncertified: best replay cost", lambda r: min(r["members"], key=lambda k: r["members"][k]["replay"])))
    rows.append(("reference only (best baseline on replay)", lambda r: r["reference"]))
    for label, pick in rows:
        s = score(results, pick)
        print(format_row(label, s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
