"""A small finished evolve run (built-in proposer, in-process) shared by the audit tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from evolve.builtin import BuiltinProposer
from evolve.config import EvolveConfig, with_overrides
from evolve.run import execute


@pytest.fixture(scope="session")
def run_dir(workspace_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only shared run directory; copy it before changing anything in it."""
    cfg = with_overrides(EvolveConfig(), search_rounds=2, search_candidates_per_round=2, tuning_n_trials=10,
                         sandbox="none")
    out = execute(workspace_dir, cfg, lambda c, ws, rd: BuiltinProposer(per_round=c.search.candidates_per_round),
                  run_dir=tmp_path_factory.mktemp("run") / "run", progress=False)
    return out.run_dir
