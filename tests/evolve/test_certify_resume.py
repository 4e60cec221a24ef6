"""Walk-forward certification inside evolve: gates on out-of-sample costs, resume is exact."""
import json
import os
import signal
import subprocess
import sys
import time

from evolve.builtin import BuiltinProposer
from evolve.config import EvolveConfig, with_overrides
from evolve.run import execute

SMALL = ["--rounds", "3", "--candidates", "2", "--trials", "20", "--sandbox", "none", "-q"]


def _cfg():
    return with_overrides(EvolveConfig(), search_rounds=3, search_candidates_per_round=2, tuning_n_trials=20,
                          sandbox="none")


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def test_default_run_certifies_on_walk_forward_days(workspace_dir, tmp_path):
    out = execute(workspace_dir, _cfg(), lambda c, w, r: BuiltinProposer(per_round=2), run_dir=tmp_path / "run",
                  progress=False)
    wf = _lines(out.run_dir / "walkforward.jsonl")
    assert len(wf) == 5 + 6 and all(r["error"] is None for r in wf)
    certs = _lines(out.run_dir / "certificates.jsonl")
    assert certs and {c["gain_source"] for c in certs} == {"walk_forward"}
    first, last = certs[0]["first_day"], certs[0]["last_day"]
    assert first > 0 and all(len(r["costs"]) == last - first + 1 for r in wf)
    assert "covers:" in out.report or json.loads((out.run_dir / "deployment.json").read_text())["certificate"] is None


def test_resume_after_kill_9_is_exact(workspace_dir, tmp_path):
    """A run killed mid-search and resumed issues the same certificates and deploys the same policy."""
    ref = execute(workspace_dir, _cfg(), lambda c, w, r: BuiltinProposer(per_round=2), run_dir=tmp_path / "ref",
                  progress=False)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "cli.evolve_cmd", "--workspace", str(workspace_dir), "--run-dir", str(run), *SMALL]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and len(_lines(run / "candidates.jsonl")) < 5 + 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "deployment.json").exists(), "kill landed after the run; the test proves nothing"
    done = subprocess.run([sys.executable, "-m", "cli.evolve_cmd", "--resume", str(run), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _lines(run / "certificates.jsonl") == _lines(ref.run_dir / "certificates.jsonl")
    a = json.loads((run / "deployment.json").read_text())
    b = json.loads((ref.run_dir / "deployment.json").read_text())
    assert (a["deployed_id"], a["certificate"]) == (b["deployed_id"], b["certificate"])
    by_id = lambda rows: {r["candidate_id"]: r for r in rows}  # noqa: E731
    assert by_id(_lines(run / "walkforward.jsonl")) == by_id(_lines(ref.run_dir / "walkforward.jsonl"))
