"""A few trials of benchmarks/resume_kill.py: kill -9 at random points, resume, compare with
an uninterrupted run of the same seed (candidates, scores, rounds, certificates, deployment)."""
import importlib.util
import random
import sys
from pathlib import Path

import pytest

from evolve.builtin import BuiltinProposer
from evolve.config import EvolveConfig, with_overrides
from evolve.rundir import RunDirError
from evolve.run import execute
from tests.agent.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("resume_kill", REPO / "benchmarks" / "resume_kill.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["resume_kill"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_kill_9_and_resume_reproduce_the_uninterrupted_run(tmp_path):
    rk = _bench()
    ws = rk.build_workspace(tmp_path / "ws")
    server = FakeOpenAIServer([rk.scripted_model] * 10_000, content_ids=True).start()
    lines: list[str] = []
    try:
        modes = rk.modes(ws, "none", server.base_url, tmp_path, rounds=2)
        rng = random.Random(4)
        bad = rk.run_trials(modes["builtin"], 2, tmp_path, rng, double=0.5, log=lines.append)
        bad += rk.run_trials(modes["agent"], 1, tmp_path, rng, double=0.0, log=lines.append)
    finally:
        server.stop()
    assert bad == 0, "\n".join(lines)


class _Other(BuiltinProposer):
    name = "other"


def test_resume_with_another_proposer_is_refused(workspace_dir, tmp_path):
    cfg = with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=1, tuning_n_trials=5,
                         sandbox="none")
    out = execute(workspace_dir, cfg, lambda c, w, r: BuiltinProposer(1), run_dir=tmp_path / "run", progress=False)
    with pytest.raises(RunDirError, match="started with proposer builtin"):
        execute(None, cfg, lambda c, w, r: _Other(1), resume=out.run_dir, progress=False)
