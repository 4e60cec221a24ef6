"""Class 5 (agent side): an endpoint that sends broken replies ends an episode cleanly, never the run."""
from __future__ import annotations

import pytest

from agent import AgentConfig, make_proposer
from agent.trajectory import read_trajectories
from tests.agent.conftest import make_context
from tests.agent.fake_openai import FakeOpenAIServer, Reply, shell, submit

GOOD = 'import numpy as np\nPARAMS = {"r": (0.0, 20.0)}\n\ndef order(obs, params):\n    return params["r"] + 0.0 * obs.position\n'


def _config(server: FakeOpenAIServer, **kw) -> AgentConfig:
    base = dict(model="openai:scripted-model", base_url=server.base_url, api_key_env="AGENT_TEST_KEY", budget=6,
                timeout=5.0, retries=1, backoff=0.01, backoff_max=0.02, command_timeout=30.0, max_output=3000)
    base.update(kw)
    return AgentConfig(**base)


BROKEN = {
    "truncated-json": Reply(raw_body=b'{"id": "x", "object": "chat.completion", "choices": [{"index": 0, "mess'),
    "not-json": Reply(raw_body=b"<html>bad gateway</html>"),
    "message-null": Reply(message=None),
    "choices-not-a-list": Reply(raw_body=b'{"id": "x", "object": "chat.completion", "model": "m", "choices": 3}'),
    "arguments-object": Reply(message={"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": {"command": "ls"}}}]}),
    "arguments-number": Reply(message={"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": 42}}]}),
    "name-null": Reply(message={"role": "assistant", "content": None, "tool_calls": [
        {"id": None, "type": "function", "function": {"name": None, "arguments": "{}"}}]}),
    "content-list": Reply(message={"role": "assistant", "content": [{"type": "text", "text": "hi"}]}),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_reply_is_survived_and_the_episode_goes_on(kind, toy_workspace, shell_factory, tmp_path):
    """One broken reply (then the endpoint recovers): the agent still submits; nothing raises."""
    server = FakeOpenAIServer([BROKEN[kind], shell(f"cat > final_submit.py <<'EOF'\n{GOOD}EOF"), submit()]).start()
    prop = make_proposer(_config(server), tmp_path / "run", shell_factory=shell_factory)
    try:
        proposals = prop.propose(make_context(toy_workspace))
    finally:
        prop.close()
        server.stop()
    assert len(proposals) == 1 and proposals[0].source == GOOD
    trajs = read_trajectories(tmp_path / "run")
    assert len(trajs) == 1 and trajs[0].end_reason == "submitted"


@pytest.mark.parametrize("kind", ["truncated-json", "message-null", "arguments-object"])
def test_endpoint_that_only_sends_broken_replies_ends_the_round_cleanly(kind, toy_workspace, shell_factory, tmp_path):
    server = FakeOpenAIServer([BROKEN[kind]] * 20).start()
    prop = make_proposer(_config(server, budget=3), tmp_path / "run", shell_factory=shell_factory)
    try:
        proposals = prop.propose(make_context(toy_workspace))
    finally:
        prop.close()
        server.stop()
    assert proposals == []
    trajs = read_trajectories(tmp_path / "run")
    assert len(trajs) == 1 and trajs[0].reward in (0, None)


def test_a_huge_reply_is_capped_before_it_is_stored_or_sent_back(toy_workspace, shell_factory, tmp_path):
    from agent.hygiene import reply_char_limit

    huge = "x" * 3_000_000
    server = FakeOpenAIServer([Reply(content=huge), shell("echo " + "y" * 400_000),
                               shell(f"cat > final_submit.py <<'EOF'\n{GOOD}EOF"), submit()]).start()
    prop = make_proposer(_config(server, max_tokens=1000), tmp_path / "run", shell_factory=shell_factory)
    try:
        proposals = prop.propose(make_context(toy_workspace))
    finally:
        prop.close()
        server.stop()
    assert len(proposals) == 1
    limit = reply_char_limit(1000)
    for req in server.requests[1:]:
        for m in req["messages"]:
            assert len(m.get("content") or "") <= limit + 200
            for c in m.get("tool_calls") or ():
                assert len(c["function"]["arguments"]) <= limit + 200
    size = (tmp_path / "run" / "agent" / "trajectories.jsonl").stat().st_size
    assert size < 8 * limit, f"trajectory of {size} bytes for a capped episode"
