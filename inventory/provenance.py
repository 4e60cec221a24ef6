"""Which code computed a number: the git commit of this checkout, for run.json and result files.

Every layer that writes a result records it (``evolve``'s run.json, a benchmark sweep's result
files, ORPR's Table 1), so this lives on the ground floor that all of them import.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_commit(*, short: bool = True, repo: Path | None = None) -> str | None:
    """The commit of ``repo`` (default: the checkout this code runs from), with ``+dirty``
    when tracked files have changes; None outside a git checkout or without git."""
    cwd = repo or ROOT
    try:
        head = subprocess.run(["git", "rev-parse", *(["--short"] if short else []), "HEAD"], cwd=cwd,
                              capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")
