"""Confidence radii for mean replay gains (SPEC §4; InvEvolve eq. 7 and Appendix 12).

Both radii split the period confidence budget ``delta`` evenly over the ``n_pairs``
(N_t) policy-comparator pairs evaluated in the period, so that all intervals of the
period hold simultaneously by a union bound when their single-pair guarantees hold.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from certify._checks import check_int, check_open_unit, check_real, finite_vector

MIN_BLOCK = 7


def hoeffding_radius(n: int, bound: float, n_pairs: int, delta: float) -> float:
    """Return r = B * sqrt(2 * ln(2 * N_t / delta) / n).

    Valid (two-sided, simultaneously over N_t pairs at level 1 - delta) when the n gains
    are independent with values in [-B, B]; ``bound`` B must be fixed before the gains are
    seen. The range of a gain is 2B, so Hoeffding's tail exp(-2 n r^2 / (2B)^2) equated to
    delta / (2 N_t) gives the expression above.
    """
    n = check_int("n", n, 1)
    bound = check_real("bound", bound, 0.0)
    n_pairs = check_int("n_pairs", n_pairs, 1)
    delta = check_open_unit("delta", delta)
    return bound * math.sqrt(2.0 * math.log(2.0 * n_pairs / delta) / n)


def block_means(gains: np.ndarray, block: int) -> np.ndarray:
    """Means of consecutive non-overlapping blocks of ``block`` daily gains.

    Only complete blocks are used: the trailing ``len(gains) % block`` days are dropped,
    so every block mean averages the same number of days and the block means share one
    variance. The result has ``len(gains) // block`` entries and may be empty.
    """
    arr = finite_vector("gains", gains)
    block = check_int("block", block, 1)
    m = arr.size // block
    return arr[: m * block].reshape(m, block).mean(axis=1)


def blockwise_t_radius(
    gains: np.ndarray, block: int, n_pairs: int, delta: float
) -> tuple[float, int]:
    """Return (r, M) with r = t_{1 - delta/(2 N_t), M-1} * s_b / sqrt(M).

    M is the number of complete blocks (see :func:`block_means`) and s_b the sample
    standard deviation (ddof=1) of the block means. Averaging over blocks damps the
    short-range dependence that inventory carry-over puts into daily gains; the result is
    a practical screen, not a finite-sample guarantee. Raises ``ValueError`` when fewer
    than two complete blocks exist, because s_b is then undefined.
    """
    means = block_means(gains, block)
    n_pairs = check_int("n_pairs", n_pairs, 1)
    delta = check_open_unit("delta", delta)
    m = means.size
    if m < 2:
        n = np.asarray(gains).size
        raise ValueError(
            f"blockwise-t radius needs at least 2 complete blocks; {n} gains with "
            f"block={block} give M={m}. Use a smaller block or a longer replay window."
        )
    s_b = float(np.std(means, ddof=1))
    t_crit = float(stats.t.ppf(1.0 - delta / (2.0 * n_pairs), m - 1))
    return t_crit * s_b / math.sqrt(m), m


def default_block(lead_time: int) -> int:
    """Default block length max(7, L + 1): a week, or one full replenishment cycle."""
    lead_time = check_int("lead_time", lead_time, 0)
    return max(MIN_BLOCK, lead_time + 1)
