"""Simulator throughput and baseline tuning time.

    python benchmarks/simulator.py [--days 100] [--seed 0]

Prints (1) policy-periods per second of the vectorised replay against a plain scalar Python
loop on the same policy and data, and their ratio; (2) the wall time to tune all five
baselines on a workspace of ``--days`` days with the default budget (50 trials each), in
memory and with SQLite storage, next to the same tuning driven by a scalar replay loop.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.library import BASELINES, policy_source  # noqa: E402
from inventory.policy import SpaceInfo, compile_policy  # noqa: E402
from inventory.replay import ReplayProblem  # noqa: E402
from inventory.sequence import CostModel, DemandSequence  # noqa: E402
from inventory.simulator import InitialState, simulate_fn  # noqa: E402
from inventory.tuning import TuningConfig, tune  # noqa: E402


def scalar_loop(S: float, r: float, demand: np.ndarray, h: float, p: float, L: int) -> float:
    """The reference: capped base stock written as a plain Python loop, one parameter set."""
    on_hand, pipe, total = 0.0, [0.0] * L, 0.0
    for d in demand:
        if L:
            on_hand += pipe.pop(0)
        q = float(round(min(max(S - on_hand - sum(pipe), 0.0), r)))
        if L:
            pipe.append(q)
        else:
            on_hand += q
        lost = max(d - on_hand, 0.0)
        on_hand = max(on_hand - d, 0.0)
        total += h * on_hand + p * lost
    return total / len(demand)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--days", type=int, default=100, help="replay window length (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the demand and the parameter draws (default 0)")
    args = ap.parse_args(argv)
    if args.days < 2:
        ap.error("--days must be >= 2")
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(args.seed)
    T, L, h, p = args.days, 2, 1.0, 9.0
    demand = rng.poisson(8, T).astype(float)
    seq = DemandSequence([str(np.datetime64("2024-01-01") + i) for i in range(T)], demand, {})
    model = CostModel(h, p, L)
    prog = compile_policy(policy_source("capped_base_stock"))
    print(f"1) replay throughput, capped base stock, {T} days, L = 2")
    print(f"   {'batch n':>8s} {'vectorised pp/s':>16s} {'scalar loop pp/s':>17s} {'ratio':>7s}")
    for n in (1, 10, 100, 1000, 10000):
        S = rng.uniform(10, 40, n)
        r = rng.uniform(2, 20, n)
        reps = max(1, 2000 // n)
        loop_n = min(n, 1000)  # the scalar loop's throughput does not depend on n
        t0 = time.perf_counter()
        for _ in range(reps):
            vec = simulate_fn(prog.order, seq, (), model, {"S": S, "r": r})
        vec_s = (time.perf_counter() - t0) / reps
        t0 = time.perf_counter()
        loop = [scalar_loop(S[i], r[i], demand, h, p, L) for i in range(loop_n)]
        loop_s = time.perf_counter() - t0
        assert np.allclose(vec.mean_cost[:loop_n], loop), "vectorised and scalar loop disagree"
        vec_pps, loop_pps = n * T / vec_s, loop_n * T / loop_s
        print(f"   {n:8d} {vec_pps:16,.0f} {loop_pps:17,.0f} {vec_pps / loop_pps:6.1f}x")

    problem = ReplayProblem(seq, (), model, InitialState(16.0, (8.0, 8.0)))
    info = SpaceInfo.from_demand(demand, L, h, p)
    cfg = TuningConfig()
    programs = {name: compile_policy(policy_source(name), name) for name in BASELINES}

    def tune_all(storage=None) -> float:
        t0 = time.perf_counter()
        for name, prog_ in programs.items():
            tune(lambda b, pr=prog_: problem.mean_costs(pr, b), prog_.space(info), cfg, storage=storage, study_name=name)
        return time.perf_counter() - t0

    tune_all()  # warm imports and caches
    mem = tune_all()
    with tempfile.TemporaryDirectory() as tmp:
        sql = tune_all(f"sqlite:///{tmp}/s.db")
    t0 = time.perf_counter()
    for name in BASELINES:
        pr_ = programs[name]

        def scalar_objective(b, pr_=pr_):
            rows = len(next(iter(b.values())))
            return np.array([simulate_fn(pr_.order, seq, (), model, {k: v[i:i + 1] for k, v in b.items()},
                                         init=problem.init, scalar=True).mean_cost[0] for i in range(rows)])
        tune(scalar_objective, pr_.space(info), cfg, study_name=name)
    scalar_tuning = time.perf_counter() - t0
    print(f"\n2) tuning all five baselines, {T}-day window, 50 trials each (TPE, seed 0)")
    print(f"   vectorised, in-memory storage : {mem:6.2f} s")
    print(f"   vectorised, SQLite storage    : {sql:6.2f} s   (plain sqlite:/// URL)")
    print(f"   scalar replay, in-memory      : {scalar_tuning:6.2f} s   (vectorised is {scalar_tuning / mem:.1f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
