"""Selection-aware simultaneous lower bounds: the studentised max-t stationary bootstrap.

Picking the best of k candidates on one dependent series is the data-snooping problem of
White's Reality Check, Hansen's SPA and Romano & Wolf's StepM. This method is the
single-step Romano-Wolf construction: resample the (n, k) gain matrix with a stationary
block bootstrap (``arch.bootstrap.StationaryBootstrap``, Politis & Romano 1994), with the
mean block length chosen by ``arch.bootstrap.optimal_block_length`` (Politis & White
2004, Patton et al. 2009) unless fixed; studentise each column by its bootstrap standard
error; and take c = the (1 - alpha) quantile of max_k (m*_k - m_k) / se_k. Then

    LCB_k = m_k - c * se_k   for every k at once,

which holds simultaneously with probability -> 1 - alpha as n grows, for stationary,
weakly dependent gains. In short windows the bootstrap standard error runs low (about 15%
for AR(1) gains with coefficient 0.5 at n = 240), so when studentised the critical value is
mapped through Student's t with n / block - 1 degrees of freedom, as batch-means theory
suggests: c_t = t_{n/b-1}^{-1}(Phi(c)). That correction is ours; the docs give its measured
coverage. Deploying any column whose LCB clears the gate is therefore safe
*after* selecting it among k, which a per-pair interval is not. The bound is one-sided:
``ucb = m + c * se`` is reported for ranking only (SPEC §4's argmax-UCB rule).

With ``studentize=False`` the critical value is the one ``arch.bootstrap.SPA`` reports as
its "upper" critical value for the same draws; the tests check that identity.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from certify._checks import check_int
from certify.method import GainSource, Guarantee, Interval, Method

DEFAULT_REPS = 999


def auto_block(gains: np.ndarray, minimum: int = 1) -> int:
    """Mean block length for the stationary bootstrap of ``gains`` (n, k).

    Politis-White optimal length per non-constant column (arch), median over columns,
    rounded up, at least ``minimum`` and at most n // 4 (so that a resample still holds
    several blocks).
    """
    from arch.bootstrap import optimal_block_length  # arch pulls in pandas: import on use

    arr = np.asarray(gains, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    n = arr.shape[0]
    cap = max(1, n // 4)
    live = arr[:, np.ptp(arr, axis=0) > 0]
    if live.shape[1] == 0 or n < 8:
        return max(1, min(minimum, cap))
    lengths = optimal_block_length(live)["stationary"].to_numpy(dtype=float)
    lengths = lengths[np.isfinite(lengths)]
    est = math.ceil(float(np.median(lengths))) if lengths.size else 1
    return int(min(max(est, minimum, 1), cap))


class MaxTBootstrap(Method):
    """Simultaneous one-sided lower bounds over all columns (see the module docstring)."""

    kind = "maxt_bootstrap"
    selection_aware = True
    two_sided = False

    def __init__(self, *, reps: int = DEFAULT_REPS, block: int | None = None, min_block: int = 1,
                 seed: int = 0, studentize: bool = True):
        self.reps = check_int("reps", reps, 99)
        self.block = None if block is None else check_int("block", block, 1)
        self.min_block = check_int("min_block", min_block, 1)
        self.seed = check_int("seed", seed, 0)
        self.studentize = bool(studentize)
        self.last_block: int | None = None

    def assumptions(self) -> str:
        return ("Assumes stationary, weakly dependent gains; simultaneous over every candidate in "
                "the family, so selecting the best of them is covered.")

    def guarantee(self, source: GainSource) -> Guarantee:
        return Guarantee.SCREEN if source is GainSource.IN_SAMPLE else Guarantee.ASYMPTOTIC

    def min_observations(self) -> int:
        return 8

    def bootstrap_deviations(self, gains: np.ndarray, block: int) -> np.ndarray:
        """(reps, k) bootstrap means minus sample means, drawn by arch's stationary bootstrap."""
        from arch.bootstrap import StationaryBootstrap

        bs = StationaryBootstrap(block, gains, seed=self.seed)
        means = np.empty((self.reps, gains.shape[1]))
        for i, (pos, _kw) in enumerate(bs.bootstrap(self.reps)):
            means[i] = pos[0].mean(axis=0)
        return means - gains.mean(axis=0)

    def intervals(self, gains: np.ndarray, alpha: float) -> list[Interval]:
        arr, alpha = self._matrix(gains, alpha)
        n, _k = arr.shape
        block = self.block if self.block is not None else auto_block(arr, self.min_block)
        self.last_block = block
        dev = self.bootstrap_deviations(arr, block)
        if self.studentize:
            se = dev.std(axis=0, ddof=1)
            # A column the resampling cannot move (constant gains) has no sampling error.
            safe = np.where(se > 0, se, 1.0)
            stats = np.where(se > 0, dev / safe, 0.0)
        else:
            se = np.ones(arr.shape[1])
            stats = dev
        crit = max(0.0, float(np.percentile(stats.max(axis=1), 100.0 * (1.0 - alpha))))
        if self.studentize:
            df = max(n // block - 1, 1)
            crit = float(sps.t.ppf(sps.norm.cdf(crit), df))
        means = arr.mean(axis=0)
        sds = arr.std(axis=0, ddof=1)
        return [Interval(float(m), float(s), n, float(crit * e), critical=crit, block=block)
                for m, s, e in zip(means, sds, se)]
