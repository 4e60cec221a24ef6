"""Exact long-run costs for the classical scenarios (``inventory.dp``).

The six demand laws of ``datagen.classical`` as pmfs (the samplers' exact laws, tails
beyond 1e-12 lumped on the last point as ``inventory.dp`` does), the optimal average cost
(SPEC §8's table for Poisson and geometric, which the DP reproduces to 5e-5; relative value
iteration for the other four) and the exact cost of a CBS policy (its Markov chain).
The exact DP applies to every scenario of the suite (L <= 4); ``DP_MAX_LEAD`` guards the
state space if larger lead times are ever added.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from inventory.dp import evaluate_cbs, geometric_pmf, poisson_pmf, solve_lost_sales
from inventory.reference_values import SPEC8

MEAN = 5.0
TAIL = 1e-12
DP_MAX_LEAD = 4
HN_SCALE = MEAN * math.sqrt(math.pi / 2)  # datagen.classical: round(|N(0, s^2)|) with mean 5


def _rounded(cdf, tail: float = TAIL) -> np.ndarray:
    """pmf of round(X) for X >= 0 with cdf ``cdf``: P(k) = F(k + 1/2) - F(k - 1/2)."""
    k = 1
    while 1.0 - cdf(k + 0.5) > tail:
        k += 1
    edges = np.concatenate([[0.0], np.arange(k + 1) + 0.5])
    pmf = np.diff(cdf(edges))
    pmf[-1] += 1.0 - cdf(k + 0.5)
    return pmf / pmf.sum()


def demand_pmf(distribution: str) -> np.ndarray:
    """The exact daily-demand pmf of a classical distribution (mean 5)."""
    if distribution == "poisson":
        return poisson_pmf(MEAN)
    if distribution == "geometric":
        return geometric_pmf(MEAN)
    if distribution == "binomial":
        return stats.binom.pmf(np.arange(11), 10, 0.5)
    if distribution == "uniform":
        return np.full(11, 1 / 11)
    if distribution == "gamma":
        return _rounded(lambda x: stats.gamma.cdf(x, 2.0, scale=2.5))
    if distribution == "halfnormal":
        return _rounded(lambda x: stats.halfnorm.cdf(x, scale=HN_SCALE))
    raise ValueError(f"unknown classical distribution {distribution!r}")


@dataclass(frozen=True)
class Optimum:
    cost: float
    source: str   # "SPEC §8" or "DP (relative value iteration)"


def optimum(distribution: str, lead_time: int, h: float, p: float) -> Optimum | None:
    """The optimal long-run average cost, or None where the exact DP does not apply."""
    if distribution in SPEC8 and h == 1.0 and (lead_time, int(p)) in SPEC8[distribution] and p == int(p):
        return Optimum(SPEC8[distribution][(lead_time, int(p))][0], "SPEC §8")
    if lead_time > DP_MAX_LEAD:
        return None
    res = solve_lost_sales(demand_pmf(distribution), lead_time, h, p)
    return Optimum(float(res.avg_cost), "DP (relative value iteration)")


def cbs_cost(distribution: str, lead_time: int, h: float, p: float, S: float, r: float) -> float:
    """Exact long-run cost of CBS(S, r) with integer S, r (the tuned values rounded)."""
    return float(evaluate_cbs(demand_pmf(distribution), lead_time, h, p, int(round(S)), int(round(r))))
