"""Replay-to-deployment discrepancy budgets eps_t (InvEvolve Appendix 11).

eps_t is the margin the gates subtract from a replay LCB to cover the gap between replay
gains and gains under deployment. A *gap* here is replay gain minus forward (deployment)
gain for one past policy-comparator pair: positive when replay overstated the gain, which
is the direction eps must cover. Every estimator returns a non-negative float and raises
``ValueError`` when it has too little data. Fitting must only use periods strictly before
the one being certified.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, sparse, stats

from certify._checks import check_open_unit, check_real, finite_vector, min_sample_for_level

MIN_IPM_SAMPLE = 2


def historical_quantile_eps(past_gaps: np.ndarray, level: float = 0.9) -> float:
    """Upper ``level`` empirical quantile of past gaps, floored at 0.

    Uses the order statistic at or above the ``level`` position (numpy ``method="higher"``),
    never an interpolation below it. Needs n >= 1 / (1 - level) gaps (10 at level 0.9) so
    that at least one past gap is expected at or above the quantile.
    """
    level = check_open_unit("level", level)
    gaps = finite_vector("past_gaps", past_gaps)
    need = min_sample_for_level(level)
    if gaps.size < need:
        raise ValueError(
            f"historical_quantile_eps at level {level} needs at least {need} past gaps, "
            f"got {gaps.size}"
        )
    return max(0.0, float(np.quantile(gaps, level, method="higher")))


def _design(features: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(features, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (n, k), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def shift_conditioned_eps(
    shift_features_past: np.ndarray,
    gaps_past: np.ndarray,
    shift_features_now: np.ndarray,
    level: float = 0.9,
) -> float:
    """Linear ``level``-quantile regression of past gaps on shift features, evaluated now.

    Fits gap ~ b0 + b . x by minimising the pinball loss, written as the linear program
    min sum(level * u+ + (1 - level) * u-) s.t. b0 + X b + u+ - u- = gaps, u+/- >= 0,
    solved with ``scipy.optimize.linprog(method="highs")``. Returns max(0, b0 + b . x_now).

    ``shift_features_past`` has shape (n,) or (n, k); ``shift_features_now`` k values.
    Needs n >= k + 2 and n >= 1 / (1 - level) rows, and the columns [1, X] must be
    linearly independent (a constant feature duplicates the intercept).
    """
    level = check_open_unit("level", level)
    x = _design(shift_features_past, "shift_features_past")
    y = finite_vector("gaps_past", gaps_past)
    n, k = x.shape
    if y.size != n:
        raise ValueError(f"gaps_past has {y.size} values but shift_features_past has {n} rows")
    x_now = np.atleast_1d(np.asarray(shift_features_now, dtype=float))
    if x_now.shape != (k,):
        raise ValueError(f"shift_features_now must hold {k} value(s), got shape {x_now.shape}")
    if not np.all(np.isfinite(x_now)):
        raise ValueError("shift_features_now must be finite")
    need = max(k + 2, min_sample_for_level(level))
    if n < need:
        raise ValueError(
            f"shift_conditioned_eps with {k} feature(s) at level {level} needs at least "
            f"{need} past periods, got {n}"
        )
    design = np.hstack([np.ones((n, 1)), x])
    if np.linalg.matrix_rank(design) < k + 1:
        raise ValueError(
            "shift features are collinear with each other or with the intercept "
            "(e.g. a constant column); drop redundant features"
        )
    eye = sparse.identity(n, format="csr")
    a_eq = sparse.hstack([sparse.csr_matrix(design), eye, -eye], format="csr")
    cost = np.concatenate([np.zeros(k + 1), np.full(n, level), np.full(n, 1.0 - level)])
    var_bounds = [(None, None)] * (k + 1) + [(0.0, None)] * (2 * n)
    res = optimize.linprog(cost, A_eq=a_eq, b_eq=y, bounds=var_bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"quantile regression LP failed: {res.message}")
    coef = res.x[: k + 1]
    return max(0.0, float(coef[0] + x_now @ coef[1:]))


def ipm_eps(replay_sample: np.ndarray, recent_sample: np.ndarray, lipschitz: float) -> float:
    """Wasserstein-1 IPM plug-in: lipschitz * W1(replay, recent).

    By Kantorovich-Rubinstein duality W1 is the supremum of |E_P f - E_Q f| over
    1-Lipschitz f, so for gain functionals that are ``lipschitz``-Lipschitz in the 1-D
    path embedding the samples hold, the product bounds the replay-to-deployment gap of
    their means. Needs at least 2 values in each sample.
    """
    a = finite_vector("replay_sample", replay_sample)
    b = finite_vector("recent_sample", recent_sample)
    lipschitz = check_real("lipschitz", lipschitz, 0.0)
    for name, arr in (("replay_sample", a), ("recent_sample", b)):
        if arr.size < MIN_IPM_SAMPLE:
            raise ValueError(
                f"ipm_eps needs at least {MIN_IPM_SAMPLE} values in {name}, got {arr.size}"
            )
    return lipschitz * float(stats.wasserstein_distance(a, b))


def conservative_eps(*values: float | None) -> float:
    """Max of the available estimates; ``None`` entries are skipped.

    Each given value must be finite and >= 0. Raises ``ValueError`` if none is given.
    """
    given = [check_real(f"eps value #{i}", v, 0.0) for i, v in enumerate(values) if v is not None]
    if not given:
        raise ValueError("conservative_eps needs at least one estimate that is not None")
    return max(given)
