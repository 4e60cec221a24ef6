"""``invevolve datagen ...``: build the benchmark suites and summarise them.

:func:`register` adds the ``datagen`` subcommand tree (``synthetic``, ``cj``, ``classical``,
``summary``) to an argparse subparsers object; ``python -m datagen`` runs it standalone.
Every handler returns a process exit code: 0 on success, 2 on refused input (non-empty
``--out`` without ``--force``, missing optional extra), and logs the reason.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from datagen.extras import MissingExtraError
from datagen.output import OutputNotEmptyError

log = logging.getLogger(__name__)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _distributions(text: str) -> tuple[str, ...]:
    from datagen.classical import DISTRIBUTIONS

    known = [d.name for d in DISTRIBUTIONS]
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown law {', '.join(unknown) or repr(text)}; choose from {', '.join(known)}")
    return names


def _add_common(p: argparse.ArgumentParser, workers: bool = True) -> None:
    p.add_argument("--out", type=Path, required=True, help="output folder (must be empty unless --force)")
    p.add_argument("--force", action="store_true", help="replace the content of a non-empty --out")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    from inventory.tuning import TuningConfig

    trials = TuningConfig().n_trials  # the tuning rule every candidate is held to
    p.add_argument("--trials", type=_positive_int, default=trials,
                   help=f"trials per baseline on the model-based path; integer grids are exact (default {trials})")
    if workers:
        p.add_argument("--workers", type=_positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Add ``datagen`` with its four subcommands; each sets ``func(args) -> int``."""
    dg = subparsers.add_parser("datagen", help="build benchmark suites (synthetic, cj, classical) and summarise them")
    add_arguments(dg)
    return dg


def add_arguments(dg: argparse.ArgumentParser) -> None:
    """The four subcommands of ``datagen`` on an existing parser (``invevolve datagen``)."""
    sub = dg.add_subparsers(dest="datagen_cmd", required=True)

    p = sub.add_parser("synthetic", help="47 synthetic datasets -> 470 workspaces (100 + 30 days) and the standard split")
    _add_common(p)
    p.add_argument("--datasets", type=str, default=None,
                   help="comma-separated dataset indices 0..46 for a partial build (no split file)")
    p.set_defaults(func=_synthetic)

    p = sub.add_parser("cj", help="Complete Journey real-data workspaces with censored-demand reconstruction")
    _add_common(p)
    p.add_argument("--max-products", type=int, default=None, help="build only the first N screened products")
    p.set_defaults(func=_cj)

    p = sub.add_parser("classical", help="96 stationary scenarios: 6 distributions x L in 1..4 x p in {4,9,19,39}")
    _add_common(p)
    p.add_argument("--resolution", type=float, default=0.005, help="relative cost difference to resolve (default 0.005)")
    p.add_argument("--distributions", type=_distributions, default=None,
                   help="comma-separated laws to build (geometric,poisson,binomial,gamma,halfnormal,uniform; "
                        "default all); a scenario's data do not depend on which others are built")
    p.set_defaults(func=_classical)

    p = sub.add_parser("summary", help="print the paper's statistics for a built suite")
    p.add_argument("suite", type=Path, help="folder written by one of the build commands")
    p.add_argument("--split", choices=("train", "test"), default=None,
                   help="only the workspaces of this list in splits/standard.json")
    p.set_defaults(func=_summary)


def _guard(fn):
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except (OutputNotEmptyError, MissingExtraError) as exc:
            log.error("%s", exc)
            return 2
    return run


@_guard
def _synthetic(args: argparse.Namespace) -> int:
    from datagen.synthetic import SyntheticConfig, build_synthetic
    from inventory.tuning import TuningConfig

    subset = tuple(int(x) for x in args.datasets.split(",")) if args.datasets else None
    cfg = SyntheticConfig(seed=args.seed, tuning=TuningConfig(n_trials=args.trials), datasets=subset)
    t0 = time.perf_counter()
    index = build_synthetic(args.out, cfg, force=args.force, workers=args.workers, progress=not args.no_progress)
    log.info("wrote %d synthetic workspaces to %s in %.1f s", len(index["workspaces"]), args.out, time.perf_counter() - t0)
    return 0


@_guard
def _cj(args: argparse.Namespace) -> int:
    from datagen.cj import CJConfig, build_cj
    from inventory.tuning import TuningConfig

    cfg = CJConfig(seed=args.seed, tuning=TuningConfig(n_trials=args.trials), max_products=args.max_products)
    t0 = time.perf_counter()
    index = build_cj(args.out, cfg, force=args.force, workers=args.workers, progress=not args.no_progress)
    log.info("wrote %d CJ workspaces to %s in %.1f s", len(index["workspaces"]), args.out, time.perf_counter() - t0)
    return 0


@_guard
def _classical(args: argparse.Namespace) -> int:
    from datagen.classical import ClassicalConfig, build_classical, scenarios
    from inventory.tuning import TuningConfig

    cfg = ClassicalConfig(seed=args.seed, tuning=TuningConfig(n_trials=args.trials), resolution=args.resolution)
    only = None if args.distributions is None else [s.index for s in scenarios() if s.dist.name in args.distributions]
    t0 = time.perf_counter()
    index = build_classical(args.out, cfg, force=args.force, workers=args.workers, progress=not args.no_progress,
                            only=only)
    log.info("wrote %d classical workspaces to %s in %.1f s", len(index["workspaces"]), args.out, time.perf_counter() - t0)
    return 0


def _summary(args: argparse.Namespace) -> int:
    from datagen.summary import render_summary, summarise

    try:
        stats = summarise(args.suite, split=args.split)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        log.error("%s", exc)
        return 2
    sys.stdout.write(render_summary(stats))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m datagen <synthetic|cj|classical|summary> ...``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(prog="python -m datagen")
    sub = ap.add_subparsers(dest="cmd", required=True)
    register(sub)
    args = ap.parse_args(["datagen", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))
