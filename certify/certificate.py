"""The certificate record: what was compared, on how much data, and what the gates said.

A :class:`Certificate` is the audit record SPEC §4 asks for. It is immutable, validates
itself on construction, and round-trips through JSON-safe dicts so that audit reports can
be written and re-read without loss.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Mapping

import numpy as np

RADIUS_KINDS = ("hoeffding", "blockwise_t", "blockwise_maxt", "maxt_bootstrap", "eb_cs")
GUARANTEES = ("screen", "asymptotic", "formal")
GAIN_SOURCES = ("in_sample", "walk_forward", "replications")
EPS_ESTIMATORS = ("constant", "historical_quantile", "shift_conditioned", "ipm", "conservative")

_DEPENDENCE = (
    "Daily gains on a single replay path are not independent (inventory carries over "
    "between days)"
)

KIND_CAVEATS: dict[str, str] = {
    "hoeffding": (
        f"{_DEPENDENCE}, so a Hoeffding radius on one path is a screen, not a formal "
        "guarantee; independent replications or an anytime-valid method make it formal."
    ),
    "blockwise_t": (
        f"{_DEPENDENCE}; blocking only damps that dependence, so the blockwise-t radius "
        "is a practical screen, not a formal certificate."
    ),
    "blockwise_maxt": (
        "Max-t (Dunnett-type) bound on block means, simultaneous over every candidate compared "
        "with the same comparator (selection-aware); exact if block means are independent and "
        "normal, which blocking only approximates."
    ),
    "maxt_bootstrap": (
        "Studentised stationary-bootstrap max-t bound, simultaneous over every candidate "
        "compared with the same comparator (selection-aware); asymptotic, for stationary and "
        "weakly dependent gains."
    ),
    "eb_cs": (
        "Empirical-Bernstein confidence sequence (anytime-valid); formal only for independent "
        "replications or gains whose conditional mean given the past is constant."
    ),
}


def certificate_note(radius_kind: str, block: int | None = None,
                     n_blocks: int | None = None, dropped_days: int = 0) -> str:
    """Caveat text stored in every certificate (see :data:`KIND_CAVEATS`).

    States that daily gains on one path are dependent, so a Hoeffding radius on one path
    is a screen rather than a formal guarantee, and that blockwise-t is a practical
    screen. Blockwise-t notes also record the blocking and any dropped tail days.
    """
    if radius_kind not in KIND_CAVEATS:
        raise ValueError(f"radius_kind must be one of {RADIUS_KINDS}, got {radius_kind!r}")
    if radius_kind == "hoeffding":
        return KIND_CAVEATS["hoeffding"]
    tail = (f"; {dropped_days} trailing day(s) in an incomplete block dropped"
            if dropped_days else "")
    return (f"Blockwise-t over {n_blocks} block(s) of {block} days{tail}. "
            + KIND_CAVEATS["blockwise_t"])


_KINDS: dict[str, str] = {
    "candidate_id": "str",
    "source_hash": "str",
    "comparator_id": "str",
    "n": "int",
    "mean_gain": "float",
    "sd_gain": "float",
    "radius_kind": "str",
    "radius": "float",
    "lcb": "float",
    "ucb": "float",
    "delta": "float",
    "n_pairs": "int",
    "eps": "float",
    "eta": "float",
    "bound": "float?",
    "block": "int?",
    "n_blocks": "int?",
    "safety_pass": "bool?",
    "improvement_pass": "bool?",
    "note": "str",
    "guarantee": "str",
    "gain_source": "str",
    "first_day": "int?",
    "last_day": "int?",
    "n_segments": "int?",
    "eps_estimator": "str",
    "critical": "float?",
}

# Fields added with out-of-sample certification; records written before them lack them.
_LATER_DEFAULTS: dict[str, Any] = {
    "guarantee": "screen", "gain_source": "in_sample", "first_day": None, "last_day": None,
    "n_segments": None, "eps_estimator": "constant", "critical": None,
}


def _parse(name: str, kind: str, value: Any) -> Any:
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    is_bool = isinstance(value, (bool, np.bool_))
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "bool" and is_bool:
        return bool(value)
    if kind == "int" and isinstance(value, Integral) and not is_bool:
        return int(value)
    if kind == "float" and isinstance(value, Real) and not is_bool:
        return float(value)
    raise ValueError(
        f"certificate field {name!r} must be {kind}"
        f"{' or None' if _KINDS[name].endswith('?') else ''}, got {value!r}"
    )


@dataclass(frozen=True)
class Certificate:
    """One policy-vs-comparator replay certificate (gain = comparator cost - candidate cost).

    ``n``, ``mean_gain`` and ``sd_gain`` (ddof=1) describe the daily gains that entered the
    bound; ``lcb = mean_gain - radius`` and ``ucb = mean_gain + radius``. ``safety_pass``
    is set when the comparator is the reference, ``improvement_pass`` when it is the
    champion; the other is ``None``. ``bound`` is required for a Hoeffding radius, ``block``
    and ``n_blocks`` for a blockwise-t one.

    Provenance (SPEC §4, out-of-sample rule): ``gain_source`` says whether the gains were
    in-sample, walk-forward or independent replications, ``first_day``..``last_day`` the
    replay days they came from (``None`` for replications), ``n_segments`` the number of
    walk-forward segments or replications; ``guarantee`` what the bound promises for that
    source (screen | asymptotic | formal); ``eps_estimator`` which estimator set ``eps``
    (constant | historical_quantile | shift_conditioned | ipm | conservative); ``critical``
    the t or bootstrap multiplier where the method has one.
    """

    candidate_id: str
    source_hash: str
    comparator_id: str
    n: int
    mean_gain: float
    sd_gain: float
    radius_kind: str
    radius: float
    lcb: float
    ucb: float
    delta: float
    n_pairs: int
    eps: float
    eta: float
    bound: float | None
    block: int | None
    n_blocks: int | None
    safety_pass: bool | None
    improvement_pass: bool | None
    note: str
    guarantee: str = "screen"
    gain_source: str = "in_sample"
    first_day: int | None = None
    last_day: int | None = None
    n_segments: int | None = None
    eps_estimator: str = "constant"
    critical: float | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _parse(f.name, _KINDS[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)
        if self.radius_kind not in RADIUS_KINDS:
            raise ValueError(
                f"certificate field 'radius_kind' must be one of {RADIUS_KINDS}, "
                f"got {self.radius_kind!r}"
            )
        for name, allowed in (("guarantee", GUARANTEES), ("gain_source", GAIN_SOURCES),
                              ("eps_estimator", EPS_ESTIMATORS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"certificate field {name!r} must be one of {allowed}, "
                                 f"got {getattr(self, name)!r}")
        if (self.first_day is None) != (self.last_day is None) or (
                self.first_day is not None and not 0 <= self.first_day <= self.last_day):
            raise ValueError("certificate fields 'first_day'/'last_day' must both be None or "
                             f"0 <= first_day <= last_day, got {self.first_day}, {self.last_day}")
        for name in ("mean_gain", "sd_gain", "radius", "lcb", "ucb", "delta", "eps", "eta"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"certificate field {name!r} must be finite")
        for name in ("bound", "critical"):
            if getattr(self, name) is not None and not math.isfinite(getattr(self, name)):
                raise ValueError(f"certificate field {name!r} must be finite")
        _at_least(self, "n", 1)
        _at_least(self, "n_pairs", 1)
        for name in ("sd_gain", "radius", "eps", "eta"):
            _at_least(self, name, 0.0)
        if self.bound is not None:
            _at_least(self, "bound", 0.0)
        if not 0.0 < self.delta < 1.0:
            raise ValueError(f"certificate field 'delta' must be in (0, 1), got {self.delta}")
        if self.lcb > self.ucb:
            raise ValueError(f"certificate has lcb {self.lcb} > ucb {self.ucb}")
        if self.radius_kind == "hoeffding" and self.bound is None:
            raise ValueError("certificate field 'bound' is required for a hoeffding radius")
        if self.radius_kind == "blockwise_t":
            for name in ("block", "n_blocks"):
                if getattr(self, name) is None:
                    raise ValueError(
                        f"certificate field {name!r} is required for a blockwise_t radius"
                    )
                _at_least(self, name, 1)

    def to_dict(self) -> dict[str, Any]:
        """All fields as a dict of str / int / float / bool / None (``json.dumps``-safe)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Certificate":
        """Rebuild a certificate from :meth:`to_dict` output.

        Raises ``ValueError`` naming the first missing field, any unknown field, or a field
        whose value has the wrong type; ints are accepted where floats are expected.
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"certificate must be a mapping, got {type(d).__name__}")
        d = {**_LATER_DEFAULTS, **d}
        missing = [name for name in _KINDS if name not in d]
        if missing:
            raise ValueError(f"certificate dict is missing field {missing[0]!r}"
                             + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        unknown = sorted(str(k) for k in d if k not in _KINDS)
        if unknown:
            raise ValueError(f"certificate dict has unknown field(s): {', '.join(unknown)}")
        return cls(**{name: _parse(name, kind, d[name]) for name, kind in _KINDS.items()})

    def summary(self) -> str:
        """One line: ids, radius kind, n, mean, radius, bounds, eps/eta and gate outcomes."""
        return (
            f"{self.candidate_id} vs {self.comparator_id} [{self.radius_kind}, {self.guarantee}, "
            f"{self.gain_source}] "
            f"n={self.n} mean={self.mean_gain:+.4f} sd={self.sd_gain:.4f} "
            f"r={self.radius:.4f} LCB={self.lcb:+.4f} UCB={self.ucb:+.4f} "
            f"eps={self.eps:.4f} ({self.eps_estimator}) eta={self.eta:.4f} "
            f"safety={gate_label(self.safety_pass)} "
            f"improvement={gate_label(self.improvement_pass)}"
        )


def gate_label(outcome: bool | None) -> str:
    """``PASS`` / ``FAIL`` for a gate outcome, ``-`` for a gate not evaluated."""
    if outcome is None:
        return "-"
    return "PASS" if outcome else "FAIL"


def _at_least(cert: Certificate, name: str, minimum: float) -> None:
    value = getattr(cert, name)
    if value < minimum:
        raise ValueError(f"certificate field {name!r} must be >= {minimum}, got {value}")
