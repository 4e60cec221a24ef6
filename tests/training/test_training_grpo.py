"""GRPO through TRL with the real rollout path: a tiny random Qwen2, sandboxed episodes, the trusted reward.

The random model writes noise, so the rollouts' first tokens are biased (``sequence_bias``,
passed as TRL's ``generation_kwargs``) so that some rollouts of each group open with a
shell call writing a promotion-aware policy that beats every baseline (reward 1) and the
others never do (reward 0): the group advantages, hence the gradient, are non-zero.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("trl")

from tests.training.conftest import WINNING_SCRIPT, forcing_bias
from training.config import ConfigError, TrainConfig
from training.data import training_rows
from training.grpo import build_trainer, last_checkpoint, train_grpo
from training.models import load_tokenizer


def _config(tiny_model: Path, mini_suite: Path, **grpo) -> TrainConfig:
    return TrainConfig().override(
        model={"path": str(tiny_model), "device": "cpu", "threads": 1},
        data={"suite": str(mini_suite)},
        rollout={"budget": 1, "max_tokens_per_turn": 200, "max_sequence_tokens": 4096, "concurrency": 1},
        reward={"trials": 10, "workers": 2},
        grpo={"max_steps": 1, "learning_rate": 1e-3, "gradient_checkpointing": False, "save_steps": 1, **grpo})


def _bias(tiny_model: Path) -> dict:
    return {"sequence_bias": forcing_bias(load_tokenizer(tiny_model), WINNING_SCRIPT, 7.0)}


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_one_grpo_step_changes_the_policy(tiny_model, mini_suite, shell_factory, tmp_path):
    cfg = _config(tiny_model, mini_suite)
    out = tmp_path / "run"
    trainer, _ = build_trainer(cfg, out, shell_factory=shell_factory, generation_kwargs=_bias(tiny_model))
    before = {k: v.detach().clone() for k, v in trainer.model.named_parameters()}
    result = trainer.train()
    assert math.isfinite(result.training_loss)
    changed = sum(float((before[k] - v.detach()).abs().sum()) for k, v in trainer.model.named_parameters())
    assert changed > 0, "the parameters did not move"

    (m,) = _lines(out / "metrics.jsonl")
    assert m["step"] == 1 and m["rollouts"] == 8 and m["unscored"] == 0
    assert 0 < m["reward_mean"] < 1 and m["reward_std"] > 0           # reward variance was forced
    assert m["frac_zero_variance_groups"] < 1
    assert m["kl"] is not None and math.isfinite(m["loss"]) and m["grad_norm"] > 0
    assert m["model_tokens"] > 0 and m["seconds"] > 0 and m["tokens_total"] > 0
    rollouts = _lines(out / "rollouts.jsonl")
    assert len(rollouts) == 8 and {r["group"] for r in rollouts} == {0, 1}
    wins = [r for r in rollouts if r["reward_reward"] == 1.0]
    assert wins and all(r["reward_status"] == "success" and r["reward_margin"] > 0 for r in wins)
    assert m["successes"] == len(wins) and m["reward_mean"] == pytest.approx(len(wins) / 8)
    # Per-group zero-variance share agrees with TRL's own log.
    groups: dict[int, set] = {}
    for r in rollouts:
        groups.setdefault(r["group"], set()).add(r["reward_reward"])
    assert m["frac_zero_variance_groups"] == pytest.approx(sum(len(v) == 1 for v in groups.values()) / len(groups))
    held = {"held_1", "held_2"}
    assert not {Path(r["workspace"]).name for r in rollouts} & held      # never a held-out workspace
    assert "vllm" not in sys.modules                                        # CPU runs never import vLLM


@pytest.mark.slow
def test_checkpoint_and_resume(tiny_model, mini_suite, shell_factory, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="nothing to resume"):
        train_grpo(_config(tiny_model, mini_suite), out, resume=True, shell_factory=shell_factory)
    train_grpo(_config(tiny_model, mini_suite, max_steps=1, num_generations=2), out, shell_factory=shell_factory,
               generation_kwargs=_bias(tiny_model))
    ckpt = last_checkpoint(out)
    assert ckpt is not None and ckpt.name == "checkpoint-1" and (out / "final" / "config.json").exists()
    with pytest.raises(ConfigError, match="--resume"):
        train_grpo(_config(tiny_model, mini_suite, max_steps=2, num_generations=2), out, shell_factory=shell_factory)
    # An interrupted save (no trainer_state.json) is never resumed from.
    (out / "checkpoint-7").mkdir()
    (out / "checkpoint-7" / "config.json").write_text("{}")
    assert last_checkpoint(out) == ckpt
    # A stale metrics line from beyond the checkpoint (the step that was interrupted) is dropped.
    with (out / "metrics.jsonl").open("a") as fh:
        fh.write(json.dumps({"step": 2, "stale": True}) + "\n")
    train_grpo(_config(tiny_model, mini_suite, max_steps=2, num_generations=2), out, resume=True,
               shell_factory=shell_factory,
               generation_kwargs=_bias(tiny_model))
    state = json.loads((last_checkpoint(out) / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and last_checkpoint(out).name == "checkpoint-2"
    steps = [m["step"] for m in _lines(out / "metrics.jsonl")]
    assert steps == [1, 2] and not any(m.get("stale") for m in _lines(out / "metrics.jsonl"))
    assert _lines(out / "metrics.jsonl")[1]["seconds_total"] > _lines(out / "metrics.jsonl")[0]["seconds_total"]


def test_training_rows_of_the_config_exclude_the_test_list(tiny_model, mini_suite):
    cfg = _config(tiny_model, mini_suite)
    names = {r.name for r in training_rows(cfg.data, cfg.rollout.budget)}
    assert names == {"promo_a", "promo_b"}


def test_gpu_generation_goes_through_trls_own_vllm_config():
    """The vLLM paths are TRL's config (no GPU here: the config is checked, vLLM is never imported)."""
    import torch

    from training.config import GenerationBackend
    from training.grpo import grpo_args, per_device_batch, resolve_backend

    cfg = TrainConfig()
    colo = grpo_args(cfg, Path("/tmp/unused"), "cuda", torch.float32, GenerationBackend.VLLM_COLOCATE)
    assert (colo.use_vllm, colo.vllm_mode, colo.vllm_enable_sleep_mode) == (True, "colocate", True)
    assert colo.vllm_gpu_memory_utilization == cfg.generation.vllm_gpu_memory_utilization
    assert colo.vllm_max_model_length == cfg.rollout.max_sequence_tokens
    assert (colo.num_generations, colo.per_device_train_batch_size, colo.beta, colo.epsilon) == (4, 8, 0.001, 0.2)
    assert str(colo.lr_scheduler_type.value) == "constant" and colo.temperature == 1.0 and not colo.use_cpu
    server = grpo_args(cfg, Path("/tmp/unused"), "cuda", torch.float32, GenerationBackend.VLLM_SERVER)
    assert (server.vllm_mode, server.vllm_server_base_url) == ("server", cfg.generation.vllm_server_url)
    plain = grpo_args(cfg, Path("/tmp/unused"), "cpu", torch.float32, GenerationBackend.TRANSFORMERS)
    assert not plain.use_vllm and plain.use_cpu
    # 8 processes: one rollout each; 3 processes cannot split 8 rollouts; accumulation splits further.
    assert per_device_batch(cfg, 8) == 1 and per_device_batch(cfg.override(grpo={"gradient_accumulation_steps": 4}), 1) == 2
    with pytest.raises(ConfigError, match="not divisible"):
        per_device_batch(cfg, 3)
    # Without a GPU, auto means transformers, and the vLLM backends are refused with a reason.
    assert resolve_backend(cfg, "cpu") is GenerationBackend.TRANSFORMERS
    with pytest.raises(ConfigError, match="CUDA"):
        resolve_backend(cfg.override(generation={"backend": "vllm_colocate"}), "cpu")
    with pytest.raises(ConfigError, match="tensor_parallel"):
        resolve_backend(cfg.override(generation={"backend": "vllm_colocate", "vllm_tensor_parallel_size": 2}), "cuda")
    assert "vllm" not in sys.modules


