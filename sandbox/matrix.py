"""Containment matrix: every attack class of the corpus on every usable backend.

Run from a checkout::

    python -m sandbox.matrix [--backends bwrap,docker,degraded] [--only a,b] [--details]
                             [--workspace workspaces/retail_promo] [--corpus tests/sandbox/attacks]

The corpus (hostile policies and shell commands, each with a host-side check) lives in the
tests, not in the installed package; ``--corpus`` names its folder (default: the
checkout's ``tests/sandbox/attacks``). Prints one row per attack class and one column per
backend: ``contained``, ``ESCAPED``, or ``n/a`` (backend unavailable, with the reason below
the table). ``host`` rows test the trusted side's own code (the validator, the runtime
tree's verification) and are run once, shown in every column. ``--details`` adds what the
host observed for every cell. Exit status 1 if any isolating backend (bwrap, docker) let an
attack escape, 2 if the corpus cannot be found.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import time
from pathlib import Path
from types import ModuleType

from sandbox.errors import SandboxUnavailable
from sandbox.image import project_root
from sandbox.selection import select_backend


def load_corpus(path: Path) -> ModuleType:
    """Import the corpus package at ``path`` (a folder with ``__init__.py``)."""
    init = path / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"no attack corpus at {path} (expected {init}); pass --corpus")
    root = str(project_root())
    if root not in sys.path:
        sys.path.insert(0, root)  # the corpus imports the project packages
    spec = importlib.util.spec_from_file_location("invevolve_attack_corpus", init, submodule_search_locations=[str(path)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sandbox.matrix", description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", type=Path, default=project_root() / "workspaces" / "retail_promo")
    ap.add_argument("--corpus", type=Path, default=project_root() / "tests" / "sandbox" / "attacks")
    ap.add_argument("--backends", default="bwrap,docker,degraded")
    ap.add_argument("--only", default="", help="comma-separated attack names")
    ap.add_argument("--details", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        corpus = load_corpus(args.corpus)
    except FileNotFoundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    names = [b for b in args.backends.split(",") if b]
    backends, missing = {}, {}
    for name in names:
        try:
            backends[name] = select_backend(name)
        except SandboxUnavailable as exc:
            missing[name] = str(exc)
    attacks = [a for a in corpus.ATTACKS if not args.only or a.name in args.only.split(",")]
    results: dict[tuple[str, str], tuple[bool, str, float]] = {}
    for attack in attacks:
        shared = None
        for name, backend in backends.items():
            if attack.kind == "host" and shared is not None:
                results[(attack.name, name)] = shared
                continue
            t0 = time.monotonic()
            out = corpus.run_attack(attack, backend, args.workspace)
            results[(attack.name, name)] = shared = (out.contained, out.detail, time.monotonic() - t0)
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
            ok = results[(attack.name, n)][0]
            cells.append("contained" if ok else "ESCAPED")
            if not ok and backends[n].isolating:
                escaped_isolating = True
        print(f"{attack.name:<{width}}{attack.kind:<8}" + "".join(f"{c:<12}" for c in cells))
    for n, why in missing.items():
        print(f"\n{n}: n/a - {why}")
    if args.details:
        print("\ndetails:")
        for (a, n), (ok, detail, dt) in results.items():
            print(f"  [{n}] {a} ({dt:.1f}s): {detail}")
    return 1 if escaped_isolating else 0


if __name__ == "__main__":
    sys.exit(main())
