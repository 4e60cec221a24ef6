"""Shared pieces of the attack corpus: the environment an attack gets, its outcome, helpers.

Used by ``tests/sandbox/test_sandbox_attacks.py`` (which asserts every class is contained on
bwrap and docker) and by ``python -m sandbox.matrix`` (which prints the class x backend matrix).
Policy attacks go straight to :class:`sandbox.host.SandboxHost` with the static validator
bypassed, to show the boundary holds without the filter. Network attacks only target
127.0.0.1 (a listener this process owns) and 192.0.2.1 (TEST-NET-1, never routed); no real
traffic leaves the machine even when containment fails.

Each attack returns an :class:`Outcome`; ``contained`` is decided from what the *host*
observes (files on the host, a listener that saw no connection, a signal handler that did
not fire, the process table), not from what the sandboxed code claims.
"""
from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from inventory.policy import PolicyError
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState
from sandbox.backends.base import SandboxBackend
from sandbox.errors import SandboxUnavailable
from sandbox.host import Deadlines, SandboxHost
from sandbox.limits import Limits
from sandbox.session import SandboxShellSession

BENIGN = '''
import numpy as np
PARAMS = {"S": (0.0, 40.0)}

def order(obs, params):
    return np.maximum(params["S"] - obs.position, 0.0)
'''

ATTACK_LIMITS = Limits(memory_bytes=1 << 30, pids=96, candidate_memory_bytes=512 << 20, fsize_bytes=16 << 20,
                       workspace_quota_bytes=64 << 20)
ATTACK_DEADLINES = Deadlines(open=10.0, mean_costs=4.0, decide=4.0, grace=10.0)


@dataclass
class Outcome:
    contained: bool
    detail: str


@dataclass
class Env:
    """What an attack may use: a backend, a small replay problem, a workspace with a secret."""

    backend: SandboxBackend
    workspace: Path
    secret: str
    problem: ReplayProblem
    scratch: Path
    extras: dict = field(default_factory=dict)


def small_problem(days: int = 40) -> ReplayProblem:
    rng = np.random.default_rng(7)
    dates = [f"2024-02-{1 + i % 28:02d}" for i in range(days)]
    seq = DemandSequence(dates, rng.poisson(5, days).astype(float), {})
    return ReplayProblem(seq, (), CostModel(1.0, 9.0, 1), InitialState(8.0, (4.0,)))


def make_env(backend: SandboxBackend, source_workspace: Path, scratch: Path) -> Env:
    """Copy a workspace (with its hidden/ forward window) and plant a secret in hidden/."""
    ws = scratch / "workspace"
    shutil.copytree(source_workspace, ws)
    secret = "SECRET-" + secrets.token_hex(12)
    hidden = ws / "hidden"
    hidden.mkdir(exist_ok=True)
    (hidden / "secret_marker.txt").write_text(secret + "\n")
    fw = hidden / "forward_window.json"
    extras = {}
    if fw.exists():  # the last forward date appears nowhere else in the workspace
        extras["forward_date"] = json.loads(fw.read_text())["dates"][-1]
    return Env(backend, ws, secret, small_problem(), scratch, extras)


def host_for(env: Env, **kw) -> SandboxHost:
    """A host that must keep the workspace's hidden/ unreadable (the degraded backend proves it or refuses)."""
    kw.setdefault("limits", ATTACK_LIMITS)
    kw.setdefault("deadlines", ATTACK_DEADLINES)
    return SandboxHost(kw.pop("problem", env.problem), env.backend, hidden=(env.workspace / "hidden",), **kw)


def benign_ok(host: SandboxHost) -> bool:
    h = host.open(BENIGN, "benign")
    try:
        costs = h.mean_costs({"S": np.array([10.0, 20.0])})
        return costs.shape == (2,) and bool(np.all(np.isfinite(costs)))
    finally:
        h.close()


def policy_attack(env: Env, source: str, budget_s: float, params: dict | None = None) -> tuple[str, float, SandboxHost]:
    """Run a hostile policy through open + mean_costs; returns (error text, seconds, host)."""
    host = host_for(env)
    t0 = time.monotonic()
    err = ""
    try:
        h = host.open(source, "attack")
        try:
            h.mean_costs(params or {"r": np.array([1.0])})
            err = "no error"
        finally:
            h.close()
    except PolicyError as exc:
        err = str(exc)
    return err, time.monotonic() - t0, host


def finish(host: SandboxHost, ok: bool, detail: str) -> Outcome:
    try:
        healthy = benign_ok(host)
    except PolicyError as exc:
        healthy, detail = False, f"{detail}; host unusable afterwards: {exc}"
    finally:
        pass
    procs = []
    try:
        procs = host.ping().get("procs", [])
    except PolicyError:
        pass
    host.close()
    return Outcome(ok and healthy, f"{detail}; host healthy={healthy}; {len(procs)} processes left in sandbox")




def shell_for(env: Env, **kw) -> SandboxShellSession:
    return SandboxShellSession(env.workspace, env.backend, timeout=kw.get("timeout", 20), max_output=kw.get("max_output", 4000))


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # "policy", "shell" or "host" (the trusted side's own code)
    run: Callable[[Env], Outcome]
    description: str


def run_attack(attack: Attack, backend: SandboxBackend, source_workspace: Path) -> Outcome:
    """Run one attack in a fresh scratch directory; never raises (a crash counts as not contained).

    A backend that refuses to run the attack at all (the degraded backend when it cannot
    prove hidden/ unreadable) has contained it: nothing ran.
    """
    scratch = Path(tempfile.mkdtemp(prefix="invevolve-attack-"))
    try:
        env = make_env(backend, source_workspace, scratch)
        return attack.run(env)
    except SandboxUnavailable as exc:
        return Outcome(True, f"refused to run: {exc}"[:300])
    except Exception as exc:  # noqa: BLE001 - report, do not hide
        return Outcome(False, f"attack harness error: {type(exc).__name__}: {exc}")
    finally:
        from sandbox.fstree import remove_tree
        remove_tree(scratch)
