"""Anytime-valid bounds: the predictable-plug-in empirical-Bernstein confidence sequence.

Waudby-Smith & Ramdas (2024), "Estimating means of bounded random variables by betting",
JRSS-B 86(1), Theorem 2 (PrPl-EB). For observations X_1, X_2, ... in [0, 1] whose
conditional mean given the past is a constant mu,

    C_t = ( sum_i lam_i X_i / sum_i lam_i  +-  (log(2/a) + sum_i v_i psi_E(lam_i)) / sum_i lam_i )

with v_i = 4 (X_i - mu_{i-1})^2, psi_E(l) = (-log(1 - l) - l) / 4,
lam_i = min(sqrt(2 log(2/a) / (s2_{i-1} i log(1 + i))), c), c = 1/2,
mu_t = (1/2 + sum_{i<=t} X_i) / (t + 1) and s2_t = (1/4 + sum_{i<=t} (X_i - mu_i)^2) / (t + 1),
covers mu at every t simultaneously with probability >= 1 - a. "Simultaneously at every
t" is what survives adaptive stopping: a search may look after each segment, or a period
loop after each period, and stop whenever the bound clears the gate. The running
intersection of C_1..C_t keeps that guarantee and is what is reported.

Gains in [-B, B] are mapped to [0, 1] by x = (g + B) / (2B); B must be fixed before the
gains are seen, as for Hoeffding. Unlike Hoeffding the width adapts to the variance, but
a loose B still costs width through the lam <= c truncation.

``alpha_spending`` splits a budget over candidates that arrive one by one, so that the
number of candidates need not be fixed in advance either.

No maintained Python implementation was usable here: ``confseq`` (the authors' package,
0.0.11, 2023) needs Boost and a C++ build. The formula above is implemented from the paper
and checked against a hand computation and by simulation under optional stopping.
"""
from __future__ import annotations

import math

import numpy as np

from certify._checks import check_int, check_open_unit, check_real
from certify.classic import BOUND_RTOL
from certify.method import GainSource, Guarantee, Interval, Method, per_column_alpha

TRUNCATION = 0.5


def eb_confidence_sequence(x: np.ndarray, alpha: float, truncation: float = TRUNCATION
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper PrPl-EB bounds C_t for t = 1..n on [0, 1] data (no intersection)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 1:
        raise ValueError("x must be a non-empty 1-D array")
    if np.any(x < -1e-12) or np.any(x > 1 + 1e-12):
        raise ValueError("x must lie in [0, 1]")
    alpha = check_open_unit("alpha", alpha)
    t = np.arange(1, x.size + 1, dtype=float)
    mu = (0.5 + np.cumsum(x)) / (t + 1.0)
    s2 = (0.25 + np.cumsum((x - mu) ** 2)) / (t + 1.0)
    mu_prev = np.concatenate([[0.5], mu[:-1]])
    s2_prev = np.concatenate([[0.25], s2[:-1]])
    log_term = math.log(2.0 / alpha)
    lam = np.minimum(np.sqrt(2.0 * log_term / (s2_prev * t * np.log1p(t))), truncation)
    v = 4.0 * (x - mu_prev) ** 2
    psi = (-np.log1p(-lam) - lam) / 4.0
    denom = np.cumsum(lam)
    centre = np.cumsum(lam * x) / denom
    margin = (log_term + np.cumsum(v * psi)) / denom
    return np.clip(centre - margin, 0.0, 1.0), np.clip(centre + margin, 0.0, 1.0)


def running_interval(x: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Running intersection of the sequence at the last time: (lower, upper, centre) on [0, 1]."""
    lo, hi = eb_confidence_sequence(x, alpha)
    lower, upper = float(np.max(lo)), float(np.min(hi))
    if lower > upper:  # an empty intersection happens only on a miscoverage event
        lower = upper = 0.5 * (lower + upper)
    return lower, upper, float(np.mean(x))


def alpha_spending(budget: float, index: int) -> float:
    """Share of ``budget`` for the ``index``-th candidate (1-based): budget / (index (index+1)).

    The shares sum to ``budget`` over index = 1, 2, ..., so any number of candidates,
    decided adaptively, stays within it.
    """
    budget = check_open_unit("budget", budget)
    index = check_int("index", index, 1)
    return budget / (index * (index + 1))


class EmpiricalBernsteinCS(Method):
    """Anytime-valid two-sided bounds per column (union bound over the family's columns)."""

    kind = "eb_cs"

    def __init__(self, bound: float):
        self.bound = check_real("bound", bound, 0.0)
        if self.bound <= 0:
            raise ValueError("eb_cs needs a gain bound B > 0")

    def assumptions(self) -> str:
        return (f"Assumes observations in [-{self.bound:g}, {self.bound:g}] (B fixed before the "
                "gains) with a constant conditional mean given the past; valid at every time at "
                "once, so stopping when it looks good is allowed.")

    def guarantee(self, source: GainSource) -> Guarantee:
        return Guarantee.FORMAL if source is GainSource.REPLICATIONS else Guarantee.SCREEN

    def min_observations(self) -> int:
        return 1

    def intervals(self, gains: np.ndarray, alpha: float) -> list[Interval]:
        arr, alpha = self._matrix(gains, alpha)
        worst = float(np.max(np.abs(arr)))
        if worst > self.bound * (1.0 + BOUND_RTOL):
            raise ValueError(f"a gain of magnitude {worst} exceeds the bound B={self.bound}; "
                             "the confidence sequence is invalid")
        n, k = arr.shape
        a = per_column_alpha(alpha, k)
        scale = 2.0 * self.bound
        out = []
        for col in arr.T:
            x = np.clip((col + self.bound) / scale, 0.0, 1.0)
            lo, hi, _ = running_interval(x, a)
            lcb, ucb = lo * scale - self.bound, hi * scale - self.bound
            mean = float(col.mean())
            # The sequence is centred on a weighted mean; report its bounds around the sample
            # mean (a bound above the sample mean is clipped to it, which only widens).
            out.append(Interval(mean, float(col.std(ddof=1)) if n > 1 else 0.0, n,
                                max(mean - lcb, 0.0), upper_radius=max(ucb - mean, 0.0)))
        return out
