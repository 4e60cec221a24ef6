"""Shared fixtures: small workspaces built with the real writer (baselines really tuned)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState
from inventory.workspace import ProblemSpec, WorkspaceSpec
from inventory.workspace_write import write_workspace


def make_sequence(days: int = 130, seed: int = 0) -> tuple[DemandSequence, tuple[FeatureSpec, ...]]:
    rng = np.random.default_rng(seed)
    dates = [str(np.datetime64("2024-01-01") + i) for i in range(days)]
    promo = (rng.random(days) < 0.15).astype(float)
    temp = np.round(15 + 5 * np.sin(np.arange(days) / 9) + rng.normal(0, 1, days), 2)
    demand = rng.poisson(6 * (1 + 1.5 * promo))
    notes = np.array(["" if i % 40 else "supplier note" for i in range(days)], dtype=object)
    specs = (
        FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "planned promotion"),
        FeatureSpec("temp", FeatureKind.NUMERIC, Availability.SAME_DAY, 0, "temperature"),
        FeatureSpec("note", FeatureKind.TEXT, Availability.AFTER_DAY, 0, "event note"),
    )
    return DemandSequence(dates, demand, {"promo": promo, "temp": temp, "note": notes}), specs


def build_workspace(root: Path, *, seed: int = 0, replay: int = 100, forward: int = 30, lead: int = 1) -> Path:
    seq, specs = make_sequence(replay + forward, seed)
    spec = WorkspaceSpec(ProblemSpec("test_ws", "retail", "widget", 1.0, 9.0, lead, replay, forward),
                         InitialState(12.0, (6.0,) * lead), specs)
    write_workspace(root, spec, seq.slice(0, replay), seq.slice(replay, replay + forward) if forward else None)
    return root


@pytest.fixture(scope="session")
def workspace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only shared workspace; copy it before modifying."""
    return build_workspace(tmp_path_factory.mktemp("ws") / "test_ws")
