"""A small multi-SKU suite (real workspace writer, briefly tuned baselines) for the Table-1 tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inventory.sequence import DemandSequence
from inventory.simulator import InitialState
from inventory.tuning import TuningConfig
from inventory.workspace import ProblemSpec, WorkspaceSpec
from inventory.workspace_write import write_workspace

DEPARTMENTS = ("GROCERY", "GROCERY", "GROCERY", "PRODUCE", "PRODUCE")


def write_suite(root: Path, *, replay: int = 90, forward: int = 20, lead: int = 2, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    entries = []
    for i, dept in enumerate(DEPARTMENTS):
        days = replay + forward
        mean = 3.0 + 2.0 * i
        weekly = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7)
        demand = rng.negative_binomial(4, 4 / (4 + mean * weekly)).astype(float)
        seq = DemandSequence([str(np.datetime64("2017-01-01") + k) for k in range(days)], demand)
        name = f"sku_{i}"
        spec = WorkspaceSpec(ProblemSpec(name, dept.title(), f"item {i}", 1.0, 9.0, lead, replay, forward),
                             InitialState(2 * mean, (mean,) * lead), ())
        write_workspace(root / name, spec, seq.slice(0, replay), seq.slice(replay, days),
                        tuning=TuningConfig(n_trials=12, batch_size=6, n_startup_trials=6))
        entries.append({"name": name, "department": dept})
    (root / "suite.json").write_text(json.dumps({"suite": "test", "workspaces": entries}), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def orpr_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: 5 SKUs in 2 departments, 90 replay + 20 forward days, L = 2."""
    return write_suite(tmp_path_factory.mktemp("orpr") / "suite")
