"""Time the datagen builders and print the suite statistics next to the paper's.

    python benchmarks/datagen_build_time.py --suite synthetic [--workers 2] [--keep DIR]

Builds into a temporary folder (or ``--keep DIR``), reports wall time per suite and the
summary table (``datagen.summary``). The full synthetic suite must take <= 15 minutes on a
2-core machine.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from datagen.summary import render_summary, summarise


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=("synthetic", "cj", "classical"), default="synthetic")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="build here instead of a temporary folder")
    ap.add_argument("--json", type=Path, default=None, help="write {suite, seconds, workspaces} here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / args.suite
        t0 = time.perf_counter()
        if args.suite == "synthetic":
            from datagen.synthetic import build_synthetic
            index = build_synthetic(out, workers=args.workers, force=args.keep is not None)
        elif args.suite == "cj":
            from datagen.cj import build_cj
            index = build_cj(out, workers=args.workers, force=args.keep is not None)
        else:
            from datagen.classical import build_classical
            index = build_classical(out, workers=args.workers, force=args.keep is not None)
        seconds = time.perf_counter() - t0
        sys.stdout.write(f"{args.suite}: {len(index['workspaces'])} workspaces in {seconds:.1f} s\n")
        sys.stdout.write(render_summary(summarise(out)))
        if args.json:
            args.json.write_text(json.dumps({"suite": args.suite, "seconds": seconds,
                                             "workspaces": len(index["workspaces"])}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
