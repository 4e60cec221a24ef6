"""Class 2 (agent side): no host secret reaches the LLM, a trajectory, a log or the run directory.

An agent run through the real CLI against the scripted OpenAI-compatible server prints the
environment (plain, from /proc, base64-encoded) and submits a policy whose error text is
the evolve process's own environment. The canaries (a secret-looking variable and the
configured API-key variable) must appear nowhere the model, the run directory or the logs
can see. The sandbox starting from an empty environment is the boundary; this is the
defence in depth around it.
"""
from __future__ import annotations

import json
import logging

import pytest

from tests.agent.fake_openai import FakeOpenAIServer, Reply, shell, submit

evolve_cmd = pytest.importorskip("cli.evolve_cmd")

CANARY = "canary-7d41c9e2b0a84f55"
KEY = "sk-canary-key-93be61f0aa2c"
LEAKY = '''import dataclasses
import numpy as np

PARAMS = {"r": (0.0, 20.0)}


def order(obs, params):
    env = dataclasses.sys.modules["os"].environ
    raise ValueError("environment: " + str({k: v for k, v in env.items() if "CANARY" in k or "KEY" in k}))
'''
COMMANDS = ["env", "cat /proc/1/environ; echo; cat /proc/self/environ", "env | base64 -w0",
            f"cat > final_submit.py <<'EOF'\n{LEAKY}EOF", "python3 evaluation.py final_submit.py 2>&1 | tail -5"]


def _model(req: dict) -> Reply:
    turn = sum(1 for m in req["messages"] if m["role"] == "assistant")
    return shell(COMMANDS[turn]) if turn < len(COMMANDS) else submit(rationale="leaky")


@pytest.mark.parametrize("sandbox", ["none", pytest.param("bwrap", marks=pytest.mark.slow)])
def test_env_canary_reaches_nothing_the_agent_llm_or_run_dir_can_see(sandbox, tmp_path, monkeypatch, capfd, caplog):
    from tests.conftest import build_workspace

    ws = build_workspace(tmp_path / "ws", replay=60, forward=20)
    monkeypatch.setenv("INVEVOLVE_CANARY_TOKEN", CANARY)
    monkeypatch.setenv("AGENT_TEST_KEY", KEY)
    server = FakeOpenAIServer([_model] * 10).start()
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text('[agent]\nbudget = 8\ntimeout = 10.0\nretries = 0\napi_key_env = "AGENT_TEST_KEY"\n')
    run_dir = tmp_path / "run"
    caplog.set_level(logging.DEBUG)
    try:
        rc = evolve_cmd.main(["--workspace", str(ws), "--llm", "openai:scripted", "--base-url", server.base_url,
                              "--agent-config", str(agent_toml), "--rounds", "1", "--candidates", "1",
                              "--trials", "5", "--sandbox", sandbox, "--run-dir", str(run_dir), "-v"])
    finally:
        server.stop()
    assert rc == 0
    assert len(server.requests) >= len(COMMANDS) + 1, "the scripted agent did not run every step"
    out, err = capfd.readouterr()
    seen = {"requests to the LLM": json.dumps(server.requests), "stdout": out, "stderr": err, "log": caplog.text}
    for path in run_dir.rglob("*"):
        if path.is_file():
            seen[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for where, text in seen.items():
        for secret in (CANARY, KEY):
            assert secret not in text, f"{secret} leaked into {where}"
    # The leaks were really attempted: where the environment was printed, the values were redacted.
    shown = json.dumps(server.requests)
    assert "INVEVOLVE_CANARY_TOKEN" not in shown or "[REDACTED:INVEVOLVE_CANARY_TOKEN]" in shown
    rows = [json.loads(x) for x in (run_dir / "candidates.jsonl").read_text().splitlines()]
    leaky = [r for r in rows if r["origin"] != "baseline"]
    # The validator may refuse the policy at submission (it reaches `sys` through dataclasses);
    # if it got through, it failed, and its error text was redacted.
    assert len(leaky) <= 1 and all(r["status"] in ("failed", "invalid") for r in leaky)
    if leaky and leaky[0]["status"] == "failed" and sandbox == "none":  # it ran in this process: it saw the env
        assert "[REDACTED:INVEVOLVE_CANARY_TOKEN]" in leaky[0]["error"]


def test_evaluator_error_texts_are_redacted(monkeypatch):
    """A policy that runs where the host's environment is visible (tuning with --sandbox none)
    and puts it in its error: the trusted record keeps the error without the values."""
    from evaluation.hosts import InProcessProvider
    from evaluation.trusted import TrustedEvaluator
    from inventory.tuning import TuningConfig
    from inventory.workspace import load_workspace
    from tests.conftest import build_workspace

    monkeypatch.setenv("INVEVOLVE_CANARY_TOKEN", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        ws = load_workspace(build_workspace(Path(tmp) / "ws", replay=40, forward=0))
        ev = TrustedEvaluator(ws, InProcessProvider(), TuningConfig(n_trials=5))  # no validator: the boundary
        leaky = ("import os\nPARAMS = {'r': (0.0, 5.0)}\ndef order(obs, params):\n"
                 "    raise ValueError(os.environ['INVEVOLVE_CANARY_TOKEN'] + ' ' + os.environ['OPENAI_API_KEY'])\n")
        try:
            rec = ev.evaluate(leaky, "leaky", "leaky")
        finally:
            ev.close()
    assert rec.status == "failed"
    assert CANARY not in rec.error and KEY not in rec.error
    assert "[REDACTED:INVEVOLVE_CANARY_TOKEN] [REDACTED:OPENAI_API_KEY]" in rec.error
