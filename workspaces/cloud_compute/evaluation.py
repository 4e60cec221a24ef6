"""Score a policy file on this workspace's replay window.

Usage:  python evaluation.py my_policy.py [--trials 50] [--seed 0]

The policy's parameters are tuned with Optuna (TPE, same budget as the baselines) on
data/historical_sequence.json, and its average cost per day is printed next to the
pre-tuned baselines. This is a development aid: the score that decides anything is
recomputed by the trusted evaluator outside this workspace.
"""
import sys
from pathlib import Path

from inventory.workspace_eval import main

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
