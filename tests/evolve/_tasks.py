"""Candidate tasks the executor tests share: a pre-tuned baseline, built-in seeds, a rejected policy."""
from __future__ import annotations

from evolve.builtin.render import render
from evolve.builtin.search import seeds
from evolve.executor import CandidateTask
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace


def sample_tasks(workspace_dir, *, n_trials: int, n_seeds: int) -> list[CandidateTask]:
    ws = load_workspace(workspace_dir)
    tuning = TuningConfig(n_trials=n_trials, batch_size=n_trials // 2, n_startup_trials=n_trials // 2, seed=3)
    out = [CandidateTask(str(workspace_dir), "baseline-capped_base_stock", "capped_base_stock",
                         ws.baseline_source("capped_base_stock"), tuning, "none",
                         params=ws.baselines["capped_base_stock"].params)]
    for i, g in enumerate(seeds(ws.spec.features, ws.replay.demand)[:n_seeds]):
        out.append(CandidateTask(str(workspace_dir), f"c{i}", f"g{i}", render(g), tuning, "none"))
    out.append(CandidateTask(str(workspace_dir), "bad", "bad", "import os\ndef order(obs, params):\n    return 1\n",
                             tuning, "none"))
    return out


def sleep_and_mark(arg: tuple[str, float]) -> str:
    """Write a marker that the task started, then sleep (the interrupt test's task)."""
    import os
    import time
    folder, seconds = arg
    marker = os.path.join(folder, f"started-{os.getpid()}-{time.monotonic_ns()}")
    open(marker, "w").close()
    time.sleep(seconds)
    return marker


def die_if_marked(arg: tuple[str, int]) -> int:
    """Return ``i``, except that task 1 kills its own worker with SIGKILL (what the OOM killer does)."""
    import os
    import signal
    import time
    _folder, i = arg
    if i == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)
    return i
