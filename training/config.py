"""Typed settings of ``invevolve train`` (SFT, GRPO, evaluation), read from a commented TOML file.

``configs/train.toml`` documents every field. :func:`load_train_config` checks every table
and field against these dataclasses: an unknown table or key, a value of the wrong type or
out of range raises the project's :class:`ConfigError` naming the file and the field. CLI
flags override single fields afterwards (:meth:`TrainConfig.override`).

The defaults are the paper's GRPO settings (InvEvolve Sec. 4.2, SPEC §6): group size 4,
clip 0.2, KL 0.001, a constant learning rate, 2 prompts x 4 rollouts per step,
temperature 1.0 and K = 60 tool calls per rollout.
"""
from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Mapping

from evolve.config import ConfigError

__all__ = ["ConfigError", "GenerationBackend", "TrainConfig", "load_train_config"]

SANDBOXES = ("auto", "bwrap", "docker", "degraded")


class GenerationBackend(str, Enum):
    """Who samples the rollouts' tokens."""

    AUTO = "auto"                      # vllm_colocate with a GPU and vllm installed, else transformers
    TRANSFORMERS = "transformers"      # transformers generate on the policy being trained (CPU or GPU)
    VLLM_COLOCATE = "vllm_colocate"    # vLLM in the training process, sharing the GPU (sleep mode)
    VLLM_SERVER = "vllm_server"        # a separate `trl vllm-serve` process on other GPUs


@dataclass(frozen=True)
class ModelConfig:
    path: str = "smollm2"              # HF directory, hub id already cached, a .gguf file, or "smollm2"
    dtype: str = "auto"                # auto (bfloat16 on GPU, float32 on CPU) | float32 | bfloat16
    device: str = "auto"               # auto | cpu | cuda
    threads: int = 1                   # torch CPU threads
    chat_template: str = ""            # a Jinja chat template file for tokenizers without one ("" = the model's)

    def __post_init__(self) -> None:
        _choice("model.dtype", self.dtype, ("auto", "float32", "bfloat16"))
        _choice("model.device", self.device, ("auto", "cpu", "cuda"))
        _positive("model.threads", self.threads)


@dataclass(frozen=True)
class DataConfig:
    suite: str = "data/synthetic"      # a synthetic suite folder with splits/<split>.json
    split: str = "standard"            # split file name under <suite>/splits/
    cj_suite: str = ""                 # optional Complete Journey suite: its non-test products join training
    max_prompts: int = 0               # use at most this many training prompts (0 = all)

    def __post_init__(self) -> None:
        if self.max_prompts < 0:
            raise ConfigError("data.max_prompts must be >= 0")


@dataclass(frozen=True)
class RolloutConfig:
    budget: int = 60                   # K: tool calls per rollout (a reply without a call also counts)
    max_tokens_per_turn: int = 2048    # sampled tokens per model turn
    max_sequence_tokens: int = 32768   # prompt + all completion tokens (model and tool results) per rollout
    max_output: int = 4000             # characters of tool output shown to the model
    command_timeout: float = 120.0     # seconds per sandboxed shell command
    sandbox: str = "auto"              # agent shell backend: auto | bwrap | docker | degraded
    concurrency: int = 8               # rollouts running at once (their generation requests are batched)
    batch_wait: float = 0.05           # seconds a generation batch waits for more rollouts to join

    def __post_init__(self) -> None:
        for name in ("budget", "max_tokens_per_turn", "max_sequence_tokens", "max_output", "concurrency"):
            _positive(f"rollout.{name}", getattr(self, name))
        if self.command_timeout <= 0 or self.batch_wait < 0:
            raise ConfigError("rollout.command_timeout must be > 0 and rollout.batch_wait >= 0")
        _choice("rollout.sandbox", self.sandbox, SANDBOXES)
        if self.max_tokens_per_turn >= self.max_sequence_tokens:
            raise ConfigError("rollout.max_tokens_per_turn must be below rollout.max_sequence_tokens")


