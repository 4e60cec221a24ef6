"""The paper's two radii as :class:`~certify.method.Method` implementations, unchanged.

Both split the family budget evenly over its columns (a union bound), so a family of k
pairs at budget k * delta / N_t gives every pair delta / N_t, exactly the paper's radius
(SPEC §4). What changes with the gain source is only what they may claim.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from certify._checks import check_int, check_real
from certify.method import GainSource, Guarantee, Interval, Method, per_column_alpha
from certify.radii import blockwise_t_radius, hoeffding_radius

BOUND_RTOL = 1e-9


class Hoeffding(Method):
    """r = B sqrt(2 ln(2 / alpha_pair) / n) for gains in [-B, B] (B fixed before the gains)."""

    kind = "hoeffding"

    def __init__(self, bound: float):
        self.bound = check_real("bound", bound, 0.0)

    def assumptions(self) -> str:
        return (f"Assumes independent observations bounded in [-{self.bound:g}, {self.bound:g}] "
                "(B fixed before the gains were seen).")

    def guarantee(self, source: GainSource) -> Guarantee:
        # Daily gains on one path are dependent (inventory carries over); only independent
        # replications satisfy Hoeffding's assumption.
        return Guarantee.FORMAL if source is GainSource.REPLICATIONS else Guarantee.SCREEN

    def intervals(self, gains: np.ndarray, alpha: float) -> list[Interval]:
        arr, alpha = self._matrix(gains, alpha)
        worst = float(np.max(np.abs(arr)))
        if worst > self.bound * (1.0 + BOUND_RTOL):
            raise ValueError(
                f"a gain of magnitude {worst} exceeds the bound B={self.bound}; the Hoeffding "
                "radius is invalid. Fix B from the cost parameters and replay bounds so that it "
                "caps every daily cost."
            )
        n, k = arr.shape
        radius = hoeffding_radius(n, self.bound, 1, per_column_alpha(alpha, k))
        return [Interval(float(c.mean()), float(c.std(ddof=1)), n, radius) for c in arr.T]


class BlockwiseT(Method):
    """t_{1 - alpha_pair/2, M-1} s_b / sqrt(M) over M complete blocks of ``block`` observations."""

    kind = "blockwise_t"

    def __init__(self, block: int):
        self.block = check_int("block", block, 1)

    def assumptions(self) -> str:
        if self.block == 1:
            return "Assumes independent observations with near-normal means (t interval)."
        return (f"Assumes means of {self.block}-day blocks are close to independent and normal; "
                "blocking only damps the day-to-day dependence.")

    def guarantee(self, source: GainSource) -> Guarantee:
        return Guarantee.ASYMPTOTIC if source is GainSource.REPLICATIONS else Guarantee.SCREEN

    def min_observations(self) -> int:
        return 2 * self.block

    def intervals(self, gains: np.ndarray, alpha: float) -> list[Interval]:
        arr, alpha = self._matrix(gains, alpha)
        n, k = arr.shape
        a = per_column_alpha(alpha, k)
        out = []
        for col in arr.T:
            # blockwise_t_radius(gains, b, N, delta) uses t_{1 - delta/(2N)}: N=1, delta=a.
            radius, m = blockwise_t_radius(col, self.block, 1, a)
            used = col[: m * self.block]
            crit = float(stats.t.ppf(1.0 - a / 2.0, m - 1))
            out.append(Interval(float(used.mean()), float(used.std(ddof=1)), int(used.size), radius,
                                critical=crit, block=self.block, n_blocks=m))
        return out
