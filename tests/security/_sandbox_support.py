"""Helpers for the sandbox side of the security regression tests (issue #8)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState
from tests.sandbox._support import WORKSPACE, backend_or_skip

# bwrap and docker always; degraded where this machine can run it (opt-in backend).
ALL_BACKENDS = [pytest.param("bwrap", id="bwrap"), pytest.param("docker", id="docker", marks=pytest.mark.docker),
                pytest.param("degraded", id="degraded")]

BENIGN = '''
import numpy as np
PARAMS = {"S": (0.0, 40.0)}

def order(obs, params):
    return np.maximum(params["S"] - obs.position, 0.0)
'''


def small_problem(days: int = 30) -> ReplayProblem:
    rng = np.random.default_rng(7)
    dates = [f"2024-02-{1 + i % 28:02d}" for i in range(days)]
    seq = DemandSequence(dates, rng.poisson(5, days).astype(float), {})
    return ReplayProblem(seq, (), CostModel(1.0, 9.0, 1), InitialState(8.0, (4.0,)))


def private_workspace(tmp_path: Path, hidden_mode: int | None = None) -> Path:
    """A copy of the example workspace; ``hidden_mode`` chmods its hidden/ (and files) when given."""
    if not (WORKSPACE / "hidden" / "forward_window.json").exists():
        pytest.skip(f"example workspace {WORKSPACE} is missing")
    ws = tmp_path / "ws"
    shutil.copytree(WORKSPACE, ws)
    os.chmod(tmp_path, 0o755)
    if hidden_mode is not None:
        for p in (ws / "hidden").rglob("*"):
            os.chmod(p, hidden_mode & 0o666)
        os.chmod(ws / "hidden", hidden_mode)
    return ws


@pytest.fixture
def public_tmp():
    """A scratch folder every uid can traverse (pytest's own tmp dirs are private to root, which
    would hide a readable hidden/ from uid 65534 and make the degraded checks pass trivially)."""
    d = Path(tempfile.mkdtemp(prefix="invevolve-sec-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    from sandbox.fstree import remove_tree
    remove_tree(d)


def backend(name: str):
    return backend_or_skip(name)
