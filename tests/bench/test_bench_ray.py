"""A 3-workspace exp1 sweep on a private local Ray instance (``ray.init(num_cpus=2)``, no
dashboard) gives exactly the local executor's results, even when a Ray worker is killed in
the middle of a workspace: the worker is restarted, the workspace's run resumed, and the
sweep holds one result per workspace."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from bench.evolve_job import evolve_job  # noqa: E402
from bench.settings import BenchSettings  # noqa: E402
from bench.suites import SuiteKind, load_suite  # noqa: E402
from bench.sweep import Sweep  # noqa: E402
from evolve.config import EvolveConfig, with_overrides  # noqa: E402
from evolve.executor import ProcessExecutor  # noqa: E402
from evolve.executor_ray import RayExecutor  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _settings() -> BenchSettings:
    return BenchSettings(with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=2,
                                        tuning_n_trials=8, sandbox="none"))


def _kill_mid_workspace(sweep_dir: Path, name: str, killed: list[int], stop: threading.Event) -> None:
    """Once ``name``'s run has recorded a candidate, SIGKILL the worker that is running it."""
    marker = sweep_dir / "running" / f"{name}.json"
    candidates = sweep_dir / "runs" / name / "candidates.jsonl"
    while not stop.is_set():
        if marker.exists() and candidates.exists() and candidates.read_text().strip():
            try:
                pid = json.loads(marker.read_text())["pid"]
            except (OSError, ValueError):
                continue
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.02)


def test_sweep_on_ray_equals_local_and_survives_a_killed_worker(mini_suite, tmp_path):
    entries = load_suite(SuiteKind.SYNTHETIC, mini_suite)
    with ProcessExecutor(2) as ex:
        local, errors = Sweep(tmp_path / "local", "exp1", _settings()).run(entries, ex, evolve_job, progress=False)
    assert not errors and len(local) == 3

    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    try:
        killed: list[int] = []
        stop = threading.Event()
        killer = threading.Thread(target=_kill_mid_workspace,
                                  args=(tmp_path / "ray", entries[1].name, killed, stop), daemon=True)
        with RayExecutor(2, sandbox="none", max_retries=2) as ex:
            workers = set(ex.worker_pids())
            killer.start()
            on_ray, errors = Sweep(tmp_path / "ray", "exp1", _settings()).run(entries, ex, evolve_job, progress=False)
            stop.set()
            killer.join()
    finally:
        ray.shutdown()
    assert not errors
    assert killed and killed[0] in workers, "no worker was killed mid-workspace: the test proves nothing"
    assert on_ray == local                                  # identical results, workspace by workspace
    assert sorted(p.name for p in (tmp_path / "ray" / "results").iterdir()) == sorted(f"{e.name}.json" for e in entries)
    ids = [json.loads(line)["candidate_id"]
           for line in (tmp_path / "ray" / "runs" / entries[1].name / "candidates.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids))                        # the resumed run evaluated nothing twice
