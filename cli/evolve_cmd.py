"""`evolve`: find and certify a policy for one workspace.

    evolve --workspace workspaces/retail_promo            # built-in proposer, offline
    evolve --workspace X --llm openai:MODEL --base-url URL
    evolve --resume runs/retail_promo-20261123-101500     # after an interruption
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cli.logs import setup_logging
from evolve.config import ConfigError, EvolveConfig, SANDBOX_BACKENDS, load_config, with_overrides
from evolve.rundir import RunDir, RunDirError
from inventory.workspace import Workspace, WorkspaceError

log = logging.getLogger("evolve")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="evolve", description="Evolve and certify a white-box inventory policy.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--workspace", type=Path, help="workspace folder")
    src.add_argument("--resume", type=Path, metavar="RUN_DIR", help="resume an interrupted run")
    ap.add_argument("--config", type=Path, help="TOML config (default: configs/evolve.toml settings)")
    ap.add_argument("--run-dir", type=Path, help="where to write the run (default runs/<workspace>-<time>)")
    ap.add_argument("--rounds", type=int, help="search.rounds")
    ap.add_argument("--candidates", type=int, dest="search_candidates_per_round", help="search.candidates_per_round")
    ap.add_argument("--seed", type=int, help="search.seed")
    ap.add_argument("--trials", type=int, help="tuning.n_trials")
    ap.add_argument("--workers", type=int, dest="search_workers",
                    help="search.workers: candidates evaluated at once (default: one per core; 1 = serial)")
    ap.add_argument("--method", choices=("blockwise_t", "hoeffding"), help="certify.method")
    ap.add_argument("--delta", type=float, help="certify.delta")
    ap.add_argument("--eps", type=float, help="certify.eps")
    ap.add_argument("--sandbox", choices=SANDBOX_BACKENDS, help="sandbox.backend")
    ap.add_argument("--llm", help="LLM proposer: openai:MODEL | vllm:PATH | hf:PATH_OR_GGUF (default: built-in)")
    ap.add_argument("--base-url", help="OpenAI-compatible endpoint for --llm openai:")
    ap.add_argument("--agent-config", type=Path, help="agent TOML config (budget, concurrency, ...)")
    ap.add_argument("--budget", type=int, help="agent tool-call budget K per episode")
    ap.add_argument("--concurrency", type=int, help="agent episodes run at once")
    ap.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress bars")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


def proposer_factory(args: argparse.Namespace):
    def make(config: EvolveConfig, ws: Workspace, rd: RunDir):
        if args.llm:
            from agent import make_proposer_from_cli
            return make_proposer_from_cli(args.llm, args.base_url, args.agent_config, config, rd.root,
                                          budget=args.budget, concurrency=args.concurrency)
        from evolve.builtin import BuiltinProposer
        return BuiltinProposer(per_round=config.search.candidates_per_round)
    return make


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.llm and any(v is not None for v in (args.base_url, args.agent_config, args.budget, args.concurrency)):
        parser.error("--base-url, --agent-config, --budget and --concurrency configure the LLM agent: add --llm")
    setup_logging(-1 if args.quiet else 1 if args.verbose else 0)
    from evolve.run import execute
    try:
        config = load_config(args.config)
        config = with_overrides(
            config, search_rounds=args.rounds, search_candidates_per_round=args.search_candidates_per_round,
            search_seed=args.seed, search_workers=args.search_workers, tuning_n_trials=args.trials, certify_method=args.method,
            certify_delta=args.delta, certify_eps=args.eps, sandbox=args.sandbox,
        )
        outcome = execute(args.workspace, config, proposer_factory(args), run_dir=args.run_dir,
                          resume=args.resume, progress=not args.quiet)
    except (WorkspaceError, ConfigError, FileExistsError, FileNotFoundError, RunDirError) as exc:
        log.error("%s", exc)
        return 2
    sys.stdout.write(outcome.report)
    sys.stdout.write(f"\nrun directory: {outcome.run_dir}  ({outcome.seconds:.1f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
