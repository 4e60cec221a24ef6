"""Pool coverage of the built-in search: does the pool hold a policy that wins on the test window?

    python benchmarks/pool_coverage.py --suite synthetic=/work/data/synthetic --suite cj=/work/data/cj \
        --generate 20 --out /tmp/pool-coverage [--rounds 4 --candidates 2] [--limit N]

For every workspace (the ``test`` list of ``DIR/splits/standard.json`` for a ``--suite``, and
``--generate N`` example workspaces drawn with fresh seeds) it re-tunes the five baselines
with the current budget rule (so the bar is the strongest tuned baseline, not the one stored
when the workspace was built), runs the real loop (built-in proposer, trusted evaluator
in-process, the gates) and replays every pool member over the test (forward) window.

Reported per suite: the share of workspaces whose pool holds a generated policy with a test
cost strictly below the best baseline's (coverage); the share where the generated policy
with the best replay cost does (best-on-replay pick); the share where the deployed policy
does; candidates tuned per run; near-duplicates rejected and structures screened by the
cascade per run. Raw rows go to ``OUT/<suite>.jsonl`` as workspaces finish (resumable).
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._trusted_hosts import TrustedCodeProvider  # noqa: E402
from evaluation.trusted import TrustedEvaluator  # noqa: E402
from evolve.builtin import BuiltinProposer  # noqa: E402
from evolve.config import EvolveConfig, with_overrides  # noqa: E402
from evolve.controller import Controller  # noqa: E402
from evolve.rundir import RunDir  # noqa: E402
from inventory.library import BASELINES, policy_source  # noqa: E402
from inventory.policy import compile_policy  # noqa: E402
from inventory.tuning import tune_policy  # noqa: E402
from inventory.workspace import load_workspace  # noqa: E402

log = logging.getLogger("pool_coverage")


def retune_baselines(ws, cfg: EvolveConfig) -> None:
    """Replace the stored baseline parameters by the current budget rule's (in memory).

    Integer parameters found for the library's file replay identically in the workspace's
    stored copy of it (orders are rounded), so the pool keeps the stored source."""
    problem = ws.replay_problem()
    for name, rec in list(ws.baselines.items()):
        # the library's current file: its search space (integer levels for count demand) is the
        # one the budget rule enumerates; the workspace's stored copy may predate it
        source = policy_source(name) if name in BASELINES else ws.baseline_source(name)
        res = tune_policy(compile_policy(source, name), problem, cfg.tuning)
        ws.baselines[name] = replace(rec, params=res.params, replay_cost=res.value, n_trials=res.n_trials)


def run_one(ws_path: Path, run_root: Path, overrides: dict) -> dict:
    ws = load_workspace(ws_path)
    cfg = with_overrides(EvolveConfig(), **overrides)
    t0 = time.perf_counter()
    retune_baselines(ws, cfg)
    rd = RunDir(run_root / ws.name)
    if rd.root.exists():
        shutil.rmtree(rd.root)
    rd.create({"workspace": str(ws.root)}, cfg.to_dict())
    ev = TrustedEvaluator(ws, TrustedCodeProvider(), cfg.tuning)
    proposer = BuiltinProposer(per_round=cfg.search.candidates_per_round)
    t1 = time.perf_counter()
    pool, dep = Controller(ws, rd, cfg, ev, proposer).run(progress=False)
    evolve_s = time.perf_counter() - t1
    fwd = {m.id: ev.forward(m.source, m.record.name, m.id, m.record.params).forward_cost for m in pool.members.values()}
    ev.close()
    base = {k: v for k, v in fwd.items() if pool.members[k].origin == "baseline"}
    gen = {k: v for k, v in fwd.items() if pool.members[k].origin != "baseline"}
    best_base = min(base.values())
    pick = min(gen, key=lambda k: (pool.members[k].record.replay_cost, k)) if gen else None
    return {
        "workspace": ws.name, "best_baseline_test": best_base, "candidates": len(gen),
        "covered": bool(gen) and min(gen.values()) < best_base,
        "pick_wins": pick is not None and gen[pick] < best_base,
        "deployed_wins": fwd[dep.deployed_id] < best_base,
        "deployed": dep.deployed_id, "pick": pick,
        "duplicates_rejected": proposer.stats.duplicates_rejected, "screened": proposer.stats.screened,
        "evolve_seconds": evolve_s, "seconds": time.perf_counter() - t0,
    }


def workspaces_of(spec: str, out: Path, limit: int) -> tuple[str, list[Path]]:
    if spec.startswith("generate="):
        from datagen.examples import EXAMPLES, build
        n = int(spec.split("=", 1)[1])
        names, paths = list(EXAMPLES), []
        for i in range(n):
            name, k = names[i % len(names)], i // len(names)
            target = out / "generated" / f"{name}_s{k}"
            if (target / "workspace.toml").exists():
                paths.append(target)
            else:
                paths += build(out / "generated", [name], seed_offset=1000 * (k + 1), suffix=f"_s{k}", force=True)
        return "generated", paths[:limit or None]
    label, _, folder = spec.partition("=")
    root = Path(folder)
    names = set(json.loads((root / "splits" / "standard.json").read_text())["test"])
    paths = sorted(p for p in root.iterdir() if p.name in names and (p / "workspace.toml").exists())
    return label, paths[:limit or None]


def summarise(label: str, rows: list[dict]) -> str:
    n = len(rows)
    share = lambda key: sum(r[key] for r in rows) / n  # noqa: E731
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    return (f"{label:10s} {n:4d} {share('covered'):9.0%} {share('pick_wins'):10.0%} {share('deployed_wins'):9.0%} "
            f"{mean('candidates'):11.1f} {mean('duplicates_rejected'):9.1f} {mean('screened'):9.1f} "
            f"{mean('evolve_seconds'):8.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", action="append", default=[], help="LABEL=DIR with DIR/splits/standard.json")
    ap.add_argument("--generate", type=int, default=0, help="also N generated example workspaces")
    ap.add_argument("--out", type=Path, default=Path("/tmp/invevolve-pool-coverage"))
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--candidates", type=int)
    ap.add_argument("--limit", type=int, default=0, help="at most N workspaces per suite")
    ap.add_argument("--summary", action="store_true", help="only summarise OUT/*.jsonl")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    overrides = {"search_rounds": args.rounds, "search_candidates_per_round": args.candidates, "sandbox": "none"}
    specs = ([f"generate={args.generate}"] if args.generate else []) + args.suite
    args.out.mkdir(parents=True, exist_ok=True)
    labels = []
    for spec in specs:
        label, paths = workspaces_of(spec, args.out, args.limit)
        labels.append(label)
        results = args.out / f"{label}.jsonl"
        done = {json.loads(l)["workspace"] for l in results.read_text().splitlines()} if results.exists() else set()
        for path in [] if args.summary else paths:
            if path.name in done:
                continue
            row = run_one(path, args.out / "runs" / label, overrides)
            with results.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{label:10s} {row['workspace']:34s} covered={row['covered']!s:5s} pick={row['pick_wins']!s:5s} "
                  f"deployed={row['deployed_wins']!s:5s} candidates={row['candidates']} {row['seconds']:.0f} s", flush=True)
    cfg = with_overrides(EvolveConfig(), **overrides)
    print(f"\nrounds {cfg.search.rounds} x candidates {cfg.search.candidates_per_round}; tuning {cfg.tuning}")
    print(f"{'suite':10s} {'n':>4s} {'coverage':>9s} {'pick wins':>10s} {'deployed':>9s} {'candidates':>11s} "
          f"{'dups rej':>9s} {'screened':>9s} {'evolve s':>8s}")
    for label in labels:
        path = args.out / f"{label}.jsonl"
        if path.exists():
            print(summarise(label, [json.loads(l) for l in path.read_text().splitlines()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
