"""`invevolve`: everything besides the search itself.

    invevolve workspace validate DIR      check a workspace, naming the file and field at fault
    invevolve workspace seal DIR          validate, then re-write manifest.json after a deliberate edit
    invevolve examples --out workspaces   rebuild the shipped example workspaces
    invevolve score --workspace DIR FILE  trusted score of one policy file (replay + test window)
    invevolve audit RUN_DIR [--candidate ID] | --workspace DIR FILE   audit before deployment
    invevolve datagen ...                 benchmark suites (synthetic, cj, classical, summary)
    invevolve train sft|grpo|eval ...     train the policy-writing LLM (docs/training.md)
    invevolve bench exp1|exp2|exp3|orpr   the papers' experiments on those suites (docs/bench.md)

Subcommands are rows of :data:`COMMANDS` (a name, a help line and a function that adds the
arguments and sets ``func(args) -> int``), or modules in :data:`REGISTERED` whose
``register(subparsers)`` adds their own. A new subcommand is one row or one module name.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cli.errors import EXIT_CODES_HELP, ExitCode, guarded
from cli.logs import setup_logging


def _validate(args: argparse.Namespace) -> int:
    from inventory.workspace import load_workspace
    ws = load_workspace(args.dir)
    print(f"{ws.root}: ok ({ws.spec.problem.replay_days} replay days, forward window "
          f"{'present' if ws.has_forward else 'absent'}, {len(ws.spec.features)} features)")
    return ExitCode.OK


def _seal(args: argparse.Namespace) -> int:
    from inventory.workspace import seal
    seal(args.dir)  # validates every file first; a failed seal leaves manifest.json as it was
    print(f"{args.dir}: workspace validated and manifest.json re-written")
    return ExitCode.OK


def _examples(args: argparse.Namespace) -> int:
    from datagen.examples import build
    for path in build(args.out, force=args.force):
        print(path)
    return ExitCode.OK


def _score(args: argparse.Namespace) -> int:
    from evaluation.score import score_policy_file
    if args.trials < 1:
        from inventory.errors import ConfigError
        raise ConfigError(f"--trials must be >= 1, got {args.trials}")
    result = score_policy_file(args.workspace, args.policy, sandbox=args.sandbox, trials=args.trials, seed=args.seed,
                               tuned=args.tuned)
    sys.stdout.write(result.text)
    return ExitCode.OK if result.accepted else ExitCode.POLICY_REJECTED


def _workspace_args(p: argparse.ArgumentParser) -> None:
    ws = p.add_subparsers(dest="ws_cmd", required=True)
    v = ws.add_parser("validate", help="load and validate a workspace")
    v.add_argument("dir", type=Path)
    v.set_defaults(func=_validate)
    s = ws.add_parser("seal", help="validate, then re-write manifest.json after a deliberate edit")
    s.add_argument("dir", type=Path)
    s.set_defaults(func=_seal)


def _examples_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("workspaces"))
    p.add_argument("--force", action="store_true", help="replace existing example folders")
    p.set_defaults(func=_examples)


def _score_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("policy", type=Path)
    p.add_argument("--sandbox", default="auto", choices=("auto", "bwrap", "docker", "degraded", "none"))
    p.add_argument("--trials", type=int, default=50, help="Optuna trials (default 50)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tuned", action="store_true",
                   help="use the file's TUNED_PARAMS (a run's deployed_policy.py) instead of tuning")
    p.set_defaults(func=_score)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]


COMMANDS: tuple[Command, ...] = (
    Command("workspace", "validate or seal a workspace", _workspace_args),
    Command("examples", "build the example workspaces", _examples_args),
    Command("score", "trusted score of one policy file on a workspace "
                     "(exit 4 when the policy is rejected or fails)", _score_args),
)
# Modules with a ``register(subparsers)`` that adds their subcommand (imported when the parser is built).
REGISTERED: tuple[str, ...] = ("audit.cli", "datagen.cli", "training.cli",  # training.cli: argparse only; torch/TRL load when a command runs
                                "bench.cli")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="invevolve", description="invevolve tools (the search itself is `evolve`).",
                                 epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd in COMMANDS:
        cmd.add_arguments(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    for module in REGISTERED:
        importlib.import_module(module).register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(1 if args.verbose else 0)
    return guarded("invevolve", lambda: args.func(args), verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
