"""A workspace's generative demand model: what the formal simulation mode draws from.

A workspace may declare, in ``workspace.toml``, how its demand is generated::

    [demand_model]
    law = "poisson"            # poisson | geometric | binomial | negative_binomial | gamma
    mean = 5.0                 #   | halfnormal | uniform | python
    # max_demand = 60          # optional: draws are capped here (a bound Hoeffding / eb_cs can use)

With a model, ``certify.gains = "replications"`` certifies on independent simulated
continuations of the replay window instead of on replay days (SPEC §4, Assumption 3.3 made
true): every policy runs on the same continuations (common random numbers), and the gains
of different continuations are independent. What such a certificate promises holds only
as far as the model is right; it is the user's statement about their demand.

``law = "python"`` names a file of the workspace (``file = "demand_model.py"``) whose
``sample(rng, history, days)`` returns the next ``days`` days: an array of demand for a
workspace without features, or ``{"demand": [...], "features": {name: [...]}}``. It is the
user's own code and runs in the evaluating process (like ``workspace.toml``, it is trusted);
it receives the replay window only, never the forward window.
"""
from __future__ import annotations

import importlib.util
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from inventory.sequence import DemandSequence, FeatureSpec


class Law(str, Enum):
    POISSON = "poisson"
    GEOMETRIC = "geometric"            # on {0, 1, ...}
    BINOMIAL = "binomial"
    NEGATIVE_BINOMIAL = "negative_binomial"
    GAMMA = "gamma"
    HALFNORMAL = "halfnormal"
    UNIFORM = "uniform"                # integers low..high
    PYTHON = "python"


# Required parameters of each law (all numbers; ``file`` for python).
LAW_PARAMS: dict[Law, tuple[str, ...]] = {
    Law.POISSON: ("mean",), Law.GEOMETRIC: ("mean",), Law.BINOMIAL: ("n", "prob"),
    Law.NEGATIVE_BINOMIAL: ("mean", "shape"), Law.GAMMA: ("shape", "scale"), Law.HALFNORMAL: ("scale",),
    Law.UNIFORM: ("low", "high"), Law.PYTHON: ("file",),
}
OPTIONAL = ("round", "max_demand", "description")


class DemandModelError(ValueError):
    """The declared model is malformed, or a sampler returned something unusable; names the field."""

    def __init__(self, field_name: str, message: str):
        self.field, self.message = field_name, message
        super().__init__(f"field '{field_name}': {message}")


@dataclass(frozen=True)
class DemandModel:
    """A declared demand law: ``params`` holds the law's numbers (``file`` for python)."""

    law: Law
    params: tuple[tuple[str, Any], ...]
    round: bool = False
    max_demand: float | None = None
    description: str = ""

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"law": self.law.value, **dict(self.params)}
        if self.round:
            out["round"] = True
        if self.max_demand is not None:
            out["max_demand"] = self.max_demand
        if self.description:
            out["description"] = self.description
        return out

    def draw(self, rng: np.random.Generator, days: int) -> np.ndarray:
        """``days`` i.i.d. demands from a built-in law (rounded and capped as declared)."""
        if self.law is Law.PYTHON:
            raise DemandModelError("demand_model.law", "a python sampler draws through sampler(), with a history")
        return self._finish(_draw_law(self, rng, days))

    def _finish(self, demand: Any) -> np.ndarray:
        demand = np.asarray(demand, dtype=float)
        if self.round:
            demand = np.round(demand)
        if self.max_demand is not None:
            demand = np.minimum(demand, self.max_demand)
        return demand

    def sampler(self, root: Path, features: tuple[FeatureSpec, ...]) -> "Sampler":
        if self.law is Law.PYTHON:
            return PythonSampler(self, Path(root) / str(self.param("file")), features)
        if features:
            raise DemandModelError("demand_model.law", f"{self.law.value!r} draws demand only, but the workspace "
                                   f"has features ({', '.join(f.name for f in features)}); use law = \"python\"")
        return LawSampler(self)


