"""`evolve --llm openai:... --base-url ...` killed mid-round, then `evolve --resume R` with no flags.

The scripted OpenAI-compatible server (a real HTTP server) runs in this process across both
processes. The resumed run must use the same proposer (same model, same endpoint) for the
remaining rounds, keep the interrupted episode's trajectory, and evaluate nothing twice.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from agent.trajectory import read_trajectories
from tests.agent.fake_openai import FakeOpenAIServer, Reply, shell, submit
from tests.cli._run import ROOT, env, evolve, undocumented_files

POLICY = '''import numpy as np

PARAMS = {"S": (0.0, 80.0), "r0": (0.0, 30.0), "gamma": (0.0, 1.0)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r0"] + params["gamma"] * gap)
'''


def _round_of(req: dict) -> int:
    brief = req["messages"][1]["content"]
    return int(brief.split("# Round ", 1)[1].split(" ", 1)[0])


@pytest.mark.slow
def test_interrupted_agent_run_resumes_with_the_same_proposer(workspace_dir, tmp_path):
    stalled = threading.Event()
    release = threading.Event()

    def model(req: dict) -> Reply:
        turn = sum(1 for m in req["messages"] if m["role"] == "assistant")
        if turn == 0:
            return shell(f"cat > final_submit.py <<'EOF'\n{POLICY}EOF")
        if _round_of(req) == 2 and not release.is_set():
            stalled.set()            # round 2, second turn: hold the answer until the process is killed
            release.wait(60)
            return Reply(status=500)
        return submit(rationale="tilted capped base stock")

    server = FakeOpenAIServer([model] * 40, model="scripted").start()
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text("[agent]\nbudget = 4\ntimeout = 30.0\nretries = 0\n")
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "cli.evolve_cmd", "--workspace", str(workspace_dir), "--run-dir", str(run_dir),
           "--llm", "openai:scripted", "--base-url", server.base_url, "--agent-config", str(agent_toml),
           "--rounds", "3", "--candidates", "1", "--trials", "8", "--sandbox", "none", "-q"]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), cwd=ROOT,
                                start_new_session=True)
        assert stalled.wait(240), "the run never reached round 2"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        release.set()
        rounds = [json.loads(x)["round"] for x in (run_dir / "rounds.jsonl").read_text().splitlines()]
        assert rounds == [1], "the kill must land inside round 2"
        inflight = list((run_dir / "agent" / "inflight").glob("*.json"))
        assert len(inflight) == 1, "round 2's first turn is checkpointed"
        assert undocumented_files(run_dir) == []
        before = len(server.requests)

        done = evolve("--resume", str(run_dir), "-q", timeout=300)
    finally:
        release.set()
        server.stop()
    assert done.rc == 0, done.stderr
    after = server.requests[before:]
    assert after and {r["model"] for r in after} == {"scripted"}
    assert sorted({_round_of(r) for r in after}) == [2, 3]

    rows = [json.loads(x) for x in (run_dir / "candidates.jsonl").read_text().splitlines()]
    ids = [r["candidate_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert sorted(r["round"] for r in rows if r["origin"] != "baseline") == [1, 2, 3]
    assert {r["origin"] for r in rows if r["origin"] != "baseline"} == {"agent"}
    rounds = [json.loads(x)["round"] for x in (run_dir / "rounds.jsonl").read_text().splitlines()]
    assert rounds == [1, 2, 3]

    trajs = read_trajectories(run_dir)
    assert [(t.round, t.end_reason) for t in trajs] == [(1, "submitted"), (2, "interrupted"), (2, "submitted"),
                                                        (3, "submitted")]
    assert {t.model for t in trajs} == {"openai:scripted"}
    assert not list((run_dir / "agent" / "inflight").glob("*.json"))
    assert undocumented_files(run_dir) == []
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["proposer"]["agent"]["model"] == "openai:scripted"
    assert meta["proposer"]["agent"]["base_url"] == server.base_url
    assert "key" not in json.dumps(meta["proposer"]).replace("api_key_env", "")
    assert len(meta["resumes"]) == 1 and meta["resumes"][0]["command_line"][1:3] == ["--resume", str(run_dir)]


@pytest.mark.slow
def test_rounds_lost_to_a_dead_endpoint_are_proposed_on_resume_with_a_new_endpoint(workspace_dir, tmp_path):
    """A dead endpoint ends the run (exit 3) without recording the rounds it could not propose;
    `evolve --resume R --base-url NEW` then runs exactly those rounds with the same model."""
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text("[agent]\nbudget = 4\ntimeout = 5.0\nretries = 0\nmax_endpoint_failures = 1\n")
    run_dir = tmp_path / "run"
    common = ["--llm", "openai:scripted", "--agent-config", str(agent_toml)]
    dead = evolve("--workspace", str(workspace_dir), "--run-dir", str(run_dir), *common,
                  "--base-url", "http://127.0.0.1:9/v1", "--rounds", "2", "--candidates", "1", "--trials", "8",
                  "--sandbox", "none", "-q")
    assert dead.rc == 3, dead.stderr
    lost = run_dir / "rounds.jsonl"
    assert not lost.exists() or not lost.read_text().strip()  # no round is recorded as done

    def model(req: dict) -> Reply:
        if sum(1 for m in req["messages"] if m["role"] == "assistant") == 0:
            return shell(f"cat > final_submit.py <<'EOF'\n{POLICY}EOF")
        return submit(rationale="tilted capped base stock")

    server = FakeOpenAIServer([model] * 20, model="scripted").start()
    try:
        done = evolve("--resume", str(run_dir), "--base-url", server.base_url, "-q")
    finally:
        server.stop()
    assert done.rc == 0, done.stderr
    rounds = [json.loads(line) for line in (run_dir / "rounds.jsonl").read_text().splitlines() if line.strip()]
    assert [r["round"] for r in rounds] == [1, 2] and all(len(r["candidates"]) == 1 for r in rounds)
    records = [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines() if line.strip()]
    assert {r["round"] for r in records if r["origin"] != "baseline"} == {1, 2}
    meta = json.loads((run_dir / "run.json").read_text())
    assert "scripted" in meta["proposer"]["agent"]["model"]
    assert meta["resumes"][-1]["changes"] == {"agent.base_url": server.base_url}
