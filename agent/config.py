"""Agent settings: :class:`AgentConfig`, read from the ``[agent]`` table of a TOML file.

Contract: every field is validated on construction (a bad value names the field); unknown
keys in the file are errors (typos do not pass silently); an API key in the file is refused
(keys come from the environment variable named by ``api_key_env``). Overrides (from the
CLI) are applied after the file and validated the same way; ``None`` overrides are ignored,
so an unset CLI flag leaves the file's value.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

BACKENDS = ("openai", "vllm", "hf")
PROTOCOLS = ("auto", "native", "text")


class ConfigError(ValueError):
    """A setting is missing, unknown or out of range."""


@dataclass(frozen=True)
class ModelSpec:
    backend: str      # "openai" | "vllm" | "hf"
    target: str       # model name, model path, GGUF path, or "smollm2"

    @classmethod
    def parse(cls, spec: str) -> "ModelSpec":
        """``openai:MODEL``, ``vllm:PATH`` or ``hf:PATH_OR_GGUF`` (``hf:smollm2`` for the wheel's GGUF)."""
        backend, sep, target = spec.partition(":")
        if not sep or backend not in BACKENDS or not target:
            raise ConfigError(f"model spec {spec!r}: expected openai:MODEL, vllm:PATH or hf:PATH_OR_GGUF")
        return cls(backend, target)

    def __str__(self) -> str:
        return f"{self.backend}:{self.target}"


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent proposer needs besides the workspace and the run directory."""

    model: str = "openai:gpt-4o-mini"      # backend:target, see ModelSpec.parse
    base_url: str | None = None             # OpenAI-compatible endpoint (e.g. http://host:8000/v1 for vllm serve)
    api_key_env: str = "OPENAI_API_KEY"     # name of the env var holding the key (never the key itself)
    tool_protocol: str = "auto"             # auto: native for openai, text for hf/vllm
    budget: int = 60                        # K: tool calls per episode (a reply with no call counts as one)
    token_budget: int = 1_500_000           # prompt + completion tokens per episode
    max_tokens: int = 4096                  # completion tokens per model call
    max_output: int = 4000                  # characters of tool output shown to the model
    command_timeout: float = 300.0          # seconds per shell command in the sandbox
    temperature: float = 0.7
    seed: int | None = 0
    concurrency: int = 1                    # episodes running at once
    episodes_per_round: int = 1             # episodes (hence proposals) per LGPS round
    timeout: float = 120.0                  # seconds per model call (hard)
    retries: int = 4                        # retries per model call on 429/5xx/connection errors
    backoff: float = 1.0                    # first retry delay in seconds, doubled each retry
    backoff_max: float = 30.0
    max_endpoint_failures: int = 3          # consecutive failed rounds before EndpointUnavailable
    feedback_items: int = 12                # earlier decisions shown in the briefing
    return_token_ids: bool = False          # ask an OpenAI-compatible vLLM server for token ids
    price_prompt_per_mtok: float = 0.0      # USD per million prompt tokens, for cost accounting
    price_completion_per_mtok: float = 0.0
    hf_device: str = "auto"
    hf_threads: int | None = None
    max_context: int | None = None          # hf/vllm context cap (default: the model's own)
    vllm_gpu_memory_utilization: float = 0.85
    vllm_tensor_parallel_size: int = 1
    name_prefix: str = "agent"
    extra_body: dict[str, Any] = field(default_factory=dict)  # extra JSON fields for openai requests

    def __post_init__(self) -> None:
        spec = ModelSpec.parse(self.model)
        if self.tool_protocol not in PROTOCOLS:
            raise ConfigError(f"tool_protocol must be one of {PROTOCOLS}, got {self.tool_protocol!r}")
        if self.tool_protocol == "native" and spec.backend != "openai":
            raise ConfigError(f"tool_protocol 'native' needs an openai backend; {spec.backend} uses the text protocol")
        for name in ("budget", "token_budget", "max_tokens", "max_output", "concurrency", "episodes_per_round",
                     "max_endpoint_failures", "vllm_tensor_parallel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("retries", "feedback_items"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("timeout", "command_timeout", "backoff", "backoff_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"{name} must be a number > 0, got {value!r}")
        for name in ("temperature", "price_prompt_per_mtok", "price_completion_per_mtok"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if not 0 < self.vllm_gpu_memory_utilization <= 1:
            raise ConfigError(f"vllm_gpu_memory_utilization must be in (0, 1], got {self.vllm_gpu_memory_utilization}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ConfigError(f"seed must be an integer or absent, got {self.seed!r}")
        if not self.api_key_env or not self.api_key_env.replace("_", "").isalnum():
            raise ConfigError(f"api_key_env must name an environment variable, got {self.api_key_env!r}")
        if not isinstance(self.extra_body, dict):
            raise ConfigError("extra_body must be a table")

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec.parse(self.model)

    @property
    def text_protocol(self) -> bool:
        """Whether tools travel as fenced text blocks (see agent.llm.text_protocol)."""
        if self.tool_protocol == "auto":
            return self.spec.backend != "openai"
        return self.tool_protocol == "text"

    def override(self, **overrides: Any) -> "AgentConfig":
        """A copy with ``overrides`` applied (None values are ignored)."""
        return _build(dataclasses.asdict(self), {k: v for k, v in overrides.items() if v is not None}, "override")

    @classmethod
    def from_toml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "AgentConfig":
        """Read the ``[agent]`` table of ``path`` (other tables are left to other components)."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        table = raw.get("agent", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [agent] must be a table")
        return _build(table, {k: v for k, v in (overrides or {}).items() if v is not None}, str(path))


def _build(base: Mapping[str, Any], overrides: Mapping[str, Any], where: str) -> AgentConfig:
    names = {f.name for f in dataclasses.fields(AgentConfig)}
    merged = {**base, **overrides}
    for key in merged:
        if key in ("api_key", "key", "openai_api_key"):
            raise ConfigError(f"{where}: '{key}' is not accepted; put the key in the environment "
                              f"variable named by api_key_env (default OPENAI_API_KEY)")
        if key not in names:
            raise ConfigError(f"{where}: unknown agent setting '{key}' (known: {', '.join(sorted(names))})")
    try:
        return AgentConfig(**merged)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
