"""Fixtures for sandbox tests: backends parametrised over what this machine can run.

bwrap tests skip (with the reason) where bubblewrap cannot start; docker tests are marked
``docker`` and skip where no engine answers ping() (.ci/docker-up.sh starts one).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.backends import SandboxBackend
from tests.sandbox._support import ISOLATING, WORKSPACE, backend_or_skip


@pytest.fixture(params=ISOLATING)
def backend(request) -> SandboxBackend:
    return backend_or_skip(request.param)


@pytest.fixture
def bwrap() -> SandboxBackend:
    return backend_or_skip("bwrap")


@pytest.fixture
def workspace_dir() -> Path:
    if not (WORKSPACE / "hidden" / "forward_window.json").exists():
        pytest.skip(f"example workspace {WORKSPACE} is missing")
    return WORKSPACE
