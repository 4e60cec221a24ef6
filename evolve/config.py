"""Typed configuration of an evolve run, loaded from a commented TOML file.

``configs/evolve.toml`` documents every field. Every value, whether it comes from a file,
from a command-line flag or from a run directory being resumed, is checked by one table of
rules (:data:`RULES`) in :meth:`EvolveConfig.from_dict`; a bad value raises the project's
:class:`ConfigError` naming where it came from (file and field, or the flag).
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from certify import EPS_ESTIMATORS, GAIN_SOURCES, METHODS, GateConfig
from evaluation.config import EvaluatorConfig
from inventory.errors import ConfigError
from inventory.library import BASELINES
from inventory.tuning import TuningConfig
from orpr.backend import BackendConfig

__all__ = ["ConfigError", "EvolveConfig", "SearchConfig", "SANDBOX_BACKENDS", "RULES", "load_config", "with_overrides"]

SANDBOX_BACKENDS = ("auto", "bwrap", "docker", "degraded", "none")
# [certify] defaults of an evolve run: the method the coverage benchmark favours, on
# walk-forward gains (docs/certify.md says why).
CERTIFY_DEFAULTS: dict[str, Any] = {"method": "blockwise_maxt", "gains": "walk_forward"}
REFERENCES = ("best_baseline", *BASELINES)

Rule = Callable[[Any], "str | None"]   # a problem with the value ("must be ..."), or None when fine


def _int(minimum: int) -> Rule:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"must be an integer, got {v!r}"
        return None if v >= minimum else f"must be >= {minimum}, got {v}"
    return check


def _real(minimum: float) -> Rule:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"must be a finite number, got {v!r}"
        return None if v >= minimum else f"must be >= {minimum:g}, got {v:g}"
    return check


def _positive(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return f"must be a finite number, got {v!r}"
    return None if v > 0 else f"must be > 0, got {v:g}"


def _open_unit(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return f"must be a number, got {v!r}"
    return None if 0 < v < 1 else f"must lie strictly between 0 and 1, got {v:g}"


def _choice(options: tuple[str, ...]) -> Rule:
    def check(v: Any) -> str | None:
        return None if isinstance(v, str) and v in options else f"must be one of {', '.join(options)}; got {v!r}"
    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


# The one place where a setting's admissible values are written down.
RULES: dict[str, Rule] = {
    "search.rounds": _int(0),
    "search.candidates_per_round": _int(1),
    "search.seed": _int(0),
    "search.refine": _bool,
    "search.reference": _choice(REFERENCES),
    "search.workers": _int(0),
    "tuning.n_trials": _int(1),
    "tuning.batch_size": _int(1),
    "tuning.n_startup_trials": _int(0),
    "tuning.grid_limit": _int(0),
    "tuning.max_batch": _int(1),
    "certify.method": _choice(METHODS),
    "certify.delta": _open_unit,
    "certify.eps": _real(0.0),
    "certify.eta": _real(0.0),
    "certify.block": _int(0),
    "certify.gains": _choice(GAIN_SOURCES),  # replications: the workspace needs a [demand_model]
    "certify.eps_estimator": _choice(EPS_ESTIMATORS),
    "certify.eps_level": _open_unit,
    "certify.reps": _int(99),
    "certify.seed": _int(0),
    "certify.horizon": _int(0),
    "certify.max_folds": _int(1),
    "certify.min_history": _int(0),
    "certify.replications": _int(2),
    "certify.replication_days": _int(0),
    "sandbox.backend": _choice(SANDBOX_BACKENDS),
    "evaluation.candidate_budget_s": _positive,
    "evaluation.tuning_hosts": _int(1),
    "replay.backend": _choice(("daily", "periodic")),
    "replay.review_period": _int(1),
    "baselines.orpr": _bool,
}
_SECTIONS = ("search", "tuning", "certify", "sandbox", "evaluation", "replay", "baselines")
_SET_ELSEWHERE = {"tuning.seed": "is set by 'search.seed'"}


@dataclass(frozen=True)
class SearchConfig:
    rounds: int = 4
    candidates_per_round: int = 2
    seed: int = 0
    refine: bool = True
    reference: str = "best_baseline"
    workers: int = 0  # candidates evaluated at once (local processes); 0 = one per core

    def __post_init__(self) -> None:
        for name in ("rounds", "candidates_per_round", "seed", "refine", "reference", "workers"):
            problem = RULES[f"search.{name}"](getattr(self, name))
            if problem:
                raise ConfigError(f"search.{name} {problem}")


@dataclass(frozen=True)
class ReplaySettings:
    """``[replay]``: the replay backend of tuning and trusted replay (orpr.backend)."""

    backend: str = "daily"        # "daily" | "periodic" (Algorithm-2 periodic review)
    review_period: int = 1        # periodic: the policy orders only on days t % R == 0

    def __post_init__(self) -> None:
        _ = self.backend_config   # validation: one clear message for a bad combination

    @property
    def backend_config(self) -> BackendConfig:
        try:
            return BackendConfig(self.backend, self.review_period)
        except ValueError as exc:
            raise ConfigError(f"[replay]: {exc}") from None


@dataclass(frozen=True)
class BaselineSettings:
    """``[baselines]``: optional baselines added to the five of the workspace."""

    orpr: bool = False            # the OR label (orpr.label_policy) joins the initial pool


@dataclass(frozen=True)
class EvolveConfig:
    search: SearchConfig = field(default_factory=SearchConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    certify: GateConfig = field(default_factory=lambda: GateConfig(**CERTIFY_DEFAULTS))
    sandbox: str = "auto"
    evaluation: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    replay: ReplaySettings = field(default_factory=ReplaySettings)
    baselines: BaselineSettings = field(default_factory=BaselineSettings)

    def __post_init__(self) -> None:
        problem = RULES["sandbox.backend"](self.sandbox)
        if problem:
            raise ConfigError(f"sandbox.backend {problem}")

    def to_dict(self) -> dict[str, Any]:
        gate = asdict(self.certify)
        gate["block"] = gate["block"] or 0
        tuning = {k: v for k, v in asdict(self.tuning).items() if k != "seed"}
        return {"search": asdict(self.search), "tuning": tuning, "certify": gate,
                "sandbox": {"backend": self.sandbox}, "evaluation": asdict(self.evaluation),
                "replay": asdict(self.replay), "baselines": asdict(self.baselines)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "config",
                  labels: Mapping[str, str] | None = None) -> "EvolveConfig":
        """Validate ``raw`` (the TOML layout) against :data:`RULES` and build the config.

        ``where`` prefixes every message (a file name, "command line", a run directory);
        ``labels`` maps a field path to how the user wrote it (e.g. ``"--delta"``).
        """
        labels = labels or {}

        def fail(path: str, problem: str) -> ConfigError:
            label = f"{labels[path]} (field '{path}')" if path in labels else f"field '{path}'"
            return ConfigError(f"{where}: {label} {problem}")

        extra = set(raw) - set(_SECTIONS)
        if extra:
            raise ConfigError(f"{where}: unknown section(s) {sorted(extra)} (known: {', '.join(_SECTIONS)})")
        tables: dict[str, dict[str, Any]] = {}
        for name in _SECTIONS:
            table = raw.get(name, {})
            if not isinstance(table, Mapping):
                raise ConfigError(f"{where}: [{name}] must be a table")
            for key, value in table.items():
                path = f"{name}.{key}"
                if path in _SET_ELSEWHERE:
                    raise fail(path, _SET_ELSEWHERE[path])
                if path not in RULES:
                    known = ", ".join(p.split(".", 1)[1] for p in RULES if p.startswith(name + "."))
                    raise fail(path, f"is not a known setting (known in [{name}]: {known})")
                problem = RULES[path](value)
                if problem:
                    raise fail(path, problem)
            tables[name] = dict(table)
        search = SearchConfig(**tables["search"])
        tuning = TuningConfig(**tables["tuning"], seed=search.seed)
        gate_raw = {k: (float(v) if k in ("delta", "eps", "eta", "eps_level") else v)
                    for k, v in tables["certify"].items()}
        if gate_raw.get("block") == 0:
            gate_raw["block"] = None
        gate = GateConfig(**{**CERTIFY_DEFAULTS, **gate_raw})
        ev_raw = {k: (float(v) if k == "candidate_budget_s" else v) for k, v in tables["evaluation"].items()}
        try:
            replay = ReplaySettings(**tables["replay"])
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        return cls(search, tuning, gate, tables["sandbox"].get("backend", "auto"), EvaluatorConfig(**ev_raw),
                   replay, BaselineSettings(**tables["baselines"]))


def load_config(path: str | Path | None) -> EvolveConfig:
    """Read a config file (the packaged default when ``path`` is None)."""
    if path is None:
        return EvolveConfig()
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    return EvolveConfig.from_dict(raw, str(p))


def override_path(key: str) -> str:
    """``search_rounds`` -> ``search.rounds``; ``sandbox`` -> ``sandbox.backend``."""
    if key == "sandbox":
        return "sandbox.backend"
    sect, _, name = key.partition("_")
    return f"{sect}.{name}"


def with_overrides(cfg: EvolveConfig, *, where: str = "override", labels: Mapping[str, str] | None = None,
                   **overrides: Any) -> EvolveConfig:
    """Apply overrides given as ``section_field=value`` (None values are ignored).

    The result is validated by the same rules as a file; ``labels`` (field path -> flag)
    lets the error name the flag the user typed.
    """
    raw = cfg.to_dict()
    for key, value in overrides.items():
        if value is None:
            continue
        path = override_path(key)
        sect, _, name = path.partition(".")
        if sect not in raw:
            raise ConfigError(f"{where}: unknown override {key!r}")
        raw[sect][name] = value
    return EvolveConfig.from_dict(raw, where, labels)