@dataclass(frozen=True)
class RewardConfig:
    trials: int = 50                   # Optuna trials when the trusted evaluator tunes a submission
    seed: int = 0
    timeout: float = 900.0             # seconds per trusted evaluation; past it the reward is 0
    workers: int = 2                   # trusted evaluations running at once
    sandbox: str = "auto"              # policy host backend of the trusted evaluator

    def __post_init__(self) -> None:
        _positive("reward.trials", self.trials)
        _positive("reward.workers", self.workers)
        if self.timeout <= 0:
            raise ConfigError("reward.timeout must be > 0")
        _choice("reward.sandbox", self.sandbox, SANDBOXES)


@dataclass(frozen=True)
class GRPOSettings:
    num_generations: int = 4           # group size G (rollouts per prompt)
    prompts_per_step: int = 2          # prompts per optimizer step (x G rollouts)
    epsilon: float = 0.2               # PPO-style clip
    beta: float = 0.001                # KL coefficient to the reference (initial) policy
    learning_rate: float = 1e-6
    lr_scheduler: str = "constant"
    temperature: float = 1.0
    top_p: float = 1.0
    max_steps: int = 100
    save_steps: int = 10               # checkpoint every this many steps (also used for resume)
    save_total_limit: int = 0          # keep at most this many checkpoints (0 = all, for the Fig. 4 curve)
    gradient_accumulation_steps: int = 1
    gradient_checkpointing: bool = True
    mask_truncated_completions: bool = False
    loss_type: str = "dapo"            # TRL loss aggregation: dapo (token-level, no length bias) | grpo | dr_grpo | bnpo
    seed: int = 0

    def __post_init__(self) -> None:
        _choice("grpo.loss_type", self.loss_type, ("dapo", "grpo", "dr_grpo", "bnpo"))
        for name in ("num_generations", "prompts_per_step", "max_steps", "save_steps", "gradient_accumulation_steps"):
            _positive(f"grpo.{name}", getattr(self, name))
        if self.num_generations < 2:
            raise ConfigError("grpo.num_generations must be >= 2 (group-relative advantages need a group)")
        if not 0 < self.epsilon < 1 or self.beta < 0 or self.learning_rate <= 0 or self.temperature <= 0:
            raise ConfigError("grpo: epsilon must be in (0, 1), beta >= 0, learning_rate > 0, temperature > 0")
        if not 0 < self.top_p <= 1:
            raise ConfigError("grpo.top_p must be in (0, 1]")
        if self.save_total_limit < 0:
            raise ConfigError("grpo.save_total_limit must be >= 0")
        _choice("grpo.lr_scheduler", self.lr_scheduler, ("constant", "constant_with_warmup", "linear", "cosine"))


@dataclass(frozen=True)
class GenerationConfig:
    backend: GenerationBackend = GenerationBackend.AUTO
    vllm_gpu_memory_utilization: float = 0.35   # colocate: share of the GPU vLLM may take
    vllm_sleep_mode: bool = True                # colocate: free vLLM's memory during the optimizer step
    vllm_tensor_parallel_size: int = 1          # colocate: GPUs per vLLM engine
    vllm_max_model_length: int = 0              # 0 = rollout.max_sequence_tokens
    vllm_server_url: str = "http://127.0.0.1:8000"  # server mode: `trl vllm-serve` address

    def __post_init__(self) -> None:
        if not 0 < self.vllm_gpu_memory_utilization <= 1:
            raise ConfigError("generation.vllm_gpu_memory_utilization must be in (0, 1]")
        _positive("generation.vllm_tensor_parallel_size", self.vllm_tensor_parallel_size)
        if self.vllm_max_model_length < 0:
            raise ConfigError("generation.vllm_max_model_length must be >= 0")


