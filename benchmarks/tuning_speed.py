"""Tuning time and quality per policy: the budget rule against today's SQLite path, same run.

    python benchmarks/tuning_speed.py [--quick]

(1) Time per policy: every (workspace, policy) pair below is tuned with
    - "before": 50 TPE trials in batches of 10 with an Optuna ``RDBStorage`` on SQLite
      (WAL, synchronous=NORMAL: the run directory's storage before per-trial writes were
      removed), the path every candidate and baseline took;
    - "before, in memory": the same trials without storage;
    - "now": the budget rule of :mod:`inventory.tuning` (exact grid or Sobol + TPE) in memory.
(2) Quality: the tuned replay cost of each budget relative to the best any budget found
    (the exact grid where it applies; otherwise the best of 50 to 256 trials), mean and max
    excess in percent.
(3) Optuna's ``GridSampler`` on a 16 x 16 grid against the tuner's own enumeration.

Policies: the five baselines and Tilted-PIC on the four example workspaces, and the first
four built-in seeds on each. Timings are wall-clock on a shared machine: read the ratios.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evolve.builtin.render import render  # noqa: E402
from evolve.builtin.search import seeds  # noqa: E402
from inventory.library import BASELINES, policy_source  # noqa: E402
from inventory.policy import compile_policy  # noqa: E402
from inventory.tuning import TuningConfig, tune  # noqa: E402
from inventory.workspace import load_workspace  # noqa: E402

BEFORE = TuningConfig(n_trials=50, batch_size=10, n_startup_trials=10, grid_limit=0)
NOW = TuningConfig()
BUDGETS = {"before (50 TPE)": BEFORE, "now (rule)": NOW,
           "rule, 2x trials": replace(NOW, n_trials=2 * NOW.n_trials),
           "rule, 4x trials": replace(NOW, n_trials=4 * NOW.n_trials, batch_size=2 * NOW.batch_size)}


def rdb(path: Path) -> optuna.storages.RDBStorage:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"creator": connect})


def cases(root: Path, quick: bool) -> list[tuple[str, str, object]]:
    out = []
    for ws_dir in sorted(p for p in root.iterdir() if (p / "workspace.toml").exists()):
        ws = load_workspace(ws_dir)
        problem = ws.replay_problem()
        names = list(BASELINES) + ["tilted_pic"]
        sources = [(n, policy_source(n)) for n in names]
        sources += [(f"builtin-{i}", render(g.canonical(ws.spec.features, ws.spec.problem.lead_time)))
                    for i, g in enumerate(seeds(ws.spec.features, ws.replay.demand)[:2 if quick else 4])]
        for name, src in sources:
            out.append((ws.name, name, (compile_policy(src, name), problem)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspaces", type=Path, default=Path(__file__).resolve().parents[1] / "workspaces")
    ap.add_argument("--quick", action="store_true", help="two built-in seeds per workspace instead of four")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        storage = rdb(Path(tmp) / "studies.sqlite3")
        for i, (ws, name, (prog, problem)) in enumerate(cases(args.workspaces, args.quick)):
            space = prog.space(problem.info)
            fn = lambda b, prog=prog, problem=problem: problem.mean_costs(prog, b)  # noqa: E731
            fn({s.name: np.array([s.low]) for s in space})  # compile/vectorisation check outside the timings
            row = {"ws": ws, "policy": name, "dims": len(space)}
            t0 = time.perf_counter()
            tune(fn, space, BEFORE, storage=storage, study_name=f"{i}-{name}")
            row["t_sqlite"] = time.perf_counter() - t0
            values = {}
            for label, cfg in BUDGETS.items():
                t0 = time.perf_counter()
                res = tune(fn, space, cfg)
                row[f"t:{label}"] = time.perf_counter() - t0
                values[label] = res.value
                if label == "now (rule)":
                    row["method"] = res.method.value
            ref = min(values.values())
            row["excess"] = {k: 100 * (v - ref) / max(abs(ref), 1e-12) for k, v in values.items()}
            rows.append(row)
            print(f"{ws:16s} {name:20s} d={len(space)} {row['method']:5s} sqlite {row['t_sqlite']:6.2f}s  "
                  + "  ".join(f"{k} {row[f't:{k}']:5.2f}s {row['excess'][k]:+6.2f}%" for k in BUDGETS), flush=True)
    t_sql = np.array([r["t_sqlite"] for r in rows])
    print(f"\n{len(rows)} policies; replay windows of the example workspaces (100 days)")
    print(f"{'path':34s} {'s/policy':>9s} {'vs SQLite':>10s} {'mean excess':>12s} {'max excess':>11s}")
    print(f"{'before, SQLite RDBStorage':34s} {t_sql.mean():9.3f} {1.0:9.2f}x {'(same as before)':>24s}")
    for k in BUDGETS:
        t = np.array([r[f"t:{k}"] for r in rows])
        ex = np.array([r["excess"][k] for r in rows])
        print(f"{k + ', in memory':34s} {t.mean():9.3f} {t_sql.mean() / t.mean():9.2f}x {ex.mean():11.3f}% {ex.max():10.3f}%")
    exact = [r for r in rows if r["method"] == "exact"]
    print(f"exact path used for {len(exact)} of {len(rows)} policies (integer spaces of count workspaces)")

    grid = {"S": list(range(16)), "r": list(range(16))}
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0))
    t0 = time.perf_counter()
    study.optimize(lambda tr: float((tr.suggest_int("S", 0, 15) - 7) ** 2 + tr.suggest_int("r", 0, 15)))
    t_grid = time.perf_counter() - t0
    from inventory.policy import parse_space
    t0 = time.perf_counter()
    tune(lambda b: (b["S"] - 7) ** 2 + b["r"], parse_space({"S": (0, 15, "int"), "r": (0, 15, "int")}))
    t_own = time.perf_counter() - t0
    print(f"\nOptuna GridSampler, 16 x 16 grid: {t_grid:.2f} s; the tuner's enumeration: {t_own:.4f} s "
          f"({t_grid / t_own:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
