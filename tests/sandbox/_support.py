"""Shared helpers for sandbox tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.backends import SandboxBackend, SandboxUnavailable, select_backend

REPO = Path(__file__).resolve().parents[2]
WORKSPACE = REPO / "workspaces" / "retail_promo"

_cache: dict[str, SandboxBackend | str] = {}


def backend_or_skip(name: str) -> SandboxBackend:
    if name not in _cache:
        try:
            _cache[name] = select_backend(name)
        except SandboxUnavailable as exc:
            _cache[name] = str(exc)
    got = _cache[name]
    if isinstance(got, str):
        pytest.skip(f"{name} backend unavailable here: {got}")
    return got


ISOLATING = [pytest.param("bwrap", id="bwrap"), pytest.param("docker", id="docker", marks=pytest.mark.docker)]


