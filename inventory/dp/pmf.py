"""Demand pmfs for the exact DP and the bounds derived from them (Morton's truncation bound).

A pmf lives on ``{0..Dmax}``; the tail beyond ``tail`` is lumped on the last point.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

MARGIN = 3  # states above Morton's bound kept in the truncation


class TruncationError(RuntimeError):
    """The optimal policy (or best parameter) hit the edge of the truncation/search range."""


def _finish_pmf(pmf: np.ndarray, tail_mass: float) -> np.ndarray:
    """Lump the truncated tail mass onto the last support point and renormalise."""
    pmf = np.asarray(pmf, dtype=float).copy()
    pmf[-1] += max(tail_mass, 0.0)
    pmf = np.clip(pmf, 0.0, None)
    return pmf / pmf.sum()


def _check_law(mean: float, tail: float) -> None:
    if not (mean >= 0 and math.isfinite(mean)):
        raise ValueError(f"mean must be finite and >= 0, got {mean}")
    if not (0 < tail < 1):
        raise ValueError("tail must be in (0, 1)")


def poisson_pmf(mean: float, tail: float = 1e-12) -> np.ndarray:
    """Poisson(mean) pmf on ``{0..Dmax}``, ``Dmax`` the smallest k with P(D > k) <= tail.

    The tail mass P(D > Dmax) is added to P(D = Dmax) so the pmf sums to one.
    """
    _check_law(mean, tail)
    if mean == 0:
        return np.ones(1)
    upper = int(mean + 20 * math.sqrt(mean) + 50)
    while True:
        ks = np.arange(upper + 1)
        sf = stats.poisson.sf(ks, mean)
        hit = np.nonzero(sf <= tail)[0]
        if hit.size:
            dmax = int(hit[0])
            break
        upper *= 2
    ks = np.arange(dmax + 1)
    return _finish_pmf(stats.poisson.pmf(ks, mean), float(sf[dmax]))


def geometric_pmf(mean: float, tail: float = 1e-12) -> np.ndarray:
    """Geometric pmf on ``{0, 1, ...}`` with the given mean: P(D=k) = (1/(1+m)) (m/(1+m))^k.

    Truncated at the smallest ``Dmax`` with P(D > Dmax) = (m/(1+m))^(Dmax+1) <= tail;
    the tail mass is lumped onto ``Dmax``.
    """
    _check_law(mean, tail)
    if mean == 0:
        return np.ones(1)
    rho = mean / (1.0 + mean)
    dmax = max(int(math.ceil(math.log(tail) / math.log(rho))) - 1, 0)
    while rho ** (dmax + 1) > tail:  # guard against rounding in the log formula
        dmax += 1
    ks = np.arange(dmax + 1)
    pmf = (1.0 - rho) * rho**ks
    return _finish_pmf(pmf, rho ** (dmax + 1))


def _check_pmf(pmf) -> np.ndarray:
    pmf = np.asarray(pmf, dtype=float).ravel()
    if pmf.size == 0 or np.any(pmf < 0) or not np.all(np.isfinite(pmf)):
        raise ValueError("pmf must be a non-empty vector of non-negative finite numbers")
    s = pmf.sum()
    if abs(s - 1.0) > 1e-8:
        raise ValueError(f"pmf must sum to 1 (sums to {s!r})")
    return pmf / s


def _check_params(lead_time: int, h: float, p: float) -> int:
    if int(lead_time) != lead_time or lead_time < 0:
        raise ValueError(f"lead_time must be a non-negative integer, got {lead_time}")
    if h < 0 or p < 0:
        raise ValueError("h and p must be non-negative")
    return int(lead_time)


def morton_bound(pmf, lead_time: int, h: float, p: float) -> int:
    """Backorder base-stock level ``S_b``: the p/(p+h) fractile of demand over L+1 periods.

    Morton (1971) (cited as eq. (4) in Zipkin 2008): an optimal lost-sales policy orders at
    most ``(S_b - IP)^+``.  Used here only to pick default truncation bounds and
    search ranges; the non-binding of the truncation is verified numerically.
    """
    pmf = _check_pmf(pmf)
    L = _check_params(lead_time, h, p)
    conv = pmf
    for _ in range(L):
        conv = np.convolve(conv, pmf)
    frac = p / (p + h) if p + h > 0 else 0.0
    cdf = np.cumsum(conv)
    return int(min(np.searchsorted(cdf, frac - 1e-12), conv.size - 1))


def _expected_overage_underage(pmf: np.ndarray, ymax: int) -> tuple[np.ndarray, np.ndarray]:
    """E(y - D)^+ and E(D - y)^+ for y = 0..ymax."""
    dmax = pmf.size - 1
    n = max(ymax, dmax) + 1
    cdf = np.ones(n)
    cdf[: dmax + 1] = np.cumsum(pmf)
    cdf = np.minimum(cdf, 1.0)
    over = np.concatenate([[0.0], np.cumsum(cdf[:ymax])])  # sum_{d<y} F(d)
    mean = float(np.dot(np.arange(dmax + 1), pmf))
    ys = np.arange(ymax + 1)
    under = mean - ys + over
    return over, np.maximum(under, 0.0)
