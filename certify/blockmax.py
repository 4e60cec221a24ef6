"""The paper's blockwise-t, made selection-aware: a max-t (Dunnett-type) bound on block means.

The paper's blockwise-t treats the M block means of each candidate as independent normal
and protects N_t pairs with Bonferroni's t_{1 - delta/(2 N_t), M-1}. Candidates compared
with the same reference are strongly correlated (the reference's costs are in every gain),
so Bonferroni wastes most of the budget. Under the same assumption (block means of the k
candidates i.i.d. multivariate normal over blocks) the studentised block-mean deviations
T_k = sqrt(M) (m_k - mu_k) / s_k are jointly multivariate t with M - 1 degrees of freedom
and the block means' correlation R, so the exact one-sided simultaneous critical value is
the (1 - alpha) quantile of max_k T_k under that law (Dunnett 1955; Hothorn, Bretz &
Westfall 2008). It is computed from ``draws`` seeded draws of Z / sqrt(W / (M - 1)) with
Z ~ N(0, R) and W ~ chi^2_{M-1} (``scipy.stats``), so it is reproducible, and then

    LCB_k = m_k - c * s_k / sqrt(M)    for every k at once.

With k = 1 the bound is the paper's one-sided t bound; with k candidates it is never wider
than Bonferroni and much narrower when they are correlated. ``ucb`` is for ranking only.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from certify._checks import check_int
from certify.method import GainSource, Guarantee, Interval, Method
from certify.radii import block_means

DEFAULT_DRAWS = 20_000


def max_t_quantile(corr: np.ndarray, df: int, level: float, draws: int = DEFAULT_DRAWS,
                   seed: int = 0) -> float:
    """(level) quantile of max_k T_k, T multivariate t(df) with correlation ``corr``."""
    k = corr.shape[0]
    if k == 1:
        return float(stats.t.ppf(level, df))
    rng = np.random.default_rng(seed)
    # eigh tolerates the singular R of a candidate identical to another (or to zero).
    w, v = np.linalg.eigh(corr)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    z = rng.standard_normal((draws, k)) @ root.T
    chi = np.sqrt(stats.chi2.rvs(df, size=(draws, 1), random_state=rng) / df)
    return float(np.quantile((z / chi).max(axis=1), level))


class BlockwiseMaxT(Method):
    """Simultaneous one-sided lower bounds on block means (see the module docstring)."""

    kind = "blockwise_maxt"
    selection_aware = True
    two_sided = False

    def __init__(self, block: int, *, draws: int = DEFAULT_DRAWS, seed: int = 0):
        self.block = check_int("block", block, 1)
        self.draws = check_int("draws", draws, 1000)
        self.seed = check_int("seed", seed, 0)

    def assumptions(self) -> str:
        return (f"Assumes means of {self.block}-day blocks are close to independent and normal "
                "(as blockwise-t); simultaneous over every candidate in the family, so "
                "selecting the best of them is covered.")

    def guarantee(self, source: GainSource) -> Guarantee:
        return Guarantee.ASYMPTOTIC if source is GainSource.REPLICATIONS else Guarantee.SCREEN

    def min_observations(self) -> int:
        return 2 * self.block

    def intervals(self, gains: np.ndarray, alpha: float) -> list[Interval]:
        arr, alpha = self._matrix(gains, alpha)
        means = np.column_stack([block_means(c, self.block) for c in arr.T])
        m_blocks = means.shape[0]
        m = means.mean(axis=0)
        s = means.std(axis=0, ddof=1)
        live = s > 0
        corr = np.eye(arr.shape[1])
        if live.sum() > 1:
            corr[np.ix_(live, live)] = np.corrcoef(means[:, live].T)
        # Constant columns carry no sampling error; they do not enter the maximum.
        idx = np.flatnonzero(live)
        crit = 0.0
        if idx.size:
            crit = max(0.0, max_t_quantile(corr[np.ix_(idx, idx)], m_blocks - 1, 1.0 - alpha,
                                           self.draws, self.seed))
        used = arr[: m_blocks * self.block]
        return [Interval(float(mu), float(used[:, j].std(ddof=1)), int(used.shape[0]),
                         float(crit * sj / math.sqrt(m_blocks)), critical=crit,
                         block=self.block, n_blocks=m_blocks)
                for j, (mu, sj) in enumerate(zip(m, s))]
