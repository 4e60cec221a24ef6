"""Executors: the same records, in submission order, whichever executor runs the tasks."""
import json
import re
from dataclasses import replace

import pytest

from evolve.executor import ProcessExecutor, SerialExecutor, evaluate_task, make_executor
from tests.evolve._tasks import sample_tasks


def _tasks(workspace_dir):
    return sample_tasks(workspace_dir, n_trials=24, n_seeds=3)


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


def _run_dir_contents(root):
    """Every file of a run directory, with timings, timestamps, its path and the worker count left out."""
    out = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name in ("run.json", "config.toml") or path.suffix == ".lock":
            continue
        text = path.read_text(encoding="utf-8").replace(str(root), "RUN_DIR")
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "TIME", text)
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            for row in rows:
                row.pop("seconds", None)
            text = json.dumps(rows, sort_keys=True)
        out[str(path.relative_to(root))] = text
    return out


def test_parallel_and_serial_runs_write_identical_run_directories(workspace_dir, tmp_path, monkeypatch):
    import evolve.run
    from evolve.builtin import BuiltinProposer
    from evolve.builtin.proposer import ScreenConfig
    from evolve.config import EvolveConfig, with_overrides
    from evolve.run import execute

    def factory(config, ws, rd):
        return BuiltinProposer(per_round=config.search.candidates_per_round, screen=ScreenConfig(days=60, n_trials=8, batch_size=8))

    mapped = []

    class CountingPool(ProcessExecutor):
        def map(self, fn, tasks):
            mapped.append(len(tasks))
            return super().map(fn, tasks)

    monkeypatch.setattr(evolve.run, "make_executor", lambda n: SerialExecutor() if n <= 1 else CountingPool(n))
    dirs = {}
    for workers in (1, 2):
        cfg = with_overrides(EvolveConfig(), search_rounds=2, search_candidates_per_round=2, search_workers=workers,
                             tuning_n_trials=16, tuning_batch_size=8, sandbox="none")
        out = execute(workspace_dir, cfg, factory, run_dir=tmp_path / f"w{workers}" / "run", progress=False)
        dirs[workers] = _run_dir_contents(out.run_dir)
    # the parallel run evaluated baselines (then their walk-forward folds) and candidates in workers
    assert mapped[:2] == [5, 5] and sum(mapped) >= 14
    assert "walkforward.jsonl" in dirs[1]
    assert dirs[1].keys() == dirs[2].keys()
    assert "candidates.jsonl" in dirs[1] and len(json.loads(dirs[1]["candidates.jsonl"])) >= 7
    for name in dirs[1]:
        assert dirs[1][name] == dirs[2][name], name


def test_a_worker_that_dies_is_a_clear_resumable_error_not_a_crash(tmp_path):
    """A worker killed under its task (SIGKILL, as the OOM killer sends) ends ``map`` with
    ``WorkerLost``, which the CLI reports in one line with exit code 3; the pool is gone."""
    from cli.errors import ExitCode, classify
    from evolve.executor import WorkerLost
    from tests.evolve._tasks import die_if_marked

    ex = ProcessExecutor(2)
    with pytest.raises(WorkerLost) as info:
        ex.map(die_if_marked, [(str(tmp_path), i) for i in range(4)])
    code, message = classify(info.value)
    assert code is ExitCode.UNAVAILABLE and "died abruptly" in message and "run the same command again" in message
    assert ex._pool is None
    assert ex.map(die_if_marked, [(str(tmp_path), 0), (str(tmp_path), 2)]) == [0, 2]  # a fresh pool works
    ex.close()


def test_pool_workers_leave_ctrl_c_to_the_parent(tmp_path):
    """Ctrl-C in a terminal signals the whole process group; the workers ignore it (idle or
    busy), so the parent alone turns it into "interrupted" and no worker dies of it."""
    import os
    import signal
    import threading

    from tests.evolve._tasks import sleep_and_mark

    ex = ProcessExecutor(2)
    (tmp_path / "warm").mkdir()
    for _ in range(20):  # until both workers have started (a worker still importing is not a worker yet)
        ex.map(sleep_and_mark, [(str(tmp_path / "warm"), 0.3)] * 2)
        if len({p.name.split("-")[1] for p in (tmp_path / "warm").iterdir()}) == 2:
            break
    pids = list(ex._pool._processes)
    for pid in pids:  # idle workers
        os.kill(pid, signal.SIGINT)
    timer = threading.Timer(1.0, lambda: [os.kill(pid, signal.SIGINT) for pid in pids])  # busy workers
    timer.start()
    done = ex.map(sleep_and_mark, [(str(tmp_path), 2.0)] * 2)
    timer.join()
    assert len(done) == 2 and sorted(ex._pool._processes) == sorted(pids)
    ex.close()


def test_an_interrupted_pool_stops_at_once_and_starts_no_queued_task(tmp_path):
    """Ctrl-C during ``map``: the workers are killed within seconds, not after their tasks and
    the ones queued behind them (a graceful shutdown would start those)."""
    import signal

    old = signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's Ctrl-C, whatever ran before
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    try:
        _interrupt_pool(tmp_path)
    finally:
        signal.signal(signal.SIGINT, old)


def _interrupt_pool(tmp_path):
    import os
    import signal
    import threading
    import time

    from tests.evolve._tasks import sleep_and_mark

    ex = ProcessExecutor(2)
    (tmp_path / "warm").mkdir()
    for _ in range(20):  # both workers started before the clock runs
        ex.map(sleep_and_mark, [(str(tmp_path / "warm"), 0.3)] * 2)
        if len({p.name.split("-")[1] for p in (tmp_path / "warm").iterdir()}) == 2:
            break
    tasks = [(str(tmp_path), 20.0)] * 6
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))  # what Ctrl-C sends
    procs = list(ex._pool._processes.values())
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ex.map(sleep_and_mark, tasks)
        pytest.fail(f"map ran to its end; SIGINT handler {signal.getsignal(signal.SIGINT)!r}, "
                    f"blocked {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))}")
    took = time.monotonic() - start
    timer.cancel()
    assert took < 15.0, f"map took {took:.1f} s to give up"
    alive = _still_running([p.pid for p in procs], within=10.0)
    assert not alive, alive
    time.sleep(1.0)
    assert 1 <= len(list(tmp_path.glob("started-*"))) <= 2  # the running tasks, none of the queued ones
    ex.close()  # closing after an interrupt is a no-op


def _still_running(pids, within):
    """The pids that are still running children of this process after ``within`` seconds, with
    their /proc state. Asks the kernel, not ``Process.is_alive``: that reads the exit status
    through ``waitpid``, and two threads waiting on one child (the pool's manager thread and
    ``terminate``) can leave the loser without it although the child is gone."""
    import os
    import time

    deadline = time.monotonic() + within
    while True:
        running = {}
        for pid in pids:
            try:
                stat = open(f"/proc/{pid}/stat", "rb").read().split(b") ", 1)[-1].split()
            except FileNotFoundError:
                continue  # gone and reaped
            if stat[0] != b"Z" and int(stat[1]) == os.getpid():
                running[pid] = stat[0].decode()
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)
