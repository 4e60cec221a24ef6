"""The ORPR paper's PTO and BM baselines (Sec. 4.2.1) as formulas, and their policy files.

The library policy files (``inventory/library/pto_normal.py``, ``pto_gamma.py``,
``bm_quantile.py``) implement these levels with numpy alone (policy files may import only
pure modules); the tests hold them to these scipy formulas. Under SPEC §1 timing the
protection interval of a periodic order-up-to policy is R + L days, so callers pass
``LT = L``. b is the stockout cost (the workspace's p), h the holding cost.
"""
from __future__ import annotations

import math
from enum import Enum

import numpy as np
from scipy import stats

__all__ = ["PaperBaseline", "pto_normal_level", "fit_gamma_moments", "pto_gamma_level", "bm_level"]


class PaperBaseline(str, Enum):
    """Rows of the paper's Table 1 that are plain formulas, with their library policy file."""

    PTO_NORMAL = "pto_normal"
    PTO_GAMMA = "pto_gamma"
    BM_50 = "bm_50"
    BM_85 = "bm_85"

    @property
    def policy(self) -> str:
        """Library policy file name."""
        return "bm_quantile" if self in (PaperBaseline.BM_50, PaperBaseline.BM_85) else self.value

    def params(self, review_period: int, window: int) -> dict[str, float]:
        """The policy file's parameters for this row (the formula, untuned)."""
        if self is PaperBaseline.BM_50:
            return {"R": float(review_period), "x": 50.0}
        if self is PaperBaseline.BM_85:
            return {"R": float(review_period), "x": 85.0}
        return {"R": float(review_period), "window": float(window)}

    @property
    def label(self) -> str:
        return {"pto_normal": "PTO_normal", "pto_gamma": "PTO_gamma", "bm_50": "BM_50", "bm_85": "BM_85"}[self.value]


def _critical_ratio(b: float, h: float) -> float:
    if not (b >= 0 and h >= 0 and b + h > 0):
        raise ValueError(f"need b >= 0, h >= 0, b + h > 0; got b={b}, h={h}")
    return b / (b + h)


def pto_normal_level(mu: float, sigma: float, R: int, LT: int, b: float, h: float) -> float:
    """PTO_normal = mu (R + LT) + Phi^{-1}(b / (b + h)) sigma sqrt(R + LT)."""
    span = R + LT
    if span <= 0 or sigma < 0:
        raise ValueError(f"need R + LT > 0 and sigma >= 0, got R={R}, LT={LT}, sigma={sigma}")
    return float(mu * span + stats.norm.ppf(_critical_ratio(b, h)) * sigma * math.sqrt(span))


def fit_gamma_moments(demand: np.ndarray) -> tuple[float, float]:
    """Method-of-moments Gamma(k, theta): k = mean^2 / var, theta = var / mean (ddof = 1)."""
    d = np.asarray(demand, dtype=float)
    if len(d) < 2:
        raise ValueError("need at least two observations to fit a gamma by moments")
    m, var = float(d.mean()), float(d.var(ddof=1))
    if m <= 0 or var <= 0:
        raise ValueError(f"gamma fit needs mean > 0 and variance > 0, got mean={m}, var={var}")
    return m * m / var, var / m


def pto_gamma_level(k: float, theta: float, R: int, LT: int, b: float, h: float) -> float:
    """PTO_gamma = quantile b / (b + h) of Gamma((R + LT) k, theta)."""
    span = R + LT
    if span <= 0 or k <= 0 or theta <= 0:
        raise ValueError(f"need R + LT > 0, k > 0, theta > 0; got R={R}, LT={LT}, k={k}, theta={theta}")
    return float(stats.gamma.ppf(_critical_ratio(b, h), a=span * k, scale=theta))


def bm_level(demand: np.ndarray, x: float) -> float:
    """BM_x: the x-th percentile (0 <= x <= 100, linear interpolation) of ``demand``."""
    d = np.asarray(demand, dtype=float)
    if len(d) == 0:
        raise ValueError("empty demand sample")
    if not 0 <= x <= 100:
        raise ValueError(f"x is a percentile in [0, 100], got {x}")
    return float(np.quantile(d, x / 100.0))
