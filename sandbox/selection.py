"""Choosing a backend: ``auto`` never picks one without filesystem and network isolation.

``auto`` takes docker when an engine answers ``ping()``, else bubblewrap when a probe
sandbox starts, else it refuses with one message naming what to install. The degraded
backend runs only when named (``--sandbox degraded``). A named backend that cannot run
raises :class:`~sandbox.errors.SandboxUnavailable`; it is never silently replaced.
"""
from __future__ import annotations

import logging
import threading

from sandbox.backends import BACKENDS, SandboxBackend
from sandbox.backends.bwrap import INSTALL_HINT as BWRAP_HINT
from sandbox.backends.docker import INSTALL_HINT as DOCKER_HINT
from sandbox.errors import SandboxUnavailable
from sandbox.limits import Limits

log = logging.getLogger(__name__)

AUTO_ORDER = ("docker", "bwrap")  # isolating backends only
_selected: dict[str, SandboxBackend] = {}
_sel_lock = threading.Lock()


def select_backend(preference: str = "auto", limits: Limits | None = None) -> SandboxBackend:
    """The backend to use, probed and logged (cached per preference when ``limits`` is the default)."""
    if preference not in ("auto", *BACKENDS):
        raise ValueError(f"unknown sandbox backend {preference!r}; choose auto, bwrap, docker, degraded or none")
    cacheable = limits is None
    with _sel_lock:
        if cacheable and preference in _selected:
            return _selected[preference]
        order = AUTO_ORDER if preference == "auto" else (preference,)
        reasons = []
        for name in order:
            backend = BACKENDS[name](limits)
            try:
                backend.probe()
            except SandboxUnavailable as exc:
                reasons.append(f"{name}: {exc}")
                log.info("sandbox backend %s unavailable: %s", name, exc)
                continue
            assert backend.isolating or preference == name, "auto must never pick a non-isolating backend"
            log.info("sandbox backend selected: %s%s", backend.describe(),
                     f" (skipped: {'; '.join(reasons)})" if reasons else "")
            if cacheable:
                _selected[preference] = backend
            return backend
        if preference == "auto":
            raise SandboxUnavailable(
                "no isolating sandbox backend on this machine: install bubblewrap "
                f"({BWRAP_HINT}) or docker ({DOCKER_HINT}); `--sandbox degraded` runs without filesystem isolation "
                f"(opt-in, disposable machines only). Details: {'; '.join(reasons)}")
        raise SandboxUnavailable("; ".join(reasons))


def available_backends() -> dict[str, str | None]:
    """name -> None when usable, else the reason it is not (probes each; for tests and tools)."""
    out: dict[str, str | None] = {}
    for name in BACKENDS:
        try:
            select_backend(name)
            out[name] = None
        except SandboxUnavailable as exc:
            out[name] = str(exc)
    return out
