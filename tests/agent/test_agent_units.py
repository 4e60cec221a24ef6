"""Unit tests: text tool protocol, config, trajectory format, validation, truncation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import AgentConfig, ConfigError, ModelSpec, make_proposer_from_cli
from agent.llm.base import decode_arguments
from agent.llm.text_protocol import parse_tool_calls, render_messages, tool_manual
from agent.tools import TOOLS, truncate_middle
from agent.trajectory import (
    FORMAT, TrajectoryFormatError, TrajectoryWriter, compress_prompt_ids, parse_record, read_trajectories,
)
from agent.validation import fallback_check, validate_submission

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- text protocol


def test_fenced_shell_block_body_is_the_command_verbatim():
    text = "Plan.\n```shell\ncat > p.py <<'EOF'\nx = {\"a\": 1}\nEOF\n```\nthen wait"
    res = parse_tool_calls(text, TOOLS)
    (c,) = res.calls
    assert c.name == "shell" and c.error is None
    assert c.arguments == {"command": "cat > p.py <<'EOF'\nx = {\"a\": 1}\nEOF"}


def test_aliases_json_bodies_tagged_calls_and_order():
    text = ('```bash\nls\n```\n'
            '<tool_call>{"name": "shell", "arguments": {"command": "pwd"}}</tool_call>\n'
            '```submit\n{"path": "mine.py", "rationale": "r"}\n```\n'
            '```tool_call\n{"name": "submit", "arguments": "{\\"path\\": \\"x.py\\"}"}\n```')
    calls = parse_tool_calls(text, TOOLS).calls
    assert [(c.name, c.arguments) for c in calls] == [
        ("shell", {"command": "ls"}), ("shell", {"command": "pwd"}),
        ("submit", {"path": "mine.py", "rationale": "r"}), ("submit", {"path": "x.py"})]
    assert len({c.id for c in calls}) == 4


def test_submit_block_with_a_path_and_empty_submit():
    assert parse_tool_calls("```submit\nfinal_submit.py\n```", TOOLS).calls[0].arguments == {"path": "final_submit.py"}
    assert parse_tool_calls("```submit\n```", TOOLS).calls[0].arguments == {}


def test_parse_failures_are_explained():
    bad_json = parse_tool_calls('<tool_call>{"name": "shell", "arguments": {"command": }</tool_call>', TOOLS)
    assert bad_json.calls[0].error and "not valid JSON" in bad_json.calls[0].error
    unclosed = parse_tool_calls('<tool_call>{"name": "shell"', TOOLS)
    assert "not closed" in unclosed.calls[0].error
    no_name = parse_tool_calls('```tool_call\n{"arguments": {}}\n```', TOOLS)
    assert "needs a string \"name\"" in no_name.calls[0].error
    unterminated = parse_tool_calls("```shell\nls -la\n", TOOLS)
    assert unterminated.calls == () and "never closed" in unterminated.error
    python_only = parse_tool_calls("```python\nprint(1)\n```", TOOLS)
    assert python_only.calls == () and "python" in python_only.error and "```shell" in python_only.error
    plain = parse_tool_calls("I am thinking.", TOOLS)
    assert plain.calls == () and plain.error is None


def test_plain_json_blocks_are_not_calls():
    assert parse_tool_calls('```json\n{"demand": [1, 2]}\n```', TOOLS).calls == ()


def test_render_messages_for_text_models():
    msgs = [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": "brief"},
        {"role": "assistant", "content": "```shell\nls\n```", "tool_calls": [
            {"id": "t1_1", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1_1", "content": "a.txt"},
        {"role": "user", "content": "no tool call"},
    ]
    out = render_messages(msgs, TOOLS)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("SYS") and "# How to call tools" in out[0]["content"]
    assert out[3]["content"].startswith("[result of shell call t1_1]\na.txt") and out[3]["content"].endswith("no tool call")
    assert all(set(m) == {"role", "content"} for m in out)
    assert "`command`" in tool_manual(TOOLS)


def test_decode_arguments():
    assert decode_arguments('{"a": 1}') == ({"a": 1}, None)
    assert decode_arguments("") == ({}, None)
    assert decode_arguments("[1]")[0] is None
    assert "not valid JSON" in decode_arguments("{")[1]


# ---------------------------------------------------------------- config


def test_model_spec_parsing():
    assert ModelSpec.parse("openai:gpt-4o") == ModelSpec("openai", "gpt-4o")
    assert ModelSpec.parse("hf:/m/x.gguf").target == "/m/x.gguf"
    assert ModelSpec.parse("vllm:Qwen/Qwen3-8B:latest").target == "Qwen/Qwen3-8B:latest"
    for bad in ("gpt-4o", "foo:bar", "openai:", ":x"):
        with pytest.raises(ConfigError):
            ModelSpec.parse(bad)


def test_repo_config_file_loads_and_overrides_apply():
    cfg = AgentConfig.from_toml(ROOT / "configs" / "agent.toml", {"model": "hf:smollm2", "budget": 5, "base_url": None})
    assert cfg.model == "hf:smollm2" and cfg.budget == 5 and cfg.text_protocol
    assert cfg.override(budget=None).budget == 5 and cfg.override(budget=9).budget == 9


def test_config_rejects_unknown_keys_keys_in_files_and_bad_values(tmp_path):
    p = tmp_path / "a.toml"
    p.write_text('[agent]\nbudjet = 3\n')
    with pytest.raises(ConfigError, match="unknown agent setting 'budjet'"):
        AgentConfig.from_toml(p)
    p.write_text('[agent]\napi_key = "sk-123"\n')
    with pytest.raises(ConfigError, match="environment"):
        AgentConfig.from_toml(p)
    p.write_text('[agent]\nbudget = 0\n')
    with pytest.raises(ConfigError, match="budget must be an integer >= 1"):
        AgentConfig.from_toml(p)
    with pytest.raises(ConfigError, match="tool_protocol"):
        AgentConfig(model="hf:x", tool_protocol="native")
    with pytest.raises(ConfigError, match="timeout"):
        AgentConfig(timeout=0)


def test_make_proposer_from_cli_takes_search_settings(tmp_path, toy_workspace, shell_factory):
    from types import SimpleNamespace

    evolve_cfg = SimpleNamespace(search=SimpleNamespace(candidates_per_round=2, seed=11), sandbox="none")
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text('[agent]\nbudget = 7\nconcurrency = 2\n')
    prop = make_proposer_from_cli("openai:m", "http://127.0.0.1:9/v1", agent_toml, evolve_cfg, tmp_path / "run")
    try:
        c = prop.config
        assert (c.model, c.base_url, c.budget, c.concurrency, c.episodes_per_round, c.seed) == \
            ("openai:m", "http://127.0.0.1:9/v1", 7, 2, 2, 11)
    finally:
        prop.close()


# ---------------------------------------------------------------- trajectories


def _record(**kw):
    base = {"format": FORMAT, "episode_id": "e1", "workspace": "w", "round": 1, "model": "openai:m", "backend": "openai",
            "tool_protocol": "native", "tools": [], "messages": [{"role": "system", "content": "s"}], "steps": [],
            "turns": [], "usage": {}, "budget": 60, "tool_calls_used": 0, "end_reason": "budget", "submission": None,
            "outcome": None, "reward": 0}
    base.update(kw)
    return base


def test_trajectory_reader_round_trip_and_errors(tmp_path):
    w = TrajectoryWriter(tmp_path / "agent" / "trajectories.jsonl")
    w.write(_record())
    w.write(_record(episode_id="e2", reward=1, future_field=3, outcome={
        "candidate_id": "c1", "status": "promoted", "valid": True, "replay_cost": 1.5, "best_baseline_cost": 2.0,
        "beats_best_baseline": True, "message": "m"}))
    t1, t2 = read_trajectories(tmp_path)
    assert t1.reward == 0 and not t1.improved and t1.outcome is None
    assert t2.improved and t2.outcome.replay_cost == 1.5 and t2.extra == {"future_field": 3}
    with pytest.raises(ValueError):
        w.write({"episode_id": "x"})
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(_record(format="other/9")) + "\n")
    with pytest.raises(TrajectoryFormatError, match="bad.jsonl:1"):
        read_trajectories(bad)
    bad.write_text("{not json\n")
    with pytest.raises(TrajectoryFormatError, match="not JSON"):
        read_trajectories(bad)
    with pytest.raises(TrajectoryFormatError, match="missing fields"):
        parse_record({"format": FORMAT})


def test_prompt_id_compression_round_trips():
    turns = [{"prompt_token_ids": [1, 2, 3], "completion_token_ids": [4]},
             {"prompt_token_ids": [1, 2, 3, 4, 9, 9], "completion_token_ids": [5]},
             {"prompt_token_ids": [7, 7], "completion_token_ids": None},      # template changed: no shared prefix
             {"prompt_token_ids": None, "completion_token_ids": None}]
    comp = compress_prompt_ids(turns)
    assert comp[1]["prompt_token_ids_prefix_len"] == 4 and comp[1]["prompt_token_ids_tail"] == [9, 9]
    assert comp[2]["prompt_token_ids_prefix_len"] == 0
    rec = parse_record(_record(turns=comp))
    assert [rec.turn_prompt_ids(i) for i in range(4)] == [[1, 2, 3], [1, 2, 3, 4, 9, 9], [7, 7], None]


# ---------------------------------------------------------------- validation and truncation


def test_validation_accepts_contract_policies_and_rejects_others():
    good = (ROOT / "inventory" / "library" / "capped_base_stock.py").read_bytes()
    source, check = validate_submission(good)
    assert check.ok and source == good.decode()
    for bad in (b"import subprocess\nPARAMS={}\ndef order(obs, params):\n    return 0\n", b"\xff\xfe", b"   ",
                b"x" * 200_000, b"def order(:\n"):
        assert not validate_submission(bad)[1].ok


def test_fallback_check_catches_what_it_claims():
    assert fallback_check("PARAMS = {}\ndef order(obs, params):\n    return 0\n") == ()
    reasons = fallback_check("import os\nfrom subprocess import run\ndef f(): return eval('1')\nx = ().__class__\n")
    text = " ".join(reasons)
    for needle in ("order(obs, params)", "PARAMS", "'os'", "'subprocess'", "'eval'", "__class__"):
        assert needle in text


def test_truncate_middle_keeps_head_and_tail():
    s = "A" * 100 + "B" * 100
    out, cut = truncate_middle(s, 50)
    assert cut and out.startswith("A" * 30) and out.endswith("B" * 20) and "150 characters cut" in out
    assert truncate_middle("short", 50) == ("short", False)


def test_tool_block_complete_detects_the_end_of_the_first_call():
    from agent.llm.text_protocol import tool_block_complete

    assert not tool_block_complete("Let me look.\n```shell\nls -la", TOOLS)
    assert tool_block_complete("Let me look.\n```shell\nls -la\n```", TOOLS)
    assert tool_block_complete("```bash\nls\n```\nmore", TOOLS)
    assert not tool_block_complete("```python\nprint(1)\n```", TOOLS)
    assert tool_block_complete('<tool_call>{"name": "shell", "arguments": {"command": "ls"}}</tool_call>', TOOLS)
