"""``invevolve bench orpr``: ORPR's Table 1 on a Complete Journey portfolio.

A thin command over :func:`orpr.report.bench_orpr` (the experiment and its tables are the
``orpr`` package's; see ``docs/orpr.md``). It takes the experiment's own options only: the
OR label, PTO and BM rows involve no proposer and no evolve run, so ``--llm``, the evolve
budget and the executor of the other experiments would change nothing here.
"""
from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

log = logging.getLogger(__name__)

HELP = "ORPR Table 1 (OR label vs PTO_normal, PTO_gamma, BM) on a Complete Journey portfolio"


def add_orpr(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from orpr.portfolio import CategoryLevel

    p = sub.add_parser("orpr", help=HELP, description=HELP)
    p.add_argument("--suite", type=Path, required=True, help="suite folder written by `invevolve datagen cj`")
    p.add_argument("--out", type=Path, default=Path("runs") / "bench" / "orpr", help="output folder")
    p.add_argument("--limit", type=int, default=None, help="first N workspaces only (a quick look)")
    p.add_argument("--review-period", type=int, default=1, help="review period R in days (default 1)")
    p.add_argument("--mean-window", type=int, default=28, help="recent-mean / estimation window in days (default 28)")
    p.add_argument("--target-turnover", type=float, default=None,
                   help="calibrate alpha to this many turnover days (default: each category's incumbent turnover)")
    p.add_argument("--level", choices=[c.value for c in CategoryLevel], default="department",
                   help="category level of the per-category MILP (default department)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run_orpr)


def run_orpr(args: argparse.Namespace) -> int:
    from inventory.errors import ConfigError
    from orpr.experiment import Table1Options
    from orpr.portfolio import CategoryLevel, PortfolioError
    from orpr.report import bench_orpr

    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {args.limit}")
    try:
        opts = Table1Options(review_period=args.review_period, mean_window=args.mean_window,
                             target_turnover=args.target_turnover, level=CategoryLevel(args.level),
                             progress=not args.no_progress)
    except ValueError as exc:
        raise ConfigError(f"bench orpr: {exc}") from exc
    command = "invevolve bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        result, files = bench_orpr(args.out, opts, suite=args.suite, limit=args.limit, command=command)
    except PortfolioError as exc:
        raise ConfigError(str(exc)) from exc
    sys.stdout.write(files.markdown.read_text(encoding="utf-8"))
    sys.stdout.write(f"\nwrote {files.markdown}, {files.csv}, {files.png}, {files.categories} "
                     f"({result.seconds:.1f} s)\n")
    return 0
