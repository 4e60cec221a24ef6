"""A three-workspace synthetic-style suite (suite.json + split file), built with the real writer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import build_workspace

SUITE = (("alpha_01_s01", "alpha", "Alpha", True), ("alpha_01_s02", "alpha", "Alpha", True),
         ("beta_01_s01", "beta", "Beta", False))


def build_suite(root: Path) -> Path:
    rows = []
    for i, (name, domain, title, _) in enumerate(SUITE):
        build_workspace(root / name, seed=10 + i)
        rows.append({"name": name, "domain": domain, "domain_title": title})
    (root / "suite.json").write_text(json.dumps({"suite": "synthetic", "workspaces": rows}))
    (root / "splits").mkdir()
    (root / "splits" / "standard.json").write_text(json.dumps(
        {"test": [n for n, *_ in SUITE], "train": [], "ood_domains": sorted({d for _, d, _, o in SUITE if o})}))
    return root


@pytest.fixture(scope="session")
def mini_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: copy before modifying."""
    return build_suite(tmp_path_factory.mktemp("suite") / "synthetic")
