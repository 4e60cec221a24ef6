"""Containment matrix: every attack class of :mod:`sandbox.attacks` on every usable backend.

Run: ``python -m sandbox.matrix [--workspace workspaces/retail_promo] [--backends bwrap,docker,degraded]``

Prints one row per attack class and one column per backend: ``contained``, ``ESCAPED``, or
``n/a`` (backend unavailable, with the reason below the table). ``--details`` adds what
the host observed for every cell. Exit status 1 if any isolating backend (bwrap, docker)
let an attack escape.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sandbox.attacks import ATTACKS, run_attack
from sandbox.backends import SandboxUnavailable, select_backend
from sandbox.image import project_root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sandbox.matrix", description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", type=Path, default=project_root() / "workspaces" / "retail_promo")
    ap.add_argument("--backends", default="bwrap,docker,degraded")
    ap.add_argument("--only", default="", help="comma-separated attack names")
    ap.add_argument("--details", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names = [b for b in args.backends.split(",") if b]
    backends, missing = {}, {}
    for name in names:
        try:
            backends[name] = select_backend(name)
        except SandboxUnavailable as exc:
            missing[name] = str(exc)
    attacks = [a for a in ATTACKS if not args.only or a.name in args.only.split(",")]
    results: dict[tuple[str, str], tuple[bool, str]] = {}
    for attack in attacks:
        for name, backend in backends.items():
            out = run_attack(attack, backend, args.workspace)
            results[(attack.name, name)] = (out.contained, out.detail)
    width = max(len(a.name) for a in attacks) + 2
    print("\ncontainment matrix (attack class x backend)\n")
    print(f"{'attack':<{width}}{'kind':<8}" + "".join(f"{n:<12}" for n in names))
    print("-" * (width + 8 + 12 * len(names)))
    escaped_isolating = False
    for attack in attacks:
        cells = []
        for n in names:
            if n not in backends:
                cells.append("n/a")
                continue
            ok, _ = results[(attack.name, n)]
            cells.append("contained" if ok else "ESCAPED")
            if not ok and backends[n].isolating:
                escaped_isolating = True
        print(f"{attack.name:<{width}}{attack.kind:<8}" + "".join(f"{c:<12}" for c in cells))
    for n, why in missing.items():
        print(f"\n{n}: n/a - {why}")
    if args.details:
        print("\ndetails:")
        for (a, n), (ok, detail) in results.items():
            print(f"  [{n}] {a}: {detail}")
    return 1 if escaped_isolating else 0


if __name__ == "__main__":
    sys.exit(main())