@dataclass(frozen=True)
class LoraConfig:
    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")

    def __post_init__(self) -> None:
        _positive("lora.r", self.r)
        _positive("lora.alpha", self.alpha)
        if not 0 <= self.dropout < 1 or not self.target_modules:
            raise ConfigError("lora.dropout must be in [0, 1) and lora.target_modules non-empty")


@dataclass(frozen=True)
class SFTSettings:
    trajectories: tuple[str, ...] = ()  # trajectory JSONL files or evolve run directories
    epochs: float = 1.0
    max_steps: int = 0                 # 0 = run `epochs`
    learning_rate: float = 1e-5
    batch_size: int = 1
    gradient_accumulation_steps: int = 8
    max_length: int = 32768            # longer conversations are dropped (never cut mid-turn)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs <= 0 or self.learning_rate <= 0 or self.max_steps < 0:
            raise ConfigError("sft.epochs and sft.learning_rate must be > 0, sft.max_steps >= 0")
        for name in ("batch_size", "gradient_accumulation_steps", "max_length"):
            _positive(f"sft.{name}", getattr(self, name))


@dataclass(frozen=True)
class EvalSettings:
    split: str = "test"                # list of the split file evaluated (never trained on)
    limit: int = 0                     # evaluate at most this many workspaces (0 = all)
    episodes: int = 1                  # agent episodes per workspace
    temperature: float = 0.7
    seed: int = 0

    def __post_init__(self) -> None:
        _positive("eval.episodes", self.episodes)
        if self.limit < 0 or self.temperature < 0:
            raise ConfigError("eval.limit and eval.temperature must be >= 0")


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    grpo: GRPOSettings = field(default_factory=GRPOSettings)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    sft: SFTSettings = field(default_factory=SFTSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)

    def override(self, **sections: Mapping[str, Any]) -> "TrainConfig":
        """A copy with fields replaced, e.g. ``override(grpo={"max_steps": 3})``; None values are skipped."""
        out = self
        for name, values in sections.items():
            if name not in _SECTIONS:
                raise ConfigError(f"unknown config section {name!r}")
            vals = {k: v for k, v in values.items() if v is not None}
            if vals:
                current = getattr(out, name)
                out = dataclasses.replace(out, **{name: _build(type(current), {**_as_dict(current), **vals}, name, "override")})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {name: _as_dict(getattr(self, name)) for name in _SECTIONS}


_SECTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig))


def load_train_config(path: str | Path | None) -> TrainConfig:
    """The settings in ``path`` (defaults when None)."""
    if path is None:
        return TrainConfig()
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    return config_from_dict(raw, str(p))


def config_from_dict(raw: Mapping[str, Any], where: str = "config") -> TrainConfig:
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}; known: {list(_SECTIONS)}")
    kwargs = {}
    for f in dataclasses.fields(TrainConfig):
        table = raw.get(f.name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{f.name}] must be a table")
        kwargs[f.name] = _build(f.default_factory, table, f.name, where)  # type: ignore[arg-type, misc]
    return TrainConfig(**kwargs)


def _build(cls: type, table: Mapping[str, Any], section: str, where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: field '{section}.{key}' is not a known setting")
        values[key] = _coerce(hints[key], value, f"{where}: field '{section}.{key}'")
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _coerce(typ: Any, value: Any, what: str) -> Any:
    if isinstance(typ, type) and issubclass(typ, Enum):
        try:
            return typ(value)
        except ValueError:
            raise ConfigError(f"{what} must be one of {[m.value for m in typ]}, got {value!r}") from None
    origin = typing.get_origin(typ)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{what} must be a list of strings, got {value!r}")
        return tuple(value)
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
        raise ConfigError(f"{what} must be {typ.__name__}, got {value!r}")
    return value


def _as_dict(obj: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = v.value if isinstance(v, Enum) else (list(v) if isinstance(v, tuple) else v)
    return out


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {allowed}, got {value!r}")


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise ConfigError(f"{name} must be >= 1, got {value}")