def _number(raw: Mapping[str, Any], key: str) -> float:
    v = raw[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise DemandModelError(f"demand_model.{key}", f"must be a finite number, got {v!r}")
    return float(v)


def parse_demand_model(raw: Any) -> DemandModel:
    """Validate the ``[demand_model]`` table; raises :class:`DemandModelError` naming the field."""
    if not isinstance(raw, Mapping):
        raise DemandModelError("demand_model", "must be a table")
    law_raw = raw.get("law")
    try:
        law = Law(law_raw)
    except ValueError:
        raise DemandModelError("demand_model.law", f"must be one of {', '.join(x.value for x in Law)}; "
                               f"got {law_raw!r}") from None
    allowed = set(LAW_PARAMS[law]) | set(OPTIONAL) | {"law"}
    for key in raw:
        if key not in allowed:
            raise DemandModelError(f"demand_model.{key}", f"is not a field of law {law.value!r} "
                                   f"(known: {', '.join(sorted(allowed))})")
    params: list[tuple[str, Any]] = []
    for key in LAW_PARAMS[law]:
        if key not in raw:
            raise DemandModelError(f"demand_model.{key}", f"is missing (law {law.value!r} needs "
                                   f"{', '.join(LAW_PARAMS[law])})")
        if key == "file":
            f = raw[key]
            if not isinstance(f, str) or not f.endswith(".py") or Path(f).is_absolute() or ".." in Path(f).parts \
                    or Path(f).parts[:1] == ("hidden",):
                raise DemandModelError("demand_model.file", f"must be a relative .py path inside the workspace, "
                                       f"outside hidden/; got {f!r}")
            params.append((key, f))
        else:
            params.append((key, _number(raw, key)))
    _check_ranges(law, dict(params))
    rnd = raw.get("round", False)
    if not isinstance(rnd, bool):
        raise DemandModelError("demand_model.round", f"must be true or false, got {rnd!r}")
    cap = raw.get("max_demand")
    if cap is not None:
        cap = _number(raw, "max_demand")
        if cap <= 0:
            raise DemandModelError("demand_model.max_demand", f"must be > 0, got {cap:g}")
    return DemandModel(law, tuple(params), rnd, cap, str(raw.get("description", "")))


def _check_ranges(law: Law, p: dict[str, Any]) -> None:
    def need(key: str, ok: bool, what: str) -> None:
        if not ok:
            raise DemandModelError(f"demand_model.{key}", f"must be {what}, got {p[key]:g}")
    if "mean" in p:
        need("mean", p["mean"] > 0, "> 0")
    if law is Law.BINOMIAL:
        need("n", p["n"] >= 1 and float(p["n"]).is_integer(), "an integer >= 1")
        need("prob", 0 < p["prob"] < 1, "strictly between 0 and 1")
    for key in ("shape", "scale"):
        if key in p:
            need(key, p[key] > 0, "> 0")
    if law is Law.UNIFORM:
        need("low", p["low"] >= 0 and float(p["low"]).is_integer(), "an integer >= 0")
        need("high", p["high"] >= p["low"] and float(p["high"]).is_integer(), "an integer >= low")


class Sampler(ABC):
    """Draws continuations of a replay window: the formal mode's source of independent paths."""

    def __init__(self, model: DemandModel):
        self.model = model

    @abstractmethod
    def _draw(self, rng: np.random.Generator, history: DemandSequence, days: int) -> tuple[np.ndarray, dict]:
        """(demand, features) for the ``days`` days after ``history``."""

    def continuation(self, rng: np.random.Generator, history: DemandSequence, days: int) -> DemandSequence:
        """The ``days`` days after ``history``, as a sequence ``history.concat`` accepts."""
        demand, feats = self._draw(rng, history, days)
        demand = self.model._finish(demand)
        try:
            return DemandSequence(_next_dates(history.dates, days), demand, feats)
        except ValueError as exc:
            raise DemandModelError("demand_model", f"the sampler's draw is not a valid sequence: {exc}") from None


class LawSampler(Sampler):
    """One of the built-in i.i.d. laws."""

    def _draw(self, rng, history, days):
        return _draw_law(self.model, rng, days), {}


def _draw_law(model: DemandModel, rng: np.random.Generator, days: int) -> np.ndarray:
    m, p = model.law, dict(model.params)
    if m is Law.POISSON:
        d = rng.poisson(p["mean"], days)
    elif m is Law.GEOMETRIC:
        d = rng.geometric(1.0 / (p["mean"] + 1.0), days) - 1
    elif m is Law.BINOMIAL:
        d = rng.binomial(int(p["n"]), p["prob"], days)
    elif m is Law.NEGATIVE_BINOMIAL:  # Poisson-gamma mixture with the given mean and shape
        d = rng.poisson(rng.gamma(p["shape"], p["mean"] / p["shape"], days))
    elif m is Law.GAMMA:
        d = rng.gamma(p["shape"], p["scale"], days)
    elif m is Law.HALFNORMAL:
        d = np.abs(rng.normal(0.0, p["scale"], days))
    else:
        d = rng.integers(int(p["low"]), int(p["high"]) + 1, days)
    return d.astype(float)


class PythonSampler(Sampler):
    """The workspace's own ``sample(rng, history, days)``; its output is checked on every draw."""

    def __init__(self, model: DemandModel, path: Path, features: tuple[FeatureSpec, ...]):
        super().__init__(model)
        self.path, self.features = path, features
        if not path.is_file():
            raise DemandModelError("demand_model.file", f"{path} does not exist")
        spec = importlib.util.spec_from_file_location(f"invevolve_demand_model_{abs(hash(str(path)))}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - the user's file: any failure is reported with its name
            raise DemandModelError("demand_model.file", f"{path} failed to load: {type(exc).__name__}: {exc}") from None
        self._sample = getattr(module, "sample", None)
        if not callable(self._sample):
            raise DemandModelError("demand_model.file", f"{path} defines no function sample(rng, history, days)")

    def _draw(self, rng, history, days):
        where = f"{self.path}: sample()"
        try:
            out = self._sample(rng, history, days)
        except Exception as exc:  # noqa: BLE001
            raise DemandModelError("demand_model.file", f"{where} raised {type(exc).__name__}: {exc}") from None
        demand, feats = (out.get("demand"), out.get("features", {})) if isinstance(out, Mapping) else (out, {})
        try:
            arr = np.asarray(demand, dtype=float)
        except (TypeError, ValueError):
            raise DemandModelError("demand_model.file", f"{where} returned demand that is not numeric") from None
        if arr.shape != (days,) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise DemandModelError("demand_model.file", f"{where} must return {days} finite demands >= 0, "
                                   f"got shape {arr.shape}")
        names = {f.name for f in self.features}
        if not isinstance(feats, Mapping) or set(feats) != names:
            raise DemandModelError("demand_model.file", f"{where} must return features "
                                   f"{sorted(names)}, got {sorted(feats) if isinstance(feats, Mapping) else feats!r}")
        return arr, {k: np.asarray(v) for k, v in feats.items()}


def _next_dates(dates: list[str], days: int) -> list[str]:
    """ISO dates after the last of ``dates`` (``sim+k`` labels when it is not an ISO date)."""
    try:
        last = np.datetime64(dates[-1], "D")
    except (ValueError, IndexError):
        return [f"sim+{k + 1}" for k in range(days)]
    return [str(d) for d in last + 1 + np.arange(days)]
