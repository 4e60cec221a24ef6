"""Global censored Poisson GLM fitted by maximum likelihood (InvEvolve App. 14).

Model: ``D_i ~ Poisson(lambda_i)``, ``log lambda_i = x_i' theta``. An uncensored day
contributes ``log P(D = y)``; a censored day (sales capped by stock) only says ``D >= y``
and contributes ``log P(D >= y)`` (zero when ``y = 0``). The log-likelihood is concave in
``theta`` for the uncensored part and maximised with L-BFGS-B using the analytic gradient::

    d/d eta log P(D = y)  = y - lambda
    d/d eta log P(D >= y) = lambda * P(D = y - 1) / P(D >= y)

Standard errors come from a finite-difference Hessian of the analytic gradient.
Reconstruction: ``E[D | D >= c] = lambda * P(D >= c - 1) / P(D >= c)`` and the imputed
demand on a censored day is ``max(observed, E[D | D >= observed])``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CensoredPoissonFit:
    """Fitted coefficients (with standard errors) of a censored Poisson GLM."""

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    loglik: float
    n: int
    n_censored: int
    converged: bool

    def rate(self, x: np.ndarray) -> np.ndarray:
        """Poisson rate ``exp(x @ coef)``."""
        return np.exp(np.asarray(x, dtype=float) @ self.coef)

    def table(self) -> list[dict[str, float | str]]:
        return [{"name": n, "coef": float(c), "se": float(s)} for n, c, s in zip(self.names, self.coef, self.se)]


def _logsf_ge(y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """log P(D >= y) for Poisson(lam); 0 where y <= 0."""
    return np.where(y > 0, stats.poisson.logsf(y - 1, lam), 0.0)


def _negloglik_grad(theta: np.ndarray, x: np.ndarray, y: np.ndarray, cens: np.ndarray) -> tuple[float, np.ndarray]:
    eta = np.clip(x @ theta, -30, 30)
    lam = np.exp(eta)
    unc = ~cens
    ll_unc = y[unc] * eta[unc] - lam[unc] - special.gammaln(y[unc] + 1)
    yc, lc = y[cens], lam[cens]
    logsf = _logsf_ge(yc, lc)
    ll = ll_unc.sum() + logsf.sum()
    g_eta = np.empty_like(eta)
    g_eta[unc] = y[unc] - lam[unc]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(yc > 0, np.exp(np.log(lc) + stats.poisson.logpmf(yc - 1, lc) - logsf), 0.0)
    g_eta[cens] = ratio
    return -float(ll), -(x.T @ g_eta)


def fit_censored_poisson(
    x: np.ndarray, y: np.ndarray, censored: np.ndarray, names: tuple[str, ...] | list[str], *, max_iter: int = 1000,
) -> CensoredPoissonFit:
    """Maximum-likelihood fit. ``x`` is (n, k) and must include an intercept column if wanted.

    ``y`` are observed sales (>= 0), ``censored`` marks days whose demand is only known to
    be >= ``y``. Starts from the least-squares fit of ``log(y + 0.5)``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    cens = np.asarray(censored, dtype=bool)
    if x.ndim != 2 or x.shape[0] != len(y) or len(cens) != len(y):
        raise ValueError("x must be (n, k) with n = len(y) = len(censored)")
    if x.shape[1] != len(names):
        raise ValueError(f"{x.shape[1]} columns but {len(names)} names")
    if np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("y must be finite and >= 0")
    theta0 = np.linalg.lstsq(x, np.log(y + 0.5), rcond=None)[0]
    res = optimize.minimize(_negloglik_grad, theta0, args=(x, y, cens), jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-8})
    if not res.success:
        log.warning("censored Poisson GLM: optimiser stopped early: %s", res.message)
    theta = res.x
    k = len(theta)
    hess = np.empty((k, k))
    for i in range(k):
        step = 1e-5 * max(1.0, abs(theta[i]))
        e = np.zeros(k); e[i] = step
        hess[:, i] = (_negloglik_grad(theta + e, x, y, cens)[1] - _negloglik_grad(theta - e, x, y, cens)[1]) / (2 * step)
    hess = 0.5 * (hess + hess.T)
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(hess)), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(k, np.nan)
    return CensoredPoissonFit(tuple(names), theta, se, -float(res.fun), len(y), int(cens.sum()), bool(res.success))


def conditional_mean_ge(lam: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``E[D | D >= c]`` for ``D ~ Poisson(lam)`` (``= lam`` when ``c <= 0``)."""
    lam = np.asarray(lam, dtype=float)
    c = np.asarray(c, dtype=float)
    num = _logsf_ge(c - 1, lam)
    den = _logsf_ge(c, lam)
    out = lam * np.exp(num - den)
    return np.where(c > 0, np.maximum(out, c), lam)


def impute(observed: np.ndarray, censored: np.ndarray, lam: np.ndarray, *, integer: bool = True) -> np.ndarray:
    """Reconstructed demand: ``max(observed, E[D | D >= observed])`` on censored days, else observed.

    With ``integer`` the conditional expectation is rounded to the nearest unit first.
    """
    y = np.asarray(observed, dtype=float)
    e = conditional_mean_ge(lam, y)
    if integer:
        e = np.round(e)
    return np.where(np.asarray(censored, dtype=bool), np.maximum(y, e), y)
