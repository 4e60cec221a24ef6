"""``invevolve train sft|grpo|eval``: parse flags, load ``configs/train.toml``, call one function each.

    invevolve train sft  --config C --output DIR [--trajectories RUN_OR_JSONL ...]
    invevolve train grpo --config C --output DIR [--resume] [--max-steps N] [--model PATH]
    invevolve train eval --config C --checkpoint DIR [--checkpoint DIR ...] --out DIR
    invevolve train eval --config C --run GRPO_OUTPUT --out DIR [--compute tokens|seconds|steps]

Bad settings, a missing split file, or a held-out workspace about to be trained on end the
command with one line naming the file and field, and exit status 2.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("invevolve.train")


def _config(args: argparse.Namespace) -> Any:
    from training.config import load_train_config

    cfg = load_train_config(args.config)
    return cfg.override(
        model={"path": args.model, "device": args.device},
        data={"suite": getattr(args, "suite", None)},
        grpo={"max_steps": getattr(args, "max_steps", None)},
        sft={"max_steps": getattr(args, "sft_steps", None)},
        eval={"limit": getattr(args, "limit", None), "episodes": getattr(args, "episodes", None)},
    )


def _sft(args: argparse.Namespace) -> int:
    from training.sft import train_sft

    final = train_sft(_config(args), args.output, args.trajectories or None)
    print(f"SFT model: {final}")
    return 0


def _grpo(args: argparse.Namespace) -> int:
    from training.grpo import train_grpo

    final = train_grpo(_config(args), args.output, resume=args.resume)
    print(f"GRPO model: {final}\nmetrics: {Path(args.output) / 'metrics.jsonl'}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from training.config import ConfigError
    from training.evaluate import evaluate_checkpoint, evaluate_run, plot_success

    cfg = _config(args)
    suite = Path(args.suite or cfg.data.suite)
    out = Path(args.out)
    if bool(args.run) == bool(args.checkpoint):
        raise ConfigError("give either --run GRPO_OUTPUT or one or more --checkpoint DIR")
    if args.run:
        results = evaluate_run(args.run, cfg, suite, out, compute_axis=args.compute)
    else:
        results = [evaluate_checkpoint(c, cfg, suite, out / Path(c).name, step=k) for k, c in enumerate(args.checkpoint)]
        plot_success(results, out / "success_vs_compute.png", "steps")
    print(f"{'checkpoint':40s} {'step':>5s} {'episodes':>8s} {'success':>8s} {'valid':>7s} {'cost change':>12s}")
    for r in results:
        change = "n/a" if r.mean_cost_change is None else f"{r.mean_cost_change:+.2%}"
        print(f"{Path(r.checkpoint).name:40s} {r.step:5d} {r.episodes:8d} {r.success_rate:8.3f} "
              f"{r.validity_rate:7.3f} {change:>12s}")
    print(f"plot: {out / 'success_vs_compute.png'}")
    return 0


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from inventory.workspace import WorkspaceError
        from training.config import ConfigError
        from training.data import LeakageError

        try:
            return fn(args)
        except (ConfigError, LeakageError, WorkspaceError) as exc:
            log.error("%s", exc)
            return 2
    return run


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``train`` and its subcommands to the ``invevolve`` parser."""
    train = sub.add_parser("train", help="train the policy-writing LLM (SFT warm start, GRPO) and evaluate checkpoints")
    tsub = train.add_subparsers(dest="train_cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, default=None, help="training config (default: built-in defaults, "
                                                                  "documented in configs/train.toml)")
        p.add_argument("--model", default=None, help="override model.path (directory, .gguf, or smollm2)")
        p.add_argument("--device", default=None, choices=("auto", "cpu", "cuda"))
        p.add_argument("--suite", default=None, help="override data.suite (a suite folder with splits/)")

    p = tsub.add_parser("sft", help="SFT warm start on trajectories that beat the best baseline")
    common(p)
    p.add_argument("--output", "-o", type=Path, required=True)
    p.add_argument("--trajectories", nargs="+", default=None, help="trajectory JSONL files or evolve run directories "
                                                                  "(default: sft.trajectories)")
    p.add_argument("--max-steps", dest="sft_steps", type=int, default=None)
    p.set_defaults(func=_guard(_sft))

    p = tsub.add_parser("grpo", help="GRPO with TRL on the training split (rollouts = sandboxed agent episodes)")
    common(p)
    p.add_argument("--output", "-o", type=Path, required=True)
    p.add_argument("--resume", action="store_true", help="continue from the last complete checkpoint in --output")
    p.add_argument("--max-steps", type=int, default=None)
    p.set_defaults(func=_guard(_grpo))

    p = tsub.add_parser("eval", help="run checkpoints as the agent on the held-out split; plot success vs compute")
    common(p)
    p.add_argument("--checkpoint", nargs="+", default=None, help="model or checkpoint directories")
    p.add_argument("--run", type=Path, default=None, help="a GRPO output directory: evaluate all its checkpoints")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--limit", type=int, default=None, help="at most this many held-out workspaces")
    p.add_argument("--episodes", type=int, default=None, help="episodes per workspace")
    p.add_argument("--compute", default="tokens", choices=("tokens", "seconds", "steps"),
                   help="x axis of the plot (with --run)")
    p.set_defaults(func=_guard(_eval))


def main(argv: list[str] | None = None) -> int:
    """``python -m training.cli ...`` (the same as ``invevolve train ...``)."""
    from cli.logs import setup_logging

    ap = argparse.ArgumentParser(prog="invevolve")
    ap.add_argument("-v", "--verbose", action="store_true")
    register(ap.add_subparsers(dest="cmd", required=True))
    args = ap.parse_args(argv)
    setup_logging(1 if args.verbose else 0)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
