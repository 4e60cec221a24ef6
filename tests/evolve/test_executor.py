"""Executors: the same records, in submission order, whichever executor runs the tasks."""
from dataclasses import replace

import pytest

from evolve.builtin.render import render
from evolve.builtin.search import seeds
from evolve.executor import CandidateTask, ProcessExecutor, SerialExecutor, evaluate_task, make_executor
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace


def _tasks(workspace_dir):
    ws = load_workspace(workspace_dir)
    tuning = TuningConfig(n_trials=24, batch_size=12, n_startup_trials=12, seed=3)
    out = [CandidateTask(str(workspace_dir), "baseline-capped_base_stock", "capped_base_stock",
                         ws.baseline_source("capped_base_stock"), tuning, "none",
                         params=ws.baselines["capped_base_stock"].params)]
    for i, g in enumerate(seeds(ws.spec.features, ws.replay.demand)[:3]):
        out.append(CandidateTask(str(workspace_dir), f"c{i}", f"g{i}", render(g), tuning, "none"))
    out.append(CandidateTask(str(workspace_dir), "bad", "bad", "import os\ndef order(obs, params):\n    return 1\n",
                             tuning, "none"))
    return out


def _strip(records):
    return [replace(r, seconds=0.0) for r in records]


def test_process_pool_matches_serial_in_submission_order(workspace_dir):
    tasks = _tasks(workspace_dir)
    with SerialExecutor() as ex:
        serial = ex.map(evaluate_task, tasks)
    with ProcessExecutor(2) as ex:
        parallel = ex.map(evaluate_task, tasks)
    assert [r.candidate_id for r in parallel] == [t.candidate_id for t in tasks]
    assert _strip(parallel) == _strip(serial)
    assert [r.status for r in serial] == ["ok", "ok", "ok", "ok", "invalid"]
    assert serial[0].params == tasks[0].params  # fixed parameters are replayed, not re-tuned


def test_make_executor_and_bad_worker_count():
    assert isinstance(make_executor(1), SerialExecutor)
    assert isinstance(make_executor(2), ProcessExecutor)
    with pytest.raises(ValueError, match="workers"):
        ProcessExecutor(0)
    assert ProcessExecutor(2).map(evaluate_task, []) == []
