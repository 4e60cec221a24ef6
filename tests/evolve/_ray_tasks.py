"""Module-level task functions for the Ray executor tests (Ray workers import them by name)."""
from __future__ import annotations

import os
import time
from pathlib import Path


def square_or_hang(task: tuple[int, str]) -> int:
    """Square ``x``; the first attempt at ``x == 3`` records its pid and hangs until killed.

    Every attempt appends ``x pid`` to ``DIR/attempts.log``, so a test can count attempts.
    """
    x, folder = task
    root = Path(folder)
    with (root / "attempts.log").open("a") as fh:
        fh.write(f"{x} {os.getpid()}\n")
    marker = root / "hang.pid"
    if x == 3 and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)
    return x * x


def fail(x: int) -> int:
    raise ValueError(f"task {x} is bad input")


def attack_on_this_node(task: tuple[str, str, str]) -> tuple[bool, str, str]:
    """Run one attack of ``sandbox.attacks`` with the sandbox this worker selects; (contained, detail, backend)."""
    name, backend, workspace = task
    from tests.sandbox.attacks import ATTACKS, run_attack
    from sandbox.backends import select_backend

    chosen = select_backend(backend)
    attack = next(a for a in ATTACKS if a.name == name)
    out = run_attack(attack, chosen, Path(workspace))
    return out.contained, out.detail, chosen.describe()


def sandboxed_env_on_this_node(task: tuple[str, str]) -> tuple[list[str], list[str]]:
    """(RAY_* variables of this Ray worker, RAY_* variables a sandboxed shell on it sees)."""
    backend, workspace = task
    from sandbox import open_shell

    mine = sorted(k for k in os.environ if k.startswith("RAY_"))
    with open_shell(Path(workspace), backend) as shell:
        out = shell.run("env").output
    seen = sorted(line.split("=", 1)[0] for line in out.splitlines() if line.startswith("RAY_"))
    return mine, seen
