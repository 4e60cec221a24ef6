"""The policy-file contract: what an LLM (or the built-in proposer) writes.

A policy is one Python file with two things in it::

    import numpy as np

    # Search space tuned by Optuna on the replay window. Either a constant dict ...
    PARAMS = {"S": (0.0, 60.0), "r": (0.0, 30.0)}       # (low, high[, "int" | "log"])
    # ... or a function of the replay window's scale (see SpaceInfo):
    # def search_space(info):
    #     return {"S": (0.0, 4 * info.mean_demand * (info.lead_time + 1))}

    def order(obs, params):
        gap = np.maximum(params["S"] - obs.position, 0.0)
        return np.minimum(gap, params["r"])

``order`` is called once per day. ``obs`` is an :class:`inventory.observation.Observation`;
``params`` maps each parameter name to its value. The evaluator first calls ``order`` with
numpy arrays (one entry per parameter set: ``obs.on_hand`` and each ``params[k]`` have shape
``(n,)``) and checks the result against a plain scalar call; code written for scalars (``if``,
``max``, ``min``) is detected and run one parameter set at a time, so either style is correct.

Compiling a policy executes its module body, so only trusted code (library baselines) may be
compiled outside a sandbox. Validation of untrusted source is the static validator's job.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

ENTRY_POINT = "order"


class PolicyError(Exception):
    """A policy failed: it did not compile, raised, or returned an invalid order."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise PolicyError(f"parameter {self.name!r}: bounds must be finite")
        if self.high < self.low:
            raise PolicyError(f"parameter {self.name!r}: high {self.high} < low {self.low}")
        if self.log and self.low <= 0:
            raise PolicyError(f"parameter {self.name!r}: log scale needs low > 0")


@dataclass(frozen=True)
class SpaceInfo:
    """Scale of the replay window, for policies whose search space depends on it."""

    mean_demand: float
    std_demand: float
    max_demand: float
    lead_time: int
    h: float
    p: float
    n_days: int
    integer: bool = False  # whole units: orders are rounded, so integer levels give every distinct policy

    @classmethod
    def from_demand(cls, demand: np.ndarray, lead_time: int, h: float, p: float,
                    integer: bool = False) -> "SpaceInfo":
        d = np.asarray(demand, dtype=float)
        return cls(
            mean_demand=float(d.mean()) if len(d) else 0.0,
            std_demand=float(d.std()) if len(d) else 0.0,
            max_demand=float(d.max()) if len(d) else 0.0,
            lead_time=int(lead_time), h=float(h), p=float(p), n_days=len(d), integer=bool(integer),
        )


def parse_space(raw: Any, where: str = "PARAMS") -> tuple[ParamSpec, ...]:
    """Turn a ``PARAMS``-style dict into validated :class:`ParamSpec` records."""
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} must be a dict of name -> (low, high[, 'int'|'log'])")
    specs = []
    for name, bounds in raw.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise PolicyError(f"{where}: parameter name {name!r} is not an identifier")
        if not isinstance(bounds, (tuple, list)) or len(bounds) not in (2, 3):
            raise PolicyError(f"{where}[{name!r}] must be (low, high) or (low, high, 'int'|'log')")
        flag = bounds[2] if len(bounds) == 3 else None
        if flag not in (None, "int", "log"):
            raise PolicyError(f"{where}[{name!r}]: third entry must be 'int' or 'log', got {flag!r}")
        try:
            low, high = float(bounds[0]), float(bounds[1])
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"{where}[{name!r}]: bounds must be numbers") from exc
        specs.append(ParamSpec(name, low, high, integer=flag == "int", log=flag == "log"))
    if len(specs) > 12:
        raise PolicyError(f"{where}: at most 12 tunable parameters, got {len(specs)}")
    return tuple(specs)


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


@dataclass
class PolicyProgram:
    """A compiled policy. ``vectorised`` is learnt on first simulation (None until then)."""

    source: str
    order: Callable[..., Any]
    _space: tuple[ParamSpec, ...] | None
    _space_fn: Callable[[SpaceInfo], Any] | None
    name: str = "policy"
    vectorised: bool | None = None

    @property
    def hash(self) -> str:
        return source_hash(self.source)

    def space(self, info: SpaceInfo) -> tuple[ParamSpec, ...]:
        if self._space is not None:
            return self._space
        assert self._space_fn is not None
        try:
            raw = self._space_fn(info)
        except Exception as exc:  # noqa: BLE001 - policy code may raise anything
            raise PolicyError(f"search_space(info) raised {type(exc).__name__}: {exc}") from exc
        return parse_space(raw, "search_space(info)")


def compile_policy(source: str, name: str = "policy") -> PolicyProgram:
    """Execute a policy file's module body and extract its entry points.

    Executes arbitrary code: call it only on trusted source or inside a sandbox.
    """
    namespace: dict[str, Any] = {"__name__": f"invevolve_policy_{name}"}
    try:
        code = compile(source, f"<{name}>", "exec")
        exec(code, namespace)  # noqa: S102 - the documented purpose of this function
    except SyntaxError as exc:
        raise PolicyError(f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    except Exception as exc:  # noqa: BLE001
        raise PolicyError(f"module body raised {type(exc).__name__}: {exc}") from exc
    fn = namespace.get(ENTRY_POINT)
    if not callable(fn):
        raise PolicyError(f"policy must define a function `{ENTRY_POINT}(obs, params)`")
    space_fn = namespace.get("search_space")
    if "PARAMS" in namespace:
        return PolicyProgram(source, fn, parse_space(namespace["PARAMS"]), None, name)
    if callable(space_fn):
        return PolicyProgram(source, fn, None, space_fn, name)
    return PolicyProgram(source, fn, (), None, name)


def params_for_row(params: Mapping[str, np.ndarray], i: int) -> dict[str, float]:
    return {k: float(np.asarray(v)[i]) for k, v in params.items()}


def stack_params(rows: list[Mapping[str, float]]) -> dict[str, np.ndarray]:
    """List of parameter dicts -> dict of arrays (the vectorised layout)."""
    if not rows:
        return {}
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
