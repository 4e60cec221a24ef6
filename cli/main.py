"""`invevolve`: everything besides the search itself.

    invevolve workspace validate DIR      check a workspace, naming the file and field at fault
    invevolve workspace seal DIR          re-write manifest.json after a deliberate edit
    invevolve examples --out workspaces   rebuild the shipped example workspaces
    invevolve score --workspace DIR FILE  trusted score of one policy file (replay + test window)
    invevolve datagen ...                 benchmark suites (synthetic, cj, classical, summary)
    invevolve train sft|grpo|eval ...     train the policy-writing LLM (docs/training.md)
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cli.logs import setup_logging

log = logging.getLogger("invevolve")


def _validate(args: argparse.Namespace) -> int:
    from inventory.workspace import load_workspace
    ws = load_workspace(args.dir)
    print(f"{ws.root}: ok ({ws.spec.problem.replay_days} replay days, forward window "
          f"{'present' if ws.has_forward else 'absent'}, {len(ws.spec.features)} features)")
    return 0


def _seal(args: argparse.Namespace) -> int:
    from inventory.workspace import load_workspace, seal
    seal(args.dir)
    load_workspace(args.dir)
    print(f"{args.dir}: manifest re-written and workspace validated")
    return 0


def _examples(args: argparse.Namespace) -> int:
    from datagen.examples import build
    for path in build(args.out, force=args.force):
        print(path)
    return 0


def _score(args: argparse.Namespace) -> int:
    from evaluation.score import score_policy_file
    print(score_policy_file(args.workspace, args.policy, sandbox=args.sandbox, trials=args.trials, seed=args.seed))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="invevolve", description="invevolve tools (the search itself is `evolve`).")
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ws = sub.add_parser("workspace", help="validate or seal a workspace").add_subparsers(dest="ws_cmd", required=True)
    p = ws.add_parser("validate", help="load and validate a workspace")
    p.add_argument("dir", type=Path)
    p.set_defaults(func=_validate)
    p = ws.add_parser("seal", help="re-write manifest.json after a deliberate edit, then validate")
    p.add_argument("dir", type=Path)
    p.set_defaults(func=_seal)
    p = sub.add_parser("examples", help="build the example workspaces")
    p.add_argument("--out", type=Path, default=Path("workspaces"))
    p.add_argument("--force", action="store_true", help="replace existing example folders")
    p.set_defaults(func=_examples)
    p = sub.add_parser("score", help="trusted score of one policy file on a workspace")
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("policy", type=Path)
    p.add_argument("--sandbox", default="auto", choices=("auto", "bwrap", "docker", "degraded", "none"))
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_score)
    try:
        from datagen.cli import register
    except ImportError as exc:  # datagen is part of the package; this only guards a broken install
        log.debug("datagen unavailable: %s", exc)
    else:
        register(sub)
    from training.cli import register as register_train  # argparse only; torch/TRL load when a command runs
    register_train(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(1 if args.verbose else 0)
    from inventory.workspace import WorkspaceError
    try:
        return int(args.func(args) or 0)
    except (WorkspaceError, FileExistsError, FileNotFoundError) as exc:
        log.error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
