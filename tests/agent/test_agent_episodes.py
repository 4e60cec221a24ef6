"""Agent episodes against a real local OpenAI-protocol HTTP server following scripted conversations."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from agent import AgentConfig, EndpointUnavailable, make_proposer
from agent.trajectory import read_trajectories
from evolve.proposer import Feedback, Outcome, PoolEntry
from inventory.policy import compile_policy
from inventory.tuning import TuningConfig, tune_policy
from inventory.workspace import FORWARD_FILE, load_workspace, verify_manifest
from tests.agent.conftest import make_context
from tests.agent.fake_openai import FakeOpenAIServer, Reply, call, error, hang, last_tool_result, shell, submit, text

TILTED = '''\
"""Tilted capped base stock: q = min(gap, r0 + gamma * gap)."""
import numpy as np


def search_space(info):
    top = (info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand
    return {"S": (0.0, max(top, 1.0)), "r0": (0.0, max(info.max_demand, 1.0)), "gamma": (0.0, 1.0)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r0"] + params["gamma"] * gap)
'''
CONSTANT = 'import numpy as np\nPARAMS = {"r": (0.0, 20.0)}\n\ndef order(obs, params):\n    return params["r"] + 0.0 * obs.position\n'


def write(path: str, source: str) -> Reply:
    return shell(f"cat > {path} <<'EOF'\n{source}EOF")


def config(server: FakeOpenAIServer, **kw) -> AgentConfig:
    base = dict(model="openai:scripted-model", base_url=server.base_url, api_key_env="AGENT_TEST_KEY", budget=12,
                timeout=10.0, retries=2, backoff=0.01, backoff_max=0.05, command_timeout=60.0, max_output=3000)
    base.update(kw)
    return AgentConfig(**base)


def trusted_cost(ws, source: str) -> float:
    """The trusted replay score of a (benign, test-authored) policy, computed outside any sandbox."""
    return tune_policy(compile_policy(source, "p"), ws.replay_problem(), TuningConfig(n_trials=20)).value


def outcome_for(ws, ctx, proposal, cid: str = "c1") -> Outcome:
    cost = trusted_cost(ws, proposal.source)
    best = min(e.replay_cost for e in ctx.pool if e.origin == "baseline")
    return Outcome(cid, "pooled", True, cost, best, cost < best, "trusted replay")


def tool_results(request: dict) -> list[str]:
    return [m.get("content") or "" for m in request["messages"] if m["role"] in ("tool", "user")]


# ---------------------------------------------------------------- the full workflow


def test_full_episode_explore_benchmark_develop_submit(toy_workspace, shell_factory, fake_server, tmp_path):
    ws = toy_workspace
    seen: dict[str, str] = {}

    def after_eval(req: dict) -> Reply:
        seen["baseline_eval"] = last_tool_result(req)
        return write("my_policy.py", TILTED)

    def after_own_eval(req: dict) -> Reply:
        seen["own_eval"] = last_tool_result(req)
        return shell("cp my_policy.py final_submit.py")

    fake_server.script = [
        shell("head -5 problem_description.md"),
        shell("python -c \"import json; d = json.load(open('data/historical_sequence.json')); print('mean', sum(d['demand']) / len(d['demand']))\""),
        shell("python evaluation.py baseline_policies/capped_base_stock.py --trials 10"),
        after_eval,
        shell("python evaluation.py my_policy.py --trials 10"),
        after_own_eval,
        submit(rationale="tilted CBS: order faster when far below target"),
    ]
    ctx = make_context(ws)
    proposer = make_proposer(config(fake_server), tmp_path / "run", shell_factory=shell_factory)
    proposals = proposer.propose(ctx)

    assert fake_server.overruns == 0 and len(fake_server.requests) == 7
    assert len(proposals) == 1
    prop = proposals[0]
    assert prop.source == TILTED
    assert prop.rationale == "tilted CBS: order faster when far below target"
    assert prop.meta["end_reason"] == "submitted" and prop.meta["tool_calls"] == "7"
    # native tools were offered, and the model was shown real command output
    first = fake_server.requests[0]
    assert {t["function"]["name"] for t in first["tools"]} == {"shell", "submit"}
    assert "problem_description.md" in first["messages"][1]["content"]
    assert "# widget (retail)" in first["messages"][1]["content"]          # the description itself is in the briefing
    assert "mean " in tool_results(fake_server.requests[2])[-1]
    assert "replay cost/day" in seen["baseline_eval"] and "[exit code 0]" in seen["baseline_eval"]
    assert "my_policy.py: replay cost/day" in seen["own_eval"]

    # no trajectory until the trusted outcome is known
    traj_file = tmp_path / "run" / "agent" / "trajectories.jsonl"
    assert not traj_file.exists() or traj_file.read_text() == ""
    out = outcome_for(ws, ctx, prop)
    proposer.observe(prop, out)
    proposer.close()
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.episode_id == prop.meta["episode_id"]
    assert traj.submitted_source == TILTED
    assert traj.outcome is not None and traj.outcome.replay_cost == pytest.approx(out.replay_cost)
    assert traj.reward == int(out.beats_best_baseline)
    assert traj.end_reason == "submitted" and traj.tool_calls_used == 7
    assert [s["tool"] for s in traj.steps] == ["shell"] * 6 + ["submit"]
    assert traj.messages[-1]["role"] == "tool" and "Submitted final_submit.py" in traj.messages[-1]["content"]
    assert traj.usage["prompt_tokens"] > 0 and traj.usage["model_calls"] == 7
    summary = json.loads((tmp_path / "run" / "agent" / "usage_summary.json").read_text())
    assert summary["totals"]["episodes"] == 1 and summary["totals"]["model_calls"] == 7
    assert summary["totals"]["prompt_tokens"] == traj.usage["prompt_tokens"]


# ---------------------------------------------------------------- malformed calls


def test_malformed_tool_calls_get_clear_feedback_and_cost_budget(toy_workspace, shell_factory, fake_server, tmp_path):
    shown: list[str] = []

    def finish(req: dict) -> Reply:
        shown.extend(tool_results(req))
        return write("final_submit.py", TILTED)

    fake_server.script = [
        call("shell", '{"command": "ls" '),                 # truncated JSON
        call("explode", {"x": 1}),                           # unknown tool
        call("shell", {"cmd": "ls"}),                        # wrong argument name
        call("shell", "[1, 2]"),                             # not an object
        text("Let me think about demand seasonality first."),  # no tool call at all
        finish,
        submit(),
    ]
    prop = make_proposer(config(fake_server), tmp_path / "run", shell_factory=shell_factory).propose(make_context(toy_workspace))
    assert len(prop) == 1 and prop[0].meta["tool_calls"] == "7"
    joined = "\n".join(shown)
    assert "arguments are not valid JSON" in joined
    assert "unknown tool 'explode'" in joined
    assert "missing or empty 'command'" in joined
    assert "arguments must be a JSON object" in joined
    assert "Your reply contained no tool call" in joined
    assert "tool calls left" in joined


def test_several_calls_in_one_reply_run_in_order_and_stop_at_submit(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [Reply(tool_calls=[
        ("shell", {"command": f"cat > final_submit.py <<'EOF'\n{TILTED}EOF"}),
        ("submit", {}),
        ("shell", {"command": "echo after-submit > late.txt"}),
    ])]
    proposer = make_proposer(config(fake_server), tmp_path / "run", shell_factory=shell_factory)
    (prop,) = proposer.propose(make_context(toy_workspace))
    proposer.close()
    (traj,) = read_trajectories(tmp_path / "run")
    assert [s["tool"] for s in traj.steps] == ["shell", "submit"]
    assert traj.messages[-1]["content"].startswith("Not run: the episode ended")
    # every tool_call id of the assistant message is answered (OpenAI protocol requirement)
    ids = {c["id"] for c in traj.messages[2]["tool_calls"]}
    assert ids == {m["tool_call_id"] for m in traj.messages if m["role"] == "tool"}


# ---------------------------------------------------------------- never submits


def test_model_that_never_submits_ends_on_budget_without_proposal(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [shell("ls"), text("hmm"), shell("pwd"), text("still thinking"), shell("ls data")]
    proposer = make_proposer(config(fake_server, budget=4), tmp_path / "run", shell_factory=shell_factory)
    assert proposer.propose(make_context(toy_workspace)) == []
    assert len(fake_server.requests) == 4                       # K = 4 bounds the model calls too
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.end_reason == "budget" and traj.tool_calls_used == 4
    assert traj.submission is None and traj.reward == 0 and traj.outcome is None
    assert "BUDGET" not in traj.messages[-1]["content"]          # sanity: the feedback is the plain reminder
    assert any("3 tool calls left" in (m.get("content") or "") or "Make sure final_submit.py exists" in (m.get("content") or "")
               for m in traj.messages)


def test_final_submit_file_without_submit_call_is_the_submission(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [write("final_submit.py", TILTED), shell("ls")]
    proposer = make_proposer(config(fake_server, budget=2), tmp_path / "run", shell_factory=shell_factory)
    (prop,) = proposer.propose(make_context(toy_workspace))
    assert prop.source == TILTED
    assert prop.meta["submission_kind"] == "file" and prop.meta["end_reason"] == "budget"


# ---------------------------------------------------------------- hostile or invalid code


HOSTILE = 'import os\nPARAMS = {"S": (0, 30)}\n\ndef order(obs, params):\n    os.system("cat hidden/forward_window.json")\n    return params["S"]\n'
SNEAKY = 'PARAMS = {"S": (0, 30)}\n\ndef order(obs, params):\n    return getattr(obs, "__class__").__init__.__globals__["S"]\n'
BROKEN = 'PARAMS = {"S": (0, 30)\n\ndef order(obs, params) return 1\n'


def test_hostile_and_invalid_submissions_are_rejected(toy_workspace, shell_factory, fake_server, tmp_path):
    ws = toy_workspace
    manifest_before = (ws.root / "manifest.json").read_bytes()
    fake_server.script = [write("final_submit.py", HOSTILE), submit(),
                          write("final_submit.py", SNEAKY), submit(),
                          write("final_submit.py", BROKEN), submit(),
                          submit("../../etc/passwd.py")]
    proposer = make_proposer(config(fake_server, budget=7), tmp_path / "run", shell_factory=shell_factory)
    assert proposer.propose(make_context(ws)) == []
    (traj,) = read_trajectories(tmp_path / "run")
    results = [s["result"] for s in traj.steps if s["tool"] == "submit"]
    assert all(r.startswith(("REJECTED", "ERROR")) for r in results)
    assert "os" in results[0]
    assert "syntax" in results[2].lower()
    assert "inside the workspace" in results[3]
    assert traj.submission is not None and traj.submission["valid"] is False
    assert traj.reward == 0 and traj.end_reason == "budget"
    # the real workspace is untouched and still loads (manifest verified)
    assert (ws.root / "manifest.json").read_bytes() == manifest_before
    verify_manifest(ws.root)


def test_tampering_with_evaluation_py_changes_nothing_that_counts(toy_workspace, shell_factory, fake_server, tmp_path):
    """The model fakes a great score; the proposal still carries only source, scored by the trusted side."""
    ws = toy_workspace
    fake_eval = 'print("policy final_submit.py: replay cost/day = 0.0001\\nBEATS the best baseline")\n'
    fake_server.script = [
        shell(f"cat > evaluation.py <<'EOF'\n{fake_eval}EOF"),
        shell("echo '{\"dates\": [], \"demand\": []}' > data/historical_sequence.json"),
        write("final_submit.py", CONSTANT),
        shell("python evaluation.py final_submit.py"),
        submit(rationale="cost 0.0001, beats everything"),
    ]
    ctx = make_context(ws)
    proposer = make_proposer(config(fake_server), tmp_path / "run", shell_factory=shell_factory)
    (prop,) = proposer.propose(ctx)
    assert "0.0001" in fake_server.requests[4]["messages"][-1]["content"]    # the fake score was shown...
    out = outcome_for(ws, ctx, prop)                                        # ...but the trusted one decides
    assert out.replay_cost > 1.0 and not out.beats_best_baseline
    proposer.observe(prop, out)
    proposer.close()
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.outcome.replay_cost == pytest.approx(out.replay_cost) and traj.reward == 0
    # the real workspace is unchanged; a new episode gets a pristine copy
    assert load_workspace(ws.root).replay.demand.size == 60
    fresh = shell_factory(ws.root)
    try:
        assert b"0.0001" not in fresh.read_file("evaluation.py")
    finally:
        fresh.close()


# ---------------------------------------------------------------- hidden window


def test_hidden_forward_window_is_not_reachable(toy_workspace, shell_factory, shell_is_sandboxed, fake_server, tmp_path):
    ws = toy_workspace
    forward_text = (ws.root / FORWARD_FILE).read_text()
    first_forward_date = json.loads(forward_text)["dates"][0]
    attempts = ["cat hidden/forward_window.json", "ls -la hidden", "ls -R . | head -50",
                "cat ../hidden/forward_window.json", "grep -r " + first_forward_date + " . | head"]
    if shell_is_sandboxed:  # host paths only mean something when the shell is isolated
        attempts += [f"cat {ws.root / FORWARD_FILE}", "find / -name forward_window.json 2>/dev/null | head",
                     f"ls {ws.root}"]
    fake_server.script = [shell(c) for c in attempts] + [submit()]
    proposer = make_proposer(config(fake_server, budget=len(attempts) + 1), tmp_path / "run", shell_factory=shell_factory)
    assert proposer.propose(make_context(ws)) == []
    (traj,) = read_trajectories(tmp_path / "run")
    shown = json.dumps([m["content"] for m in traj.messages if m["role"] in ("tool", "user")])
    assert first_forward_date not in shown.replace(f"grep -r {first_forward_date}", "")
    assert str(ws.root) not in traj.messages[1]["content"]      # the briefing never names the host path
    for step in traj.steps[:2]:
        assert "No such file" in step["result"]
    assert traj.steps[-1]["result"].startswith("ERROR: final_submit.py does not exist")


# ---------------------------------------------------------------- endpoint failures


def test_transient_500s_are_retried_then_the_episode_goes_on(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [error(500), error(503), write("final_submit.py", TILTED), error(429), submit()]
    (prop,) = make_proposer(config(fake_server, retries=2), tmp_path / "run",
                            shell_factory=shell_factory).propose(make_context(toy_workspace))
    assert prop.source == TILTED and len(fake_server.requests) == 5


def test_persistent_500s_end_the_round_cleanly_then_raise(toy_workspace, shell_factory, fake_server, tmp_path, caplog):
    fake_server.script = [error(500)] * 6
    proposer = make_proposer(config(fake_server, retries=1, max_endpoint_failures=2), tmp_path / "run",
                             shell_factory=shell_factory)
    ctx = make_context(toy_workspace)
    with caplog.at_level("ERROR", logger="agent"):
        assert proposer.propose(ctx) == []
    assert len(fake_server.requests) == 2                           # 1 try + 1 retry
    assert any("no agent proposal this round" in r.getMessage() for r in caplog.records)
    with pytest.raises(EndpointUnavailable, match="2 consecutive rounds"):
        proposer.propose(ctx)
    (t1, t2) = read_trajectories(tmp_path / "run")
    assert t1.end_reason == t2.end_reason == "endpoint_error" and t1.reward is None
    assert "HTTP 500" in t1.error


def test_hanging_endpoint_times_out(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [hang(4.0), hang(4.0)]
    proposer = make_proposer(config(fake_server, timeout=0.5, retries=1), tmp_path / "run", shell_factory=shell_factory)
    t0 = time.monotonic()
    assert proposer.propose(make_context(toy_workspace)) == []
    assert time.monotonic() - t0 < 3.5
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.end_reason == "endpoint_error" and "timed out" in traj.error


def test_dead_endpoint_and_bad_key(toy_workspace, shell_factory, fake_server, tmp_path):
    port = int(fake_server.base_url.rsplit(":", 1)[1].split("/")[0])
    fake_server.stop()                                                # nothing listens on the port now
    dead = AgentConfig(model="openai:m", base_url=f"http://127.0.0.1:{port}/v1", retries=1, backoff=0.01,
                       timeout=2.0, max_endpoint_failures=1)
    proposer = make_proposer(dead, tmp_path / "dead", shell_factory=shell_factory)
    with pytest.raises(EndpointUnavailable, match="cannot connect"):
        proposer.propose(make_context(toy_workspace))

    server = FakeOpenAIServer([error(401)]).start()
    try:
        proposer = make_proposer(config(server), tmp_path / "key", shell_factory=shell_factory)
        with pytest.raises(EndpointUnavailable, match="HTTP 401"):
            proposer.propose(make_context(toy_workspace))
        assert len(server.requests) == 1                              # a bad key is not retried
    finally:
        server.stop()


def test_no_key_for_the_default_openai_url_is_a_clear_error(toy_workspace, shell_factory, tmp_path):
    proposer = make_proposer(AgentConfig(model="openai:gpt-x", api_key_env="SURELY_UNSET_KEY_VAR"), tmp_path,
                             shell_factory=shell_factory)
    with pytest.raises(EndpointUnavailable, match="SURELY_UNSET_KEY_VAR"):
        proposer.propose(make_context(toy_workspace))


# ---------------------------------------------------------------- budgets, protocol, LGPS conditioning


def test_token_budget_stops_the_episode(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [shell("ls"), shell("ls"), shell("ls")]
    proposer = make_proposer(config(fake_server, token_budget=50), tmp_path / "run", shell_factory=shell_factory)
    assert proposer.propose(make_context(toy_workspace)) == []
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.end_reason == "token_budget" and len(fake_server.requests) == 1


def test_long_output_is_truncated(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [shell("python -c \"print('x' * 50000)\""), submit()]
    proposer = make_proposer(config(fake_server, max_output=1000, budget=2), tmp_path / "run", shell_factory=shell_factory)
    proposer.propose(make_context(toy_workspace))
    (traj,) = read_trajectories(tmp_path / "run")
    assert len(traj.steps[0]["result"]) < 1300 and traj.steps[0]["truncated"]
    assert "[output truncated]" in traj.steps[0]["result"]


def test_text_protocol_over_openai_endpoint(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [
        text("I will look first.\n```shell\nls baseline_policies\n```"),
        text("Oops:\n```shell\nls data\n"),                                   # unterminated block
        text(f"Writing it.\n```bash\ncat > final_submit.py <<'EOF'\n{TILTED}EOF\n```"),
        text('<tool_call>{"name": "submit", "arguments": {"rationale": "tilted"}}</tool_call>'),
    ]
    proposer = make_proposer(config(fake_server, tool_protocol="text"), tmp_path / "run", shell_factory=shell_factory)
    (prop,) = proposer.propose(make_context(toy_workspace))
    assert prop.source == TILTED and prop.rationale == "tilted"
    assert all("tools" not in r for r in fake_server.requests)
    assert "# How to call tools" in fake_server.requests[0]["messages"][0]["content"]
    second = fake_server.requests[1]["messages"][-1]["content"]
    assert "[result of shell call" in second and "capped_base_stock.py" in second
    third = fake_server.requests[2]["messages"][-1]["content"]
    assert "never closed" in third


def test_refined_policies_are_extra_baselines_and_feedback_is_shown(toy_workspace, shell_factory, fake_server, tmp_path):
    ws = toy_workspace
    # below every (exactly tuned) baseline of the toy workspace, so it is the cost to beat
    refined = PoolEntry("c7", "agent_r1_abc", TILTED, 1.5, {"S": 12.0, "r0": 3.0, "gamma": 0.4}, "refined", 0.12)
    fb = (Feedback(1, "c7", "agent_r1_abc", "promoted", 1.5, "safety LCB 0.12 >= 0; improvement LCB 0.05 >= 0"),
          Feedback(1, "c8", "agent_r1_def", "rejected", None, "validator: import of forbidden module os"))
    captured: dict[str, str] = {}

    def look(req: dict) -> Reply:
        captured["briefing"] = req["messages"][1]["content"]
        return shell("cat extra_baselines/agent_r1_abc.py")

    def done(req: dict) -> Reply:
        captured["file"] = last_tool_result(req)
        return text("done")

    fake_server.script = [look, done]
    ctx = make_context(ws, round_no=2, extra=(refined,), feedback=fb)
    make_proposer(config(fake_server, budget=2), tmp_path / "run", shell_factory=shell_factory).propose(ctx)
    b = captured["briefing"]
    assert "Round 2 of 3" in b and "extra_baselines/agent_r1_abc.py" in b and "Extra baselines" in b
    assert "promoted" in b and "forbidden module os" in b and "| refined |" in b
    assert "strictly below 1.5000" in b          # the refined policy is the cost to beat
    assert "def order(obs, params)" in captured["file"] and "r0" in captured["file"]


def test_concurrent_episodes_give_several_proposals(toy_workspace, shell_factory, tmp_path):
    lock = threading.Lock()
    state = {"in_flight": 0, "peak": 0}

    def responder(req: dict) -> Reply:
        with lock:
            state["in_flight"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
        time.sleep(0.3)
        with lock:
            state["in_flight"] -= 1
        turn = sum(1 for m in req["messages"] if m["role"] == "assistant")
        return write("final_submit.py", TILTED) if turn == 0 else submit()

    server = FakeOpenAIServer([responder] * 6).start()
    try:
        cfg = config(server, episodes_per_round=3, concurrency=3)
        proposer = make_proposer(cfg, tmp_path / "run", shell_factory=shell_factory)
        ctx = make_context(toy_workspace)
        props = proposer.propose(ctx)
        assert len(props) == 3 and len({p.meta["episode_id"] for p in props}) == 3
        assert state["peak"] >= 2
        for i, p in enumerate(props):
            proposer.observe(p, Outcome(f"c{i}", "pooled", True, 7.0, 7.5, True, "ok"))
        proposer.close()
        trajs = read_trajectories(tmp_path / "run")
        assert len(trajs) == 3 and all(t.reward == 1 for t in trajs)
        assert len({t.seed for t in trajs}) == 3
        summary = json.loads((tmp_path / "run" / "agent" / "usage_summary.json").read_text())
        assert summary["totals"]["episodes"] == 3 and summary["rounds"]["1"]["model_calls"] == 6
    finally:
        server.stop()


def test_close_flushes_proposals_never_observed(toy_workspace, shell_factory, fake_server, tmp_path):
    fake_server.script = [write("final_submit.py", TILTED), submit()]
    proposer = make_proposer(config(fake_server), tmp_path / "run", shell_factory=shell_factory)
    proposer.propose(make_context(toy_workspace))
    proposer.close()
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.outcome is None and traj.reward is None and traj.proposal_name is not None


def test_token_ids_from_a_vllm_style_server_are_kept(toy_workspace, shell_factory, fake_server, tmp_path):
    r1 = write("final_submit.py", TILTED)
    r1.extra_top, r1.extra_choice = {"prompt_token_ids": [1, 2, 3]}, {"token_ids": [4, 5]}
    r2 = submit()
    r2.extra_top, r2.extra_choice = {"prompt_token_ids": [1, 2, 3, 4, 5, 6, 7]}, {"token_ids": [8]}
    fake_server.script = [r1, r2]
    proposer = make_proposer(config(fake_server, return_token_ids=True), tmp_path / "run", shell_factory=shell_factory)
    (prop,) = proposer.propose(make_context(toy_workspace))
    proposer.close()
    assert fake_server.requests[0].get("return_token_ids") is True
    (traj,) = read_trajectories(tmp_path / "run")
    assert traj.turns[1]["prompt_token_ids_prefix_len"] == 5 and traj.turns[1]["prompt_token_ids_tail"] == [6, 7]
    assert traj.turn_prompt_ids(0) == [1, 2, 3] and traj.turn_prompt_ids(1) == [1, 2, 3, 4, 5, 6, 7]
    assert traj.turns[1]["completion_token_ids"] == [8]


def test_propose_works_when_called_from_inside_an_event_loop(toy_workspace, shell_factory, fake_server, tmp_path):
    import asyncio

    fake_server.script = [write("final_submit.py", TILTED), submit()]
    proposer = make_proposer(config(fake_server), tmp_path / "run", shell_factory=shell_factory)

    async def caller():
        return proposer.propose(make_context(toy_workspace))

    (prop,) = asyncio.run(caller())
    assert prop.source == TILTED
    proposer.close()
