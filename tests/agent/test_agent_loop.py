"""The agent inside the real LGPS loop: `evolve --llm openai:... --base-url ...` against the scripted server."""
from __future__ import annotations

import json

import pytest

from agent.trajectory import read_trajectories
from tests.agent.fake_openai import FakeOpenAIServer, Reply, shell, submit, text

evolve_cmd = pytest.importorskip("cli.evolve_cmd", reason="the evolve CLI is not installed")

TILTED = '''import numpy as np


def search_space(info):
    top = (info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand
    return {"S": (0.0, max(top, 1.0)), "r0": (0.0, max(info.max_demand, 1.0)), "gamma": (0.0, 1.0)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r0"] + params["gamma"] * gap)
'''


def test_evolve_cli_runs_agent_rounds_with_refinement(toy_workspace, tmp_path):
    briefings: list[str] = []

    def model(req: dict) -> Reply:
        turn = sum(1 for m in req["messages"] if m["role"] == "assistant")
        if turn == 0:
            briefings.append(req["messages"][1]["content"])
            return shell(f"cat > final_submit.py <<'EOF'\n{TILTED}EOF")
        return submit(rationale="tilted capped base stock")

    server = FakeOpenAIServer([model] * 4).start()
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text('[agent]\nbudget = 5\ntimeout = 10.0\nretries = 1\nbackoff = 0.01\n')
    run_dir = tmp_path / "run"
    try:
        rc = evolve_cmd.main(["--workspace", str(toy_workspace.root), "--llm", "openai:scripted",
                              "--base-url", server.base_url, "--agent-config", str(agent_toml),
                              "--rounds", "2", "--candidates", "1", "--trials", "10", "--run-dir", str(run_dir), "-q"])
    finally:
        server.stop()
    assert rc == 0 and server.overruns == 0 and len(server.requests) == 4
    assert len(briefings) == 2
    assert "Extra baselines" not in briefings[0]
    assert "Extra baselines" in briefings[1] and "extra_baselines/agent_r1_" in briefings[1]   # refinement
    assert "round 1, agent_r1_" in briefings[1]                                                # round-1 decision
    trajs = read_trajectories(run_dir)
    assert [t.round for t in trajs] == [1, 2]
    for t in trajs:
        assert t.outcome is not None and t.outcome.valid and t.outcome.replay_cost is not None
        assert t.reward == int(t.outcome.beats_best_baseline)
        assert t.submitted_source == TILTED
    deployment = json.loads((run_dir / "deployment.json").read_text())
    assert deployment["deployed_id"]
    usage = json.loads((run_dir / "agent" / "usage_summary.json").read_text())
    assert usage["totals"]["episodes"] == 2 and usage["totals"]["model_calls"] == 4


def test_evolve_cli_with_dead_endpoint_still_deploys_or_stops_clearly(toy_workspace, tmp_path, caplog):
    """A dead endpoint must never crash the run with a traceback from inside the agent."""
    server = FakeOpenAIServer([]).start()
    url = server.base_url
    server.stop()
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text('[agent]\ntimeout = 2.0\nretries = 0\nmax_endpoint_failures = 2\n')
    run_dir = tmp_path / "run"
    from agent import EndpointUnavailable

    try:
        rc = evolve_cmd.main(["--workspace", str(toy_workspace.root), "--llm", "openai:m", "--base-url", url,
                              "--agent-config", str(agent_toml), "--rounds", "3", "--candidates", "1",
                              "--trials", "10", "--run-dir", str(run_dir), "-q"])
    except EndpointUnavailable as exc:   # until the loop catches it, the error must at least be explicit
        assert "2 consecutive rounds" in str(exc) and "cannot connect" in str(exc)
        trajs = read_trajectories(run_dir)
        assert [t.end_reason for t in trajs] == ["endpoint_error", "endpoint_error"]
        return
    assert rc in (0, 3)
    trajs = read_trajectories(run_dir)
    assert trajs and all(t.end_reason == "endpoint_error" for t in trajs)


@pytest.mark.parametrize("reply", [text("no idea")])
def test_evolve_cli_model_without_submission_deploys_a_baseline(toy_workspace, tmp_path, reply):
    server = FakeOpenAIServer([reply] * 3).start()
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text('[agent]\nbudget = 3\n')
    run_dir = tmp_path / "run"
    try:
        rc = evolve_cmd.main(["--workspace", str(toy_workspace.root), "--llm", "openai:m", "--base-url", server.base_url,
                              "--agent-config", str(agent_toml), "--rounds", "1", "--candidates", "1",
                              "--trials", "10", "--run-dir", str(run_dir), "-q"])
    finally:
        server.stop()
    assert rc == 0
    deployment = json.loads((run_dir / "deployment.json").read_text())
    assert deployment["deployed_id"].startswith("baseline")
    (traj,) = read_trajectories(run_dir)
    assert traj.end_reason == "budget" and traj.reward == 0
