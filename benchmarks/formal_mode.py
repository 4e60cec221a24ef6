"""Formal simulation mode against walk-forward gains, on workspaces whose demand law is known.

``K`` workspaces are drawn from declared i.i.d. laws (Poisson, geometric, negative binomial;
lead time and penalty varied) and ``P`` from a promotion-driven law declared as the
workspace's own ``sample()`` (promotions known 7 days ahead lift demand 2.5x: a setting where
adaptive policies beat base stock), each with a short replay window and a long forward
window that stands in for the truth. ``evolve`` runs on each twice with the built-in proposer and the
default settings, once with ``gains = walk_forward`` (the default) and once with ``gains =
replications`` (the formal mode, drawing from the workspace's ``[demand_model]``). Printed
per mode: success (deployed forward cost strictly below the best-on-replay baseline's),
worse than that reference by more than 0.5%, how many runs deployed a candidate, the mean
forward change where successful, and the wall time (ratio against walk-forward, same run).

    python3 benchmarks/formal_mode.py --k 8 --promo 6 --out /tmp/formal
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evolve.builtin import BuiltinProposer  # noqa: E402
from evolve.config import EvolveConfig, with_overrides  # noqa: E402
from evolve.run import execute  # noqa: E402
from inventory.demand_model import parse_demand_model  # noqa: E402
from inventory.sequence import DemandSequence  # noqa: E402
from inventory.simulator import InitialState  # noqa: E402
from inventory.workspace import ProblemSpec, WorkspaceSpec  # noqa: E402
from inventory.workspace_write import write_workspace  # noqa: E402

LAWS = ({"law": "poisson", "mean": 5.0}, {"law": "geometric", "mean": 5.0},
        {"law": "negative_binomial", "mean": 8.0, "shape": 2.0})
LEADS, PENALTIES = (1, 2, 3), (4.0, 9.0, 19.0)
PROMO_SAMPLER = '''"""Promotion-driven demand: promotions (15% of days, known 7 days ahead) lift the mean 2.5x."""
import numpy as np


def sample(rng, history, days):
    promo = (rng.random(days) < 0.15).astype(float)
    mean = 5.0 * (1.0 + 1.5 * promo)
    return {"demand": rng.poisson(rng.gamma(4.0, mean / 4.0)), "features": {"promo": promo}}
'''


def build_promo(root: Path, k: int, replay: int, forward: int) -> list[Path]:
    """Workspaces whose [demand_model] is PROMO_SAMPLER; their windows are drawn by it."""
    from inventory.sequence import Availability, FeatureKind, FeatureSpec
    from inventory.workspace import seal

    namespace: dict = {}
    exec(compile(PROMO_SAMPLER, "demand_model.py", "exec"), namespace)  # the same code the workspace ships
    out = []
    for i in range(k):
        lead, p = LEADS[i % 3], PENALTIES[(i + i // 3) % 3]
        name = f"promo_L{lead}_p{p:g}_{i}"
        if not (root / name / "manifest.json").exists():
            drawn = namespace["sample"](np.random.default_rng([12, i]), None, replay + forward)
            seq = DemandSequence([str(np.datetime64("2020-01-01") + j) for j in range(replay + forward)],
                                 np.asarray(drawn["demand"], float), {"promo": drawn["features"]["promo"]})
            feat = FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "planned promotion")
            spec = WorkspaceSpec(ProblemSpec(name, "known law", "promotion-driven", 1.0, p, lead, replay, forward),
                                 InitialState(7.0 * (lead + 1), (7.0,) * lead), (feat,))
            write_workspace(root / name, spec, seq.slice(0, replay), seq.slice(replay, replay + forward),
                            overwrite=True)
            (root / name / "demand_model.py").write_text(PROMO_SAMPLER)
            with open(root / name / "workspace.toml", "a") as fh:
                fh.write('\n[demand_model]\nlaw = "python"\nfile = "demand_model.py"\n')
            seal(root / name)
        out.append(root / name)
    return out


def build(root: Path, k: int, replay: int, forward: int) -> list[Path]:
    out = []
    for i in range(k):
        law, lead, p = LAWS[i % 3], LEADS[(i // 3) % 3], PENALTIES[(i + i // 3) % 3]
        name = f"{law['law']}_L{lead}_p{p:g}_{i}"
        if (root / name / "manifest.json").exists():
            out.append(root / name)
            continue
        model = parse_demand_model(law)
        d = model.draw(np.random.default_rng([11, i]), replay + forward)
        seq = DemandSequence([str(np.datetime64("2020-01-01") + j) for j in range(replay + forward)], d, {})
        mu = float(d[:replay].mean())
        spec = WorkspaceSpec(ProblemSpec(name, "known law", law["law"], 1.0, p, lead, replay, forward),
                             InitialState(mu * (lead + 1), (mu,) * lead), (), model)
        write_workspace(root / name, spec, seq.slice(0, replay), seq.slice(replay, replay + forward), overwrite=True)
        out.append(root / name)
    return out


def run_one(ws: Path, run_dir: Path, gains: str, reps: int, days: int) -> dict:
    if (run_dir / "deployment.json").exists():
        dep = json.loads((run_dir / "deployment.json").read_text())
        seconds = json.loads((run_dir / "bench_seconds.json").read_text())["seconds"]
    else:
        cfg = with_overrides(EvolveConfig(), certify_gains=gains, certify_replications=reps,
                             certify_replication_days=days)
        t0 = time.perf_counter()
        execute(ws, cfg, lambda c, w, r: BuiltinProposer(per_round=c.search.candidates_per_round),
                run_dir=run_dir, progress=False)
        seconds = time.perf_counter() - t0
        (run_dir / "bench_seconds.json").write_text(json.dumps({"seconds": seconds}))
        dep = json.loads((run_dir / "deployment.json").read_text())
    fwd = dep["forward"]
    ref_name = dep["reference_id"].removeprefix("baseline-")
    ref = fwd["baselines"][ref_name]
    change = (fwd["deployed"] - ref) / ref
    return {"workspace": ws.name, "gains": gains, "deployed": dep["deployed_id"],
            "candidate": dep["deployed_id"] != dep["reference_id"], "success": fwd["deployed"] < ref - 1e-12,
            "worse": change > 0.005, "change": change, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=8, help="workspaces with an i.i.d. law")
    ap.add_argument("--promo", type=int, default=6, help="workspaces with the promotion-driven sampler")
    ap.add_argument("--replay", type=int, default=200, help="replay days per workspace")
    ap.add_argument("--forward", type=int, default=2000, help="forward (truth) days per workspace")
    ap.add_argument("--reps", type=int, default=20, help="certify.replications of the formal mode")
    ap.add_argument("--days", type=int, default=100, help="certify.replication_days of the formal mode")
    ap.add_argument("--out", type=Path, required=True, help="workspaces, runs and formal_mode.csv (resumable)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    workspaces = (build(args.out / "workspaces", args.k, args.replay, args.forward)
                  + build_promo(args.out / "workspaces", args.promo, args.replay, args.forward))
    rows = []
    for ws in workspaces:
        for gains in ("walk_forward", "replications"):
            row = run_one(ws, args.out / "runs" / f"{ws.name}-{gains}", gains, args.reps, args.days)
            rows.append(row)
            print(f"{row['workspace']:<28} {gains:<13} deployed {row['deployed']:<32} change {100 * row['change']:+6.2f}% "
                  f"{row['seconds']:6.1f} s", flush=True)
    with open(args.out / "formal_mode.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for label, keep in (("all", lambda r: True), ("i.i.d.", lambda r: not r["workspace"].startswith("promo")),
                        ("promotion", lambda r: r["workspace"].startswith("promo"))):
        summary(label, [r for r in rows if keep(r)])
    return 0


def summary(label: str, rows: list[dict]) -> None:
    if not rows:
        return
    base_time = sum(r["seconds"] for r in rows if r["gains"] == "walk_forward")
    print(f"\n[{label}]\n{'gains':<13} {'success':>8} {'worse>0.5%':>11} {'deployed cand.':>15} {'mean change (succ.)':>20} "
          f"{'wall s':>8} {'ratio':>6}")
    for gains in ("walk_forward", "replications"):
        sub = [r for r in rows if r["gains"] == gains]
        succ = [r["change"] for r in sub if r["success"]]
        t = sum(r["seconds"] for r in sub)
        print(f"{gains:<13} {sum(r['success'] for r in sub):>4}/{len(sub):<3} {sum(r['worse'] for r in sub):>7}/{len(sub):<3}"
              f" {sum(r['candidate'] for r in sub):>11}/{len(sub):<3} "
              f"{(100 * np.mean(succ)) if succ else float('nan'):>19.2f}% {t:>8.0f} {t / base_time:>6.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
