"""Shared fixtures: a small synthetic build (2 datasets x 2 slices, 10 tuning trials)."""
from __future__ import annotations

from pathlib import Path

import pytest

from datagen.slicing import SliceConfig
from datagen.synthetic import SyntheticConfig, build_synthetic
from inventory.tuning import TuningConfig

SMALL = SyntheticConfig(seed=7, slices=SliceConfig(n_slices=2), tuning=TuningConfig(n_trials=10), datasets=(4, 14))


@pytest.fixture(scope="session")
def small_config() -> SyntheticConfig:
    return SMALL


@pytest.fixture(scope="session")
def small_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("syn") / "suite"
    build_synthetic(out, SMALL, workers=1, progress=False)
    return out
