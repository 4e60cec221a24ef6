"""SFT warm start: only trajectories that beat the best baseline, assistant turns in the loss, one real step."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("trl")

from agent.trajectory import read_trajectories
from tests.training.conftest import WINNING_POLICY
from tests.training.scripted import write_trajectories
from training.config import ConfigError, TrainConfig
from training.models import eos_ids, load_tokenizer
from training.sft import SFT_METRICS, sft_dataset, tokenize_trajectory, train_sft

WRITE = {"command": "cat > final_submit.py <<'EOF'\n" + WINNING_POLICY + "EOF"}
NATIVE_WIN = [("Let me see the data.", [("shell", {"command": "head -n 2 problem_description.md"})]),
              ("Writing the policy.", [("shell", WRITE)]),
              ("", [("submit", {"path": "final_submit.py", "rationale": "promotion-aware base stock"})])]
NATIVE_LOSE = [("", [("shell", {"command": "ls"})]), ("", [("shell", WRITE)]), ("", [("submit", {})])]
TEXT_WIN = ["```shell\nls baseline_policies\n```", "```shell\n" + WRITE["command"] + "\n```", "```submit\nfinal_submit.py\n```"]


@pytest.fixture(scope="module")
def trajectories(tmp_path_factory, promo_workspace, shell_factory) -> Path:
    run = tmp_path_factory.mktemp("evolve_run")
    write_trajectories(run, promo_workspace, [(NATIVE_WIN, True), (NATIVE_LOSE, False)], shell_factory, native=True)
    write_trajectories(run, promo_workspace, [(TEXT_WIN, True)], shell_factory, native=False)
    return run


def test_only_improved_trajectories_become_examples(trajectories, tiny_model):
    tok = load_tokenizer(tiny_model)
    recs = read_trajectories(trajectories)
    assert [t.reward for t in recs] == [1, 0, 1] and [t.tool_protocol for t in recs] == ["native", "native", "text"]
    data = sft_dataset([trajectories], tok, eos_ids(tiny_model, tok), 100_000)
    assert (data.read, data.improved, data.too_long, len(data.examples)) == (3, 2, 0, 2)
    short = sft_dataset([trajectories], tok, eos_ids(tiny_model, tok), 50)
    assert short.too_long == 2 and not short.examples


def test_assistant_turns_are_the_only_trained_tokens(trajectories, tiny_model):
    tok = load_tokenizer(tiny_model)
    native = read_trajectories(trajectories)[0]
    ex = tokenize_trajectory(native, tok, eos_ids(tiny_model, tok))
    ids, mask = ex["input_ids"], ex["assistant_masks"]
    assert len(ids) == len(mask) and 0 < sum(mask) < len(mask)
    trained = tok.decode([t for t, m in zip(ids, mask) if m])
    untrained = tok.decode([t for t, m in zip(ids, mask) if not m])
    # native tool calls were rewritten as the text protocol's fenced blocks
    assert "```shell\nhead -n 2 problem_description.md\n```" in trained and "```submit\n" in trained
    assert "def order(obs, params)" in trained
    assert "[result of shell call" in untrained and "Daily replenishment" in untrained   # tool output: no loss
    assert "Daily replenishment" not in trained and "You are an operations-research engineer" in untrained
    assert ids[-1] == tok.eos_token_id


def test_one_sft_step(trajectories, tiny_model, tmp_path):
    cfg = TrainConfig().override(model={"path": str(tiny_model), "device": "cpu"},
                                 sft={"max_steps": 1, "batch_size": 1, "gradient_accumulation_steps": 1,
                                      "learning_rate": 1e-3, "max_length": 20000},
                                 grpo={"gradient_checkpointing": False})
    final = train_sft(cfg, tmp_path / "sft", [trajectories])
    from transformers import AutoModelForCausalLM

    before = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    after = AutoModelForCausalLM.from_pretrained(str(final))
    diff = sum(float((a - b).detach().abs().sum()) for a, b in zip(before.parameters(), after.parameters()))
    assert diff > 0
    (line,) = [json.loads(x) for x in (tmp_path / "sft" / SFT_METRICS).read_text().splitlines()]
    assert line["step"] == 1 and math.isfinite(line["loss"])
    assert load_tokenizer(final).chat_template


def test_no_improved_trajectory_is_a_clear_error(trajectories, tiny_model, tmp_path):
    only_losers = tmp_path / "losers.jsonl"
    lines = (trajectories / "agent" / "trajectories.jsonl").read_text().splitlines()
    only_losers.write_text(lines[1] + "\n")
    cfg = TrainConfig().override(model={"path": str(tiny_model), "device": "cpu"}, sft={"max_steps": 1})
    with pytest.raises(ConfigError, match="no SFT examples: 1 trajectories read, 0 improved"):
        train_sft(cfg, tmp_path / "sft", [only_losers])
    with pytest.raises(ConfigError, match="neither a trajectory"):
        train_sft(cfg, tmp_path / "sft2", [tmp_path / "missing"])
