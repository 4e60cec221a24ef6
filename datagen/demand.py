"""Demand laws and the five kinds of nonstationarity (InvEvolve App. 10.2).

Count demand has conditional mean::

    log mu_t = alpha_t + s_t + beta_t . x_t + gamma * z_t + e_t

with ``alpha_t`` a drifting intercept (baseline drift and structural break), ``s_t`` the
calendar part (weekly profile, seasonality, holidays), ``x_t`` standardised covariates with
coefficients ``beta_t = beta_0 * c_t`` (coefficient drift, and a change at the break),
``z_t`` a latent regime whose probability drifts (mixture-weight drift) and ``e_t`` the
latent event state. Covariate shift lives in the covariates themselves
(:mod:`datagen.domains`). Families: negative binomial (``nb``), zero-inflated NB
(``zinb``), hurdle (``hurdle``), NB mixture over regimes (``mixture``) and continuous
positive demand (``continuous``, log-normal around ``mu_t`` with AR(1) noise).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datagen.covariates import ar1

FAMILIES = ("nb", "zinb", "hurdle", "mixture", "continuous")
NONSTATIONARITY_KINDS = ("baseline_drift", "coefficient_drift", "structural_break", "mixture_weight_drift",
                         "covariate_shift")


@dataclass(frozen=True)
class DemandVariant:
    """Functional form of one dataset's generator (variant-level heterogeneity)."""

    family: str
    dispersion: float            # NB size k (smaller = more overdispersed); continuous: sd of log noise
    zero_logit: float = -10.0    # zinb/hurdle: baseline logit of a structural zero
    regime_effect: float = 0.0   # mixture: effect of regime 1 on the log-mean
    regime_logit: float = -1.5   # mixture: baseline logit of regime 1
    regime_stay: float = 0.9     # mixture: probability of keeping yesterday's regime

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.dispersion <= 0:
            raise ValueError("dispersion must be > 0")
        if not 0 <= self.regime_stay < 1:
            raise ValueError("regime_stay must lie in [0, 1)")


@dataclass(frozen=True)
class Nonstationarity:
    """Which drifts are switched on and how strong they are (0 = off)."""

    baseline_drift: float = 0.0      # change of alpha over the horizon (log scale)
    coefficient_drift: float = 0.0   # relative change of beta over the horizon
    break_day: int = -1              # day of the structural break (-1 = none)
    break_shift: float = 0.0         # jump of alpha at the break
    break_coef_scale: float = 1.0    # multiplier of beta after the break
    mixture_weight_drift: float = 0.0  # change of the regime-1 logit over the horizon
    covariate_shift: float = 0.0     # strength of the drift of the covariate environment

    def kinds(self) -> list[str]:
        """The kinds that are active."""
        on = {
            "baseline_drift": self.baseline_drift != 0, "coefficient_drift": self.coefficient_drift != 0,
            "structural_break": self.break_day >= 0, "mixture_weight_drift": self.mixture_weight_drift != 0,
            "covariate_shift": self.covariate_shift != 0,
        }
        return [k for k in NONSTATIONARITY_KINDS if on[k]]


@dataclass
class DemandDraw:
    """Realised demand and the latent states that produced it (diagnostics only)."""

    demand: np.ndarray
    latent: dict[str, np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _nb(rng: np.random.Generator, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Negative binomial with mean ``mu`` and size ``k`` (variance mu + mu^2 / k)."""
    lam = rng.gamma(k, np.maximum(mu, 1e-12) / k)
    return rng.poisson(lam).astype(float)


def draw_demand(
    rng: np.random.Generator,
    *,
    level: float,
    calendar_part: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    event_state: np.ndarray,
    event_volatility: np.ndarray,
    variant: DemandVariant,
    ns: Nonstationarity,
) -> DemandDraw:
    """Draw one dataset's demand.

    ``x`` is (n, k) standardised covariates, ``beta`` their base coefficients. The intercept
    is set so that the median of the regime-0, event-free mean equals ``level``.
    """
    n = len(calendar_part)
    frac = np.arange(n) / max(n - 1, 1)
    after = (np.arange(n) >= ns.break_day) if ns.break_day >= 0 else np.zeros(n, bool)
    coef_scale = (1.0 + ns.coefficient_drift * frac) * np.where(after, ns.break_coef_scale, 1.0)
    cov_part = (x @ beta) * coef_scale if x.size else np.zeros(n)
    wander = ar1(rng, n, 0.98, 0.01)  # slow latent wander of the baseline
    base = calendar_part + cov_part
    alpha0 = np.log(level) - float(np.median(base))
    alpha = alpha0 + ns.baseline_drift * frac + ns.break_shift * after + wander

    regime = np.zeros(n, dtype=int)
    regime_prob = np.zeros(n)
    if variant.family == "mixture":
        regime_prob = _sigmoid(variant.regime_logit + ns.mixture_weight_drift * frac + 1.5 * event_volatility)
        u = rng.random(n)
        stay = rng.random(n) < variant.regime_stay
        regime[0] = int(u[0] < regime_prob[0])
        for t in range(1, n):
            regime[t] = regime[t - 1] if stay[t] else int(u[t] < regime_prob[t])
    log_mu = alpha + base + variant.regime_effect * regime + event_state
    mu = np.exp(log_mu)
    zero_prob = np.zeros(n)
    if variant.family == "continuous":
        noise = ar1(rng, n, 0.7, np.sqrt(1 - 0.49))  # unit stationary variance
        sd = variant.dispersion * (1 + event_volatility)
        demand = np.round(mu * np.exp(sd * noise - 0.5 * sd * sd), 1)
        k = np.full(n, np.inf)
    else:
        k = variant.dispersion / (1.0 + 2.0 * event_volatility)   # events widen the spread
        if variant.family in ("nb", "mixture"):
            demand = _nb(rng, mu, k)
        elif variant.family == "zinb":
            zero_prob = _sigmoid(variant.zero_logit - 0.8 * (log_mu - np.median(log_mu)))
            demand = np.where(rng.random(n) < zero_prob, 0.0, _nb(rng, mu, k))
        else:  # hurdle: P(D > 0) = 1 - zero_prob, positive part 1 + NB(mu)
            zero_prob = _sigmoid(variant.zero_logit - 0.8 * (log_mu - np.median(log_mu)))
            demand = np.where(rng.random(n) < zero_prob, 0.0, 1.0 + _nb(rng, mu, k))
    latent = {
        "alpha": alpha, "coefficient_scale": coef_scale, "covariate_part": cov_part, "calendar_part": calendar_part,
        "regime": regime.astype(float), "regime_prob": regime_prob, "event_state": event_state,
        "dispersion": k, "zero_prob": zero_prob, "mu": mu,
    }
    return DemandDraw(np.maximum(demand, 0.0), latent)

