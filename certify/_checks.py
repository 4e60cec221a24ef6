"""Argument checks shared by the certify modules.

Every public function in ``certify`` validates its inputs before computing, so that a bad
number (NaN cost, zero pairs budget, delta outside (0, 1)) is reported where it enters
rather than surfacing later as a silently wrong confidence bound.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as ``int`` if it is an integer (not bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(name: str, value: object, minimum: float | None = None) -> float:
    """Return ``value`` as a finite ``float``, optionally >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def check_open_unit(name: str, value: object) -> float:
    """Return ``value`` as a float strictly inside (0, 1) (confidence budgets, levels)."""
    out = check_real(name, value)
    if not 0.0 < out < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {out}")
    return out


def finite_vector(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a 1-D float array with only finite entries."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must be finite; entry {bad} is {arr[bad]}")
    return arr


def min_sample_for_level(level: float) -> int:
    """Smallest n with n * (1 - level) >= 1.

    An upper ``level`` quantile estimated from n points says something beyond the sample
    maximum's position only when at least one observation is expected at or above it.
    """
    return max(1, math.ceil(round(1.0 / (1.0 - level), 9)))
