"""End-to-end runs of the loop, including a resume after kill -9."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from evolve.builtin import BuiltinProposer
from evolve.config import EvolveConfig, with_overrides
from evolve.run import execute

SMALL = ["--rounds", "3", "--candidates", "2", "--trials", "20", "--sandbox", "none", "-q"]


def _cfg():
    return with_overrides(EvolveConfig(), search_rounds=3, search_candidates_per_round=2, tuning_n_trials=20, sandbox="none")


def _factory(cfg, ws, rd):
    return BuiltinProposer(per_round=cfg.search.candidates_per_round)


def test_run_writes_every_artifact(workspace_dir, tmp_path):
    out = execute(workspace_dir, _cfg(), _factory, run_dir=tmp_path / "run", progress=False)
    root = out.run_dir
    for name in ("run.json", "config.toml", "candidates.jsonl", "rounds.jsonl", "certificates.jsonl",
                 "champion_history.jsonl", "deployed_policy.py", "deployment.json", "report.txt"):
        assert (root / name).exists(), name
    assert not (root / "studies.sqlite3").exists()  # tuning is in memory; results are written once
    rows = [json.loads(line) for line in (root / "candidates.jsonl").read_text().splitlines()]
    assert len(rows) == 5 + 6
    for row in rows:
        assert (root / "candidates" / f"{row['candidate_id']}.py").exists()
    dep = json.loads((root / "deployment.json").read_text())
    assert dep["deployed_id"] in {r["candidate_id"] for r in rows}
    assert "DEPLOYED:" in out.report and "test (forward) window" in out.report
    assert out.forward is not None and set(out.forward.baseline_costs) == {
        "base_stock", "capped_base_stock", "constant_order", "newsvendor", "s_S"}


def test_existing_run_dir_is_refused(workspace_dir, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    with pytest.raises(FileExistsError, match="--resume"):
        execute(workspace_dir, _cfg(), _factory, run_dir=tmp_path / "run", progress=False)


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def test_resume_after_kill_9_loses_no_candidate(workspace_dir, tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "cli.evolve_cmd", "--workspace", str(workspace_dir), "--run-dir", str(run), *SMALL]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(_lines(run / "candidates.jsonl")) < 5 + 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _lines(run / "candidates.jsonl")
    assert 5 + 3 <= len(before) < 5 + 6, "kill landed outside the search; the test proves nothing"
    assert not (run / "deployment.json").exists()
    done = subprocess.run([sys.executable, "-m", "cli.evolve_cmd", "--resume", str(run), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _lines(run / "candidates.jsonl")
    ids = [r["candidate_id"] for r in after]
    assert len(ids) == len(set(ids)) == 5 + 6  # nothing evaluated twice, nothing lost
    assert after[: len(before)] == before
    assert json.loads((run / "deployment.json").read_text())["deployed_id"] in ids
    assert "DEPLOYED:" in done.stdout
