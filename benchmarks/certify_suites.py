"""Certified deployment on whole suites, built-in proposer and default settings.

    nice -n 10 python benchmarks/certify_suites.py --suite synthetic=/work/data/synthetic \\
        --suite cj=/work/data/cj --suite generated=20 --jobs 2 [--limit N] [--json out.json]

A suite is a folder (its ``splits/standard.json`` test split) or ``generated=N`` (N fresh
example workspaces, as ``benchmarks/builtin_proposer.py --generate`` builds them). Every
workspace runs the real loop with ``EvolveConfig()`` defaults (walk-forward gains, the
default method; ``--sandbox none`` only, which gives identical numbers faster), then
every pool member is replayed on the test window. Reported per suite, with
``benchmarks/builtin_proposer.score``: success (test cost strictly below the best baseline
on the test window; the best-on-replay baseline is the reference), mean cost change where
successful, worse than the reference by more than 0.5%, for the certified deployment, the
uncertified best pick on replay, and the uncertified best pick on walk-forward costs.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.builtin_proposer import score  # noqa: E402
from benchmarks._trusted_hosts import TrustedCodeProvider  # noqa: E402
from evaluation.trusted import TrustedEvaluator  # noqa: E402
from evolve.builtin import BuiltinProposer  # noqa: E402
from evolve.config import EvolveConfig, with_overrides  # noqa: E402
from evolve.controller import Controller  # noqa: E402
from evolve.rundir import RunDir  # noqa: E402
from inventory.workspace import load_workspace  # noqa: E402

log = logging.getLogger("bench")
WORSE_TOL = 0.005
BUDGET_S = 3600.0


def run_one(args: tuple[str, str]) -> dict:
    ws_path, run_root = args
    ws = load_workspace(ws_path)
    cfg = with_overrides(EvolveConfig(), sandbox="none")
    # Trusted code on a shared machine: the per-candidate wall-clock budget guards against
    # hostile code, and only measures the machine's load here.
    cfg = replace(cfg, evaluation=replace(cfg.evaluation, candidate_budget_s=BUDGET_S))
    rd = RunDir(Path(run_root) / ws.name)
    if rd.root.exists():
        shutil.rmtree(rd.root)
    rd.create({"workspace": str(ws.root)}, cfg.to_dict())
    ev = TrustedEvaluator(ws, TrustedCodeProvider(), cfg.tuning)
    start = time.perf_counter()
    pool, deployment = Controller(ws, rd, cfg, ev, BuiltinProposer(per_round=cfg.search.candidates_per_round)).run(
        progress=False)
    seconds = time.perf_counter() - start
    fwd = {}
    for m in pool.members.values():
        res = ev.forward(m.source, m.record.name, m.id, m.record.params, vectorised=m.record.vectorised)
        fwd[m.id] = float("inf") if res.error else res.forward_cost
    ev.close()
    members = {m.id: {"replay": m.record.replay_cost, "origin": m.origin,
                      "walk_forward": None if m.oos is None else float(m.oos.costs.mean())}
               for m in pool.members.values()}
    cert = deployment.certificate
    return {"workspace": ws.name, "reference": pool.reference_id, "deployed": deployment.deployed_id,
            "forward": fwd, "members": members, "seconds": seconds,
            "eps": pool.eps.value if pool.eps else 0.0,
            "certificate": None if cert is None else cert.to_dict()}


def worse_than_reference(results: list[dict], pick) -> float:
    return float(np.mean([r["forward"][pick(r)] > r["forward"][r["reference"]] * (1 + WORSE_TOL) for r in results]))


def suite_paths(spec: str, out: Path) -> tuple[str, list[Path]]:
    name, _, where = spec.partition("=")
    if where.isdigit():
        from datagen.examples import EXAMPLES, build
        names = list(EXAMPLES)
        paths = []
        for i in range(int(where)):
            ex, k = names[i % len(names)], i // len(names)
            paths += build(out / "workspaces" / name, [ex], seed_offset=7000 + 1000 * k, suffix=f"_c{k}", force=True)
        return name, paths
    root = Path(where)
    test = set(json.loads((root / "splits" / "standard.json").read_text())["test"])
    return name, sorted(p for p in root.iterdir() if p.name in test and (p / "workspace.toml").exists())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", action="append", default=[], help="NAME=DIR (its test split) or NAME=N (generated)")
    ap.add_argument("--score", type=Path, help="only print the table of an earlier --json file (complete or not)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/invevolve-certify-suites"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from tqdm import tqdm
    if not args.suite and not args.score:
        ap.error("give --suite (to run) or --score FILE (to print)")
    all_results: dict[str, list[dict]] = json.loads(args.score.read_text()) if args.score else {}
    for spec in args.suite:
        name, paths = suite_paths(spec, args.out)
        if args.limit:
            paths = paths[: args.limit]
        jobs = [(str(p), str(args.out / "runs" / name)) for p in paths]
        start = time.perf_counter()
        results = all_results.setdefault(name, [])
        with ProcessPoolExecutor(args.jobs) as pool:
            for res in tqdm(pool.map(run_one, jobs), total=len(jobs), desc=name):
                results.append(res)
                if args.json:   # after every workspace, so that a long suite can be read while it runs
                    args.json.write_text(json.dumps(all_results))
        log.warning("suite %s: %d workspaces in %.0f s", name, len(results), time.perf_counter() - start)
        if args.json:
            args.json.write_text(json.dumps(all_results))
    cfg = EvolveConfig()
    print(f"\ndefaults: method={cfg.certify.method} gains={cfg.certify.gains} delta={cfg.certify.delta} "
          f"rounds={cfg.search.rounds} x {cfg.search.candidates_per_round} candidates, {cfg.tuning.n_trials} trials")
    print(f"{'suite':10s} {'rule':34s} {'n':>3s} {'success':>8s} {'change|success':>15s} {'worse>0.5%':>11s}")
    rules = (("certified (default settings)", lambda r: r["deployed"]),
             ("uncertified: best replay cost", lambda r: min(r["members"], key=lambda k: r["members"][k]["replay"])),
             ("uncertified: best walk-forward", lambda r: min(
                 (k for k in r["members"] if r["members"][k]["walk_forward"] is not None),
                 key=lambda k: r["members"][k]["walk_forward"], default=r["reference"])),
             ("reference (best baseline on replay)", lambda r: r["reference"]),
             ("oracle: best pool member on test", lambda r: min(r["forward"], key=r["forward"].get)))
    for name, results in all_results.items():
        for label, pick in rules:
            s = score(results, pick)
            print(f"{name:10s} {label:34s} {len(results):3d} {s['success']:8.0%} "
                  f"{s['mean_change_when_success']:+15.1%} {worse_than_reference(results, pick):11.0%}")
        moved = sum(r["deployed"] != r["reference"] for r in results)
        print(f"{name:10s} {len(results)} workspaces; a non-reference policy deployed in {moved}; "
              f"mean run time {np.mean([r['seconds'] for r in results]):.0f} s per workspace")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
