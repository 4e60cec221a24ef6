"""Typed configuration of an evolve run, loaded from a commented TOML file.

``configs/evolve.toml`` documents every field; ``load_config`` validates types and names
the file and field on error, and CLI flags override individual fields.
"""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from certify import GateConfig
from evaluation.config import EvaluatorConfig
from inventory.tuning import TuningConfig

SANDBOX_BACKENDS = ("auto", "bwrap", "docker", "degraded", "none")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SearchConfig:
    rounds: int = 4
    candidates_per_round: int = 2
    seed: int = 0
    refine: bool = True
    reference: str = "best_baseline"
    workers: int = 0  # candidates evaluated at once (local processes); 0 = one per core

    def __post_init__(self) -> None:
        if self.rounds < 0 or self.candidates_per_round < 1:
            raise ConfigError("search.rounds must be >= 0 and search.candidates_per_round >= 1")
        if self.workers < 0:
            raise ConfigError(f"search.workers must be >= 0 (0 = one per core), got {self.workers}")


@dataclass(frozen=True)
class EvolveConfig:
    search: SearchConfig = field(default_factory=SearchConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    certify: GateConfig = field(default_factory=lambda: GateConfig(method="blockwise_t"))
    sandbox: str = "auto"
    evaluation: EvaluatorConfig = field(default_factory=EvaluatorConfig)

    def __post_init__(self) -> None:
        if self.sandbox not in SANDBOX_BACKENDS:
            raise ConfigError(f"sandbox.backend must be one of {SANDBOX_BACKENDS}, got {self.sandbox!r}")

    def to_dict(self) -> dict[str, Any]:
        gate = asdict(self.certify)
        gate["block"] = gate["block"] or 0
        tuning = {k: v for k, v in asdict(self.tuning).items() if k != "seed"}
        return {"search": asdict(self.search), "tuning": tuning, "certify": gate,
                "sandbox": {"backend": self.sandbox}, "evaluation": asdict(self.evaluation)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "config") -> "EvolveConfig":
        def section(name: str, typ: type) -> Any:
            table = raw.get(name, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{where}: [{name}] must be a table")
            known = {f.name: f for f in fields(typ)}
            for key, value in table.items():
                if key not in known:
                    raise ConfigError(f"{where}: field '{name}.{key}' is not a known setting")
                default = getattr(typ(), key) if typ is not GateConfig else getattr(GateConfig(), key)
                expected = type(default) if default is not None else int
                if expected is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
                    raise ConfigError(f"{where}: field '{name}.{key}' must be {expected.__name__}, got {value!r}")
            return table

        try:
            search = SearchConfig(**section("search", SearchConfig))
            tuning_raw = section("tuning", TuningConfig)
            if "seed" in tuning_raw:
                raise ConfigError(f"{where}: field 'tuning.seed' is set by 'search.seed'")
            tuning = TuningConfig(**{**tuning_raw, "seed": search.seed})
            gate_raw = dict(section("certify", GateConfig))
            if gate_raw.get("block", None) == 0:
                gate_raw["block"] = None
            gate = GateConfig(**{"method": "blockwise_t", **gate_raw})
            evaluation = EvaluatorConfig(**section("evaluation", EvaluatorConfig))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{where}: {exc}") from exc
        sb = raw.get("sandbox", {})
        if not isinstance(sb, dict) or set(sb) - {"backend"}:
            raise ConfigError(f"{where}: [sandbox] takes only 'backend'")
        extra = set(raw) - {"search", "tuning", "certify", "sandbox", "evaluation"}
        if extra:
            raise ConfigError(f"{where}: unknown section(s) {sorted(extra)}")
        backend = sb.get("backend", "auto")
        if backend not in SANDBOX_BACKENDS:
            raise ConfigError(f"{where}: field 'sandbox.backend' must be one of {SANDBOX_BACKENDS}, got {backend!r}")
        return cls(search, tuning, gate, backend, evaluation)


def load_config(path: str | Path | None) -> EvolveConfig:
    """Read a config file (the packaged default when ``path`` is None)."""
    if path is None:
        return EvolveConfig()
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    return EvolveConfig.from_dict(raw, str(p))


def with_overrides(cfg: EvolveConfig, **overrides: Any) -> EvolveConfig:
    """Apply CLI overrides given as section_field=value (None values are ignored)."""
    search, tuning, gate, sandbox = cfg.search, cfg.tuning, cfg.certify, cfg.sandbox
    for key, value in overrides.items():
        if value is None:
            continue
        sect, _, name = key.partition("_")
        if sect == "search":
            search = replace(search, **{name: value})
            if name == "seed":
                tuning = replace(tuning, seed=value)
        elif sect == "tuning":
            tuning = replace(tuning, **{name: value})
        elif sect == "certify":
            gate = replace(gate, **{name: value})
        elif key == "sandbox":
            sandbox = value
        else:
            raise ConfigError(f"unknown override {key!r}")
    return EvolveConfig(search, tuning, gate, sandbox, cfg.evaluation)
