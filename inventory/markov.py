"""Small helpers for finite Markov chains (stationary distributions).

Used by :mod:`inventory.dp` to evaluate fixed inventory policies exactly: the
policy turns the lost-sales MDP into a finite Markov chain on the same compact
state space, and the long-run average cost is ``pi @ cost`` where ``pi`` is the
chain's stationary distribution.

numpy / scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

__all__ = ["stationary_distribution"]


def stationary_distribution(
    P,
    *,
    method: str = "auto",
    tol: float = 1e-14,
    max_iter: int = 1000,
    direct_below: int = 0,
    check: bool = True,
    atol: float = 1e-9,
) -> np.ndarray:
    """Stationary distribution ``pi`` of a row-stochastic matrix ``P`` (dense or sparse).

    ``method``:

    * ``"power"``: power iteration ``pi <- pi P`` from the uniform vector until the
      L1 change is below ``tol`` (fast for the quickly mixing inventory chains);
      raises if it has not converged after ``max_iter`` steps;
    * ``"direct"``: sparse direct solve (below);
    * ``"auto"`` (default): the direct solve for chains with fewer than
      ``direct_below`` states, otherwise power iteration, falling back to the direct
      solve when it does not converge (slow mixing or a periodic chain).

    The direct method solves ``pi (P - I) = 0`` with ``sum(pi) = 1`` by a sparse direct solve: the
    last balance equation is replaced by the normalisation.  The system is
    nonsingular exactly when the chain has a single recurrent class (transient
    states are allowed and get probability 0), which is the case for every
    inventory policy evaluated in this project.

    Raises ``ValueError`` when the solve fails or the result is not a probability
    vector (which signals a multichain / ill-posed input).
    """
    P = sparse.csr_matrix(P, dtype=float)
    n = P.shape[0]
    if P.shape != (n, n):
        raise ValueError(f"P must be square, got {P.shape}")
    if n == 0:
        raise ValueError("empty chain")
    if n == 1:
        return np.ones(1)
    if check:
        rs = np.asarray(P.sum(axis=1)).ravel()
        if np.max(np.abs(rs - 1.0)) > 1e-9:
            raise ValueError(f"P is not row-stochastic (max |row sum - 1| = {np.max(np.abs(rs - 1.0)):.3e})")

    if method not in ("auto", "power", "direct"):
        raise ValueError(f"unknown method {method!r}")
    if method == "power" or (method == "auto" and n >= direct_below):
        pi = _power(P, tol=tol, max_iter=max_iter)
        if pi is not None:
            return pi
        if method == "power":
            raise ValueError(f"power iteration did not converge in {max_iter} steps")
    return _direct(P, check=check, atol=atol)


def _power(P: sparse.csr_matrix, *, tol: float, max_iter: int) -> np.ndarray | None:
    n = P.shape[0]
    PT = P.T.tocsr()
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        y = PT @ x
        y /= y.sum()
        if np.abs(y - x).sum() < tol:
            return y
        x = y
    return None


def _direct(P: sparse.csr_matrix, *, check: bool, atol: float) -> np.ndarray:
    n = P.shape[0]
    # A = P^T - I, then overwrite its last row with ones (normalisation).
    A = (P.T - sparse.identity(n, format="csr")).tocsr()
    top = A[:-1]
    ones = sparse.csr_matrix(np.ones((1, n)))
    M = sparse.vstack([top, ones], format="csc")
    b = np.zeros(n)
    b[-1] = 1.0
    with np.errstate(all="ignore"):
        pi = spsolve(M, b)
    pi = np.asarray(pi, dtype=float).ravel()
    if not np.all(np.isfinite(pi)):
        raise ValueError("stationary solve failed (singular system: chain is not unichain?)")
    if pi.min() < -atol:
        raise ValueError(f"stationary solve returned negative mass ({pi.min():.3e})")
    pi = np.clip(pi, 0.0, None)
    pi /= pi.sum()
    if check:
        resid = np.max(np.abs(P.T @ pi - pi))
        if resid > 1e-8:
            raise ValueError(f"stationary residual too large ({resid:.3e})")
    return pi
