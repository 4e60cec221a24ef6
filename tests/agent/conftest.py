"""Fixtures for the agent tests: a small real workspace, sandbox shells, a scripted OpenAI server."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

from evolve.proposer import PoolEntry, ProposalContext
from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState
from inventory.tuning import TuningConfig
from inventory.workspace import ProblemSpec, Workspace, WorkspaceSpec, agent_visible_files
from inventory.workspace_write import write_workspace
from sandbox.shell import CommandResult, ShellSession
from tests.agent.fake_openai import FakeOpenAIServer

ShellFactory = Callable[[Path], ShellSession]


class SubprocessShell(ShellSession):
    """Fallback shell (no isolation) used only while ``sandbox.open_shell`` is not installed.

    Copies the agent-visible files (never ``hidden/``) into a temporary directory and runs
    each command there with bash, a timeout (process group killed) and truncated output.
    """

    def __init__(self, root: Path, timeout: float = 60.0, max_output: int = 16000):
        self.timeout, self.max_output = timeout, max_output
        self._tmp = Path(tempfile.mkdtemp(prefix="agent-test-shell-"))
        self.root = self._tmp / "ws"
        for rel in agent_visible_files(root):
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, self.root / rel)

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.root, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "HOME": str(self._tmp)})
        try:
            out, _ = proc.communicate(timeout=timeout or self.timeout)
            code, timed_out = proc.returncode, False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            code, timed_out = None, True
        text = out.decode("utf-8", "replace")
        truncated = len(text) > self.max_output
        return CommandResult(code, text[: self.max_output], timed_out, truncated)

    def _resolve(self, rel_path: str) -> Path:
        target = (self.root / rel_path).resolve()
        if not str(target).startswith(str(self.root.resolve()) + os.sep):
            raise ValueError(f"path {rel_path!r} escapes the workspace")
        return target

    def read_file(self, rel_path: str, max_bytes: int = 200_000) -> bytes | None:
        target = self._resolve(rel_path)
        return target.read_bytes()[:max_bytes] if target.is_file() else None

    def write_file(self, rel_path: str, data: bytes) -> None:
        target = self._resolve(rel_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def _sandbox_factory() -> ShellFactory | None:
    try:
        from sandbox import open_shell  # type: ignore[attr-defined]
    except ImportError:
        return None
    return lambda root: open_shell(root, "auto", timeout=60, max_output=16000)


@pytest.fixture(scope="session")
def shell_factory() -> ShellFactory:
    """``sandbox.open_shell(root, "auto")`` when installed, else the subprocess fallback."""
    return _sandbox_factory() or (lambda root: SubprocessShell(root))


@pytest.fixture(scope="session")
def shell_is_sandboxed(shell_factory: ShellFactory) -> bool:
    return _sandbox_factory() is not None


def _toy_sequence(n: int, start: int, rng: np.random.Generator) -> DemandSequence:
    days = np.arange(start, start + n)
    dow = days % 7
    promo = (rng.random(n) < 0.15).astype(float)
    demand = rng.poisson(5 + 2 * (dow >= 5) + 4 * promo).astype(float)
    dates = [str(np.datetime64("2024-01-01") + int(d)) for d in days]
    note = np.array(["promo" if p else "" for p in promo], dtype=object)
    return DemandSequence(dates, demand, {"day_of_week": dow.astype(float), "promo": promo, "note": note})


@pytest.fixture(scope="session")
def toy_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A real (tuned, sealed) workspace: 60 replay days, 20 hidden forward days, 3 features."""
    rng = np.random.default_rng(7)
    replay, forward = _toy_sequence(60, 0, rng), _toy_sequence(20, 60, rng)
    spec = WorkspaceSpec(
        ProblemSpec(name="agent_toy", domain="retail", item="widget", h=1.0, p=9.0, lead_time=1,
                    replay_days=60, forward_days=20),
        InitialState(10.0, (5.0,)),
        (FeatureSpec("day_of_week", FeatureKind.CATEGORICAL, Availability.KNOWN_AHEAD, 14, "0=Mon"),
         FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "planned promotion"),
         FeatureSpec("note", FeatureKind.TEXT, Availability.AFTER_DAY, 0, "event note")),
    )
    root = tmp_path_factory.mktemp("ws") / "agent_toy"
    return write_workspace(root, spec, replay, forward, tuning=TuningConfig(n_trials=20))


def make_context(ws: Workspace, round_no: int = 1, rounds: int = 3, extra: tuple[PoolEntry, ...] = (),
                 feedback: tuple = ()) -> ProposalContext:
    pool = tuple(
        PoolEntry(f"b_{name}", name, ws.baseline_source(name), rec.replay_cost, rec.params, "baseline")
        for name, rec in ws.baselines.items()
    ) + extra
    best = min(pool, key=lambda e: e.replay_cost)
    return ProposalContext(ws, round_no, rounds, 0, pool, best.candidate_id, best.candidate_id, tuple(feedback))


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to 127.0.0.1 only; make sure no real key could ever be sent."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AGENT_TEST_KEY", "sk-test-local")


PYTHON = sys.executable
