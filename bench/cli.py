"""``invevolve bench exp1|exp2|exp3``: the paper's experiments as resumable sweeps.

    invevolve bench exp1 --suite /data/synthetic [--limit 3] [--workers 2]
    invevolve bench exp2 --suite /data/cj --llm openai:MODEL --base-url URL
    invevolve bench exp3 --suite /data/classical --executor ray --address auto --workers 16

Each writes ``<exp>.md``, ``<exp>.csv`` and ``<exp>.png`` (ours beside the paper's) into
``--out`` (default ``runs/bench/<exp>``). Re-running the same command resumes: finished
workspaces are read back, interrupted runs resumed. Evolve options (``--rounds``,
``--trials``, ``--sandbox``, ``--config``, ``--llm`` ...) mean what they mean for ``evolve``.
"""
from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from evolve.config import SANDBOX_BACKENDS, load_config, override_path, with_overrides
from inventory.errors import ConfigError

log = logging.getLogger(__name__)

HELP = {
    "exp1": "synthetic test split: success and cost reduction by domain, in and out of distribution (Table 2)",
    "exp2": "Complete Journey test split: success by department (Table 3)",
    "exp3": "96 classical scenarios: best baseline, Tilted-PIC/-CBS and evolve vs CBS, optimality gaps (Tables 5-7)",
}


def _common(p: argparse.ArgumentParser, exp: str) -> None:
    p.add_argument("--suite", type=Path, required=True, help="suite folder written by `invevolve datagen`")
    p.add_argument("--out", type=Path, default=None, help=f"sweep directory (default runs/bench/{exp})")
    p.add_argument("--limit", type=int, default=None, help="first N workspaces only (a quick look)")
    ex = p.add_argument_group("where workspaces run")
    ex.add_argument("--executor", choices=("local", "ray"), default="local",
                    help="local process pool (default) or a Ray cluster")
    ex.add_argument("--address", default=None, help="Ray cluster to join (auto, ray://HOST:10001); "
                    "default with --executor ray: a private local instance")
    ex.add_argument("--workers", type=int, default=None, help="workspaces at once (default: one per core)")
    ev = p.add_argument_group("evolve settings (as for `evolve`)")
    ev.add_argument("--config", type=Path, help="evolve TOML config")
    ev.add_argument("--rounds", type=int, help="search.rounds")
    ev.add_argument("--candidates", type=int, help="search.candidates_per_round")
    ev.add_argument("--trials", type=int, help="tuning.n_trials")
    ev.add_argument("--seed", type=int, help="search.seed")
    ev.add_argument("--sandbox", choices=SANDBOX_BACKENDS, help="sandbox.backend")
    ag = p.add_argument_group("LLM proposer (default: the built-in proposer)")
    ag.add_argument("--llm", help="openai:MODEL | vllm:PATH | hf:PATH_OR_GGUF")
    ag.add_argument("--base-url", help="OpenAI-compatible endpoint for --llm openai:")
    ag.add_argument("--agent-config", type=Path, help="agent TOML config")
    ag.add_argument("--budget", type=int, help="agent tool-call budget K per episode")
    ag.add_argument("--concurrency", type=int, help="agent episodes run at once")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    if exp == "exp3":
        p.add_argument("--tie-tolerance", type=float, default=0.005,
                       help="win/loss band against CBS as a relative cost difference (default 0.005)")
        p.add_argument("--no-evolve", action="store_true",
                       help="skip the evolve runs: baselines, Tilted-CBS/-PIC and the exact DP only (minutes)")


def add_arguments(bench: argparse.ArgumentParser) -> None:
    """The subcommands of ``bench`` on an existing parser (``invevolve bench``)."""
    sub = bench.add_subparsers(dest="bench_cmd", required=True)
    for exp, text in HELP.items():
        p = sub.add_parser(exp, help=text, description=text)
        _common(p, exp)
        p.set_defaults(func=run_command)
    try:
        from bench.orpr_cmd import add_orpr
    except ImportError as exc:  # the ORPR experiment is not part of this build
        log.debug("bench orpr unavailable: %s", exc)
    else:
        add_orpr(sub)


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Add ``bench`` to ``invevolve``'s subcommands."""
    p = subparsers.add_parser("bench", help="reproduce the paper's experiments (exp1, exp2, exp3)")
    add_arguments(p)
    return p


def options_from_args(args: argparse.Namespace):
    """Validated :class:`~bench.experiments.BenchOptions` (ConfigError names the flag)."""
    from bench.experiments import BenchOptions, Experiment, ExecutorKind, ExecutorSpec
    from bench.settings import BenchSettings, ProposerSpec
    from evolve.executor import default_workers

    if not args.llm and any(v is not None for v in (args.base_url, args.agent_config, args.budget, args.concurrency)):
        raise ConfigError("--base-url, --agent-config, --budget and --concurrency configure the LLM agent: add --llm")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    flags = {"search_rounds": ("--rounds", args.rounds), "search_candidates_per_round": ("--candidates", args.candidates),
             "tuning_n_trials": ("--trials", args.trials), "search_seed": ("--seed", args.seed),
             "sandbox": ("--sandbox", args.sandbox)}
    config = with_overrides(load_config(args.config), where="bench",
                            labels={override_path(k): flag for k, (flag, v) in flags.items() if v is not None},
                            **{k: v for k, (_, v) in flags.items()})
    # A sweep runs workspaces in parallel; inside each, candidates are evaluated one by one.
    config = with_overrides(config, where="bench", search_workers=1)
    proposer = ProposerSpec(args.llm, args.base_url, str(args.agent_config) if args.agent_config else None,
                            args.budget, args.concurrency)
    executor = ExecutorSpec(ExecutorKind(args.executor), args.workers or default_workers(), args.address)
    exp = Experiment(args.bench_cmd)
    return BenchOptions(exp, args.suite, args.out or Path("runs") / "bench" / exp.value,
                        BenchSettings(config, proposer, not getattr(args, "no_evolve", False)), executor, args.limit,
                        getattr(args, "tie_tolerance", 0.005), not args.no_progress,
                        "invevolve bench " + " ".join(shlex.quote(a) for a in sys.argv[2:]))


def run_command(args: argparse.Namespace) -> int:
    from bench.experiments import run_experiment

    files, errors = run_experiment(options_from_args(args))
    sys.stdout.write(files.markdown.read_text(encoding="utf-8"))
    sys.stdout.write(f"\nwrote {files.markdown}, {files.csv}, {files.png}\n")
    if errors:
        log.error("%d workspace(s) failed (listed in %s); re-run the command to retry them", len(errors),
                  files.markdown)
    return 0
