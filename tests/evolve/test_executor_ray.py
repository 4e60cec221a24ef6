"""RayExecutor on a private local Ray instance (2 CPUs, no dashboard): same records as the
local executors, in submission order; a killed worker is restarted and its task re-run once,
nothing lost or duplicated; the sandbox really isolates on the Ray workers."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from evolve.executor import SerialExecutor, evaluate_task  # noqa: E402
from evolve.executor_ray import RayExecutor, SandboxNotIsolating, _probe_sandbox  # noqa: E402
from tests.evolve import _ray_tasks  # noqa: E402
from tests.evolve._tasks import sample_tasks  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _bwrap() -> bool:
    from sandbox import select_backend
    from sandbox.backends import SandboxUnavailable
    try:
        select_backend("bwrap")
    except SandboxUnavailable:
        return False
    return True


@pytest.fixture(scope="module")
def ray_local():
    """The CI cluster: ``ray.init(num_cpus=2)``, local only, no dashboard."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_ex(ray_local):
    """Two actors shared by the tests (starting actors is the slow part); they probed bwrap if present."""
    with RayExecutor(2, sandbox="bwrap" if _bwrap() else "none", max_retries=2) as ex:
        yield ex


def _tasks(workspace_dir):
    return sample_tasks(workspace_dir, n_trials=16, n_seeds=2)


def test_candidate_evaluations_match_the_serial_executor(ray_ex, workspace_dir):
    tasks = _tasks(workspace_dir)
    with SerialExecutor() as ex:
        serial = ex.map(evaluate_task, tasks)
    on_ray = ray_ex.map(evaluate_task, tasks)
    assert len(set(ray_ex.worker_pids())) == 2
    assert [r.candidate_id for r in on_ray] == [t.candidate_id for t in tasks]
    assert [replace(r, seconds=0.0) for r in on_ray] == [replace(r, seconds=0.0) for r in serial]
    assert [r.status.value for r in on_ray] == ["ok", "ok", "ok", "invalid"]


def test_a_killed_worker_is_restarted_and_its_task_rerun_once(ray_ex, tmp_path):
    tasks = [(x, str(tmp_path)) for x in range(1, 7)]
    ex = ray_ex
    pids_before = set(ex.worker_pids())
    killed: list[int] = []

    def killer() -> None:
        marker = tmp_path / "hang.pid"
        deadline = time.time() + 120
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the task is hanging inside its worker now
        pid = int(marker.read_text())
        killed.append(pid)
        os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        results = ex.map(_ray_tasks.square_or_hang, tasks)
        pids_after = set(ex.worker_pids())
    finally:
        thread.join()
    assert results == [x * x for x, _ in tasks]            # nothing lost, in submission order
    attempts = [line.split() for line in (tmp_path / "attempts.log").read_text().splitlines()]
    starts = {x: sum(1 for a in attempts if a[0] == str(x)) for x, _ in tasks}
    assert starts == {1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1}  # only the killed task ran again, once
    assert killed and killed[0] in pids_before and killed[0] not in pids_after  # a new process took over
    retry_pid = [a[1] for a in attempts if a[0] == "3"][1]
    assert int(retry_pid) != killed[0]


def test_a_task_that_raises_propagates_its_own_exception(ray_ex, tmp_path):
    with pytest.raises(ValueError, match="task 7 is bad input"):
        ray_ex.map(_ray_tasks.fail, [7])
    assert ray_ex.map(_ray_tasks.square_or_hang, [(2, str(tmp_path)), (5, str(tmp_path))]) == [4, 25]  # still usable


def test_policies_are_contained_by_the_sandbox_on_ray_workers(ray_ex):
    if not _bwrap():
        pytest.skip("bubblewrap unavailable")
    contained, detail, described = ray_ex.map(
        _ray_tasks.attack_on_this_node, [("read_hidden_policy", "bwrap", str(REPO / "workspaces" / "retail_promo"))])[0]
    assert described.startswith("bwrap")
    assert contained, detail
    assert "FileNotFoundError" in detail  # the hidden window does not exist inside the sandbox


def test_no_ray_variable_reaches_a_sandbox_on_a_worker(ray_ex):
    if not _bwrap():
        pytest.skip("bubblewrap unavailable")
    mine, seen = ray_ex.map(_ray_tasks.sandboxed_env_on_this_node, [("bwrap", str(REPO / "workspaces" / "retail_promo"))])[0]
    assert mine, "the Ray worker has no RAY_* variables: the test proves nothing"
    assert seen == []


def test_auto_falling_back_to_degraded_is_refused_on_a_worker(monkeypatch):
    import sandbox
    from sandbox.backends import DegradedBackend

    monkeypatch.setattr(sandbox, "select_backend", lambda preference="auto", limits=None: DegradedBackend())
    with pytest.raises(SandboxNotIsolating, match="degraded"):
        _probe_sandbox("auto")


def test_two_worker_evolve_on_ray_equals_the_local_pool(ray_ex, workspace_dir, tmp_path):
    """A whole `evolve` run whose candidates are evaluated by two Ray workers writes the run
    directory a 2-process local run writes (records, rounds, certificates, deployment)."""
    from evolve.builtin import BuiltinProposer
    from evolve.config import EvolveConfig, with_overrides
    from evolve.run import execute

    cfg = with_overrides(EvolveConfig(), search_rounds=2, search_candidates_per_round=2, tuning_n_trials=12,
                         search_workers=2, sandbox="none")
    factory = lambda c, w, r: BuiltinProposer(per_round=c.search.candidates_per_round)  # noqa: E731
    local = execute(workspace_dir, cfg, factory, run_dir=tmp_path / "local", progress=False)
    on_ray = execute(workspace_dir, cfg, factory, run_dir=tmp_path / "ray", progress=False, executor=ray_ex)

    def records(root):
        rows = [json.loads(line) for line in (root / "candidates.jsonl").read_text().splitlines()]
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert len(records(local.run_dir)) > 5
    assert records(on_ray.run_dir) == records(local.run_dir)
    for name in ("rounds.jsonl", "certificates.jsonl", "deployed_policy.py"):
        texts = [(r / name).read_text().replace(str(r), "<run_dir>") for r in (local.run_dir, on_ray.run_dir)]
        assert texts[0] == texts[1], name
    dep = [json.loads((r / "deployment.json").read_text()) for r in (local.run_dir, on_ray.run_dir)]
    assert dep[0] == dep[1] and on_ray.deployed_id == local.deployed_id
