"""configs/train.toml: the paper's GRPO defaults, typed loading, clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from training.config import ConfigError, GenerationBackend, TrainConfig, load_train_config

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_holds_the_paper_defaults():
    cfg = load_train_config(REPO / "configs" / "train.toml")
    g = cfg.grpo
    assert (g.num_generations, g.prompts_per_step, g.epsilon, g.beta, g.lr_scheduler, g.temperature) == \
        (4, 2, 0.2, 0.001, "constant", 1.0)
    assert cfg.rollout.budget == 60
    assert cfg.generation.backend is GenerationBackend.AUTO
    assert cfg == TrainConfig()           # the file documents the defaults, it does not change them


@pytest.mark.parametrize("text, field", [
    ("[grpo]\nnum_generation = 4\n", "grpo.num_generation"),
    ("[grpo]\nbeta = \"high\"\n", "grpo.beta"),
    ("[rollout]\nbudget = 0\n", "rollout.budget"),
    ("[generation]\nbackend = \"tpu\"\n", "generation.backend"),
    ("[lora]\ntarget_modules = \"q_proj\"\n", "lora.target_modules"),
    ("[optimizer]\nlr = 1\n", "optimizer"),
])
def test_bad_settings_name_file_and_field(tmp_path, text, field):
    p = tmp_path / "train.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_train_config(p)
    assert str(p) in str(exc.value) and field in str(exc.value)


def test_override_validates():
    cfg = TrainConfig().override(grpo={"max_steps": 3, "beta": None}, rollout={"budget": 5})
    assert cfg.grpo.max_steps == 3 and cfg.grpo.beta == 0.001 and cfg.rollout.budget == 5
    with pytest.raises(ConfigError, match="num_generations"):
        TrainConfig().override(grpo={"num_generations": 1})
