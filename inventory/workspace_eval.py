"""The agent's ``evaluation.py``: tune a policy file on the replay window and print its cost.

Runs inside the agent's sandbox on the agent-visible files only. Its output informs the
agent; nothing it prints is trusted.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from inventory.policy import PolicyError, compile_policy
from inventory.tuning import TuningConfig
from inventory.workspace import REPLAY_FILE, TUNED_FILE, _read_sequence, _read_spec
from inventory.replay import ReplayProblem
from inventory.tuning import tune_policy


def main(root: Path, argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="evaluation.py", description="Score a policy on the replay window.")
    ap.add_argument("policy", type=Path, help="policy file (PARAMS or search_space, and order(obs, params))")
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    spec = _read_spec(root)
    replay = _read_sequence(root / REPLAY_FILE, spec.features)
    problem = ReplayProblem(replay, spec.features, spec.model, spec.initial)
    try:
        source = args.policy.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {args.policy}: {exc}")
        return 2
    try:
        res = tune_policy(compile_policy(source, args.policy.stem), problem, TuningConfig(n_trials=args.trials, seed=args.seed))
    except (PolicyError, RuntimeError) as exc:
        print(f"INVALID policy {args.policy}: {exc}")
        return 1
    print(f"policy {args.policy.name}: replay cost/day = {res.value:.4f} with params {json.dumps(res.params)}")
    tuned_path = root / TUNED_FILE
    if tuned_path.exists():
        tuned = json.loads(tuned_path.read_text(encoding="utf-8"))
        best = min(tuned.items(), key=lambda kv: kv[1]["replay_cost"])
        for name, rec in sorted(tuned.items(), key=lambda kv: kv[1]["replay_cost"]):
            print(f"  baseline {name:18s} {rec['replay_cost']:.4f}")
        verdict = "BEATS" if res.value < best[1]["replay_cost"] else "does not beat"
        print(f"{verdict} the best baseline ({best[0]}, {best[1]['replay_cost']:.4f}) on the replay window")
    return 0
