"""Conservative stockout proxy for point-of-sale data (InvEvolve App. 14).

For each product, a causal local reference level is the median of the positive sales of
the previous ``window`` days (needs ``min_positive`` of them). It is raised when the item is
on display, in a mailer or discounted::

    expected_t = reference_t * (1 + display_lift * display_t + mailer_lift * mailer_t
                                  + discount_lift * discount_t)

A day is flagged as potentially censored when

- sales are zero although ``expected_t >= zero_min_expected`` and the item sold on at least
  ``active_days`` of the previous 7 days or is promoted (display, mailer or discount), or
- sales are positive but at most ``low_ratio * expected_t`` with ``expected_t >= low_min_expected``.

The thresholds are chosen so that an uncensored Poisson day at the expected level trips the
rule with probability of about 5% or less (P(Poisson(3) = 0) = 0.05, P(Poisson(6) <= 1) = 0.017).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProxyConfig:
    window: int = 28
    min_positive: int = 5
    display_lift: float = 0.5
    mailer_lift: float = 0.5
    discount_lift: float = 1.0
    active_days: int = 4
    zero_min_expected: float = 3.0
    low_ratio: float = 0.25
    low_min_expected: float = 6.0


@dataclass(frozen=True)
class ProxyResult:
    expected: np.ndarray   # adjusted reference level (NaN where not enough history)
    censored: np.ndarray   # bool flags


def stockout_proxy(sales: np.ndarray, display: np.ndarray, mailer: np.ndarray, discount: np.ndarray,
                   cfg: ProxyConfig = ProxyConfig()) -> ProxyResult:
    """Flags for one product's daily series (all arrays of equal length). Uses past days only."""
    y = np.asarray(sales, dtype=float)
    n = len(y)
    ref = np.full(n, np.nan)
    active = np.zeros(n, dtype=int)
    for t in range(n):
        past = y[max(0, t - cfg.window):t]
        pos = past[past > 0]
        if len(pos) >= cfg.min_positive:
            ref[t] = float(np.median(pos))
        active[t] = int(np.sum(y[max(0, t - 7):t] > 0))
    promo = (np.asarray(display) > 0) | (np.asarray(mailer) > 0) | (np.asarray(discount) > 0)
    expected = ref * (1 + cfg.display_lift * np.asarray(display) + cfg.mailer_lift * np.asarray(mailer)
                      + cfg.discount_lift * np.asarray(discount))
    ok = np.isfinite(expected)
    e = np.where(ok, expected, 0.0)
    zero_flag = (y == 0) & (e >= cfg.zero_min_expected) & ((active >= cfg.active_days) | promo)
    low_flag = (y > 0) & (y <= cfg.low_ratio * e) & (e >= cfg.low_min_expected)
    return ProxyResult(expected, ok & (zero_flag | low_flag))