@pytest.mark.slow
def test_lora_grpo_step_trains_only_the_adapter(tiny_model, mini_suite, shell_factory, tmp_path):
    pytest.importorskip("peft")
    import torch

    from training.models import base_model_of, load_policy

    cfg = _config(tiny_model, mini_suite, num_generations=2).override(
        lora={"enabled": True, "r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]})
    out = tmp_path / "lora"
    trainer, _ = build_trainer(cfg, out, shell_factory=shell_factory, generation_kwargs=_bias(tiny_model))
    params = dict(trainer.model.named_parameters())
    before = {k: v.detach().clone() for k, v in params.items()}
    trainer.train()
    moved = {k for k, v in trainer.model.named_parameters() if not torch.equal(before[k], v.detach())}
    assert moved and all("lora_" in k for k in moved)              # the base weights stay the reference
    trainer.save_model(str(out / "checkpoint-manual"))
    ckpt = out / "checkpoint-manual"
    assert (ckpt / "adapter_config.json").exists() and base_model_of(ckpt) == Path(str(tiny_model))
    model = load_policy(ckpt, "cpu", torch.float32)
    ids = torch.tensor([[1, 2, 3, 4]])
    trainer.model.eval()
    assert torch.allclose(model(ids).logits, trainer.model(ids).logits, atol=1e-5)
