"""Exact long-run costs for the classical scenarios (``inventory.dp``).

The six demand laws of ``datagen.classical`` as pmfs (the samplers' exact laws, tails
beyond 1e-12 lumped on the last point as ``inventory.dp`` does), the optimal average cost
(SPEC §8's table for Poisson and geometric, which the DP reproduces to 5e-5; relative value
iteration for the other four) and the exact cost of a CBS policy (its Markov chain).
The state space grows as C(B + L, L) with the inventory-position bound B, and the heavy
tails (geometric, gamma) make B and the transition count large at L = 3-4: every exact
computation runs in a child process capped at ``MEMORY_CAP`` bytes of address space and
``TIME_CAP`` seconds, after a size estimate skips the hopeless ones (``MAX_ENTRIES``). A
computation that does not fit returns None ("no exact value"), never a guess, and never
takes the machine's memory.
"""
from __future__ import annotations

import logging
import math
import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy import stats

from inventory.dp import _default_bound, evaluate_cbs, geometric_pmf, poisson_pmf, solve_lost_sales
from inventory.reference_values import SPEC8

log = logging.getLogger(__name__)

MEAN = 5.0
TAIL = 1e-12
DP_MAX_LEAD = 4
MEMORY_CAP = 3 << 30
TIME_CAP = 900.0
MAX_ENTRIES = 1e8      # (post-decision tuples) x (demand support): beyond this the model cannot fit the cap
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


def _limit(mem: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))


def _entries(pmf: np.ndarray, lead_time: int, bound: int) -> float:
    return math.comb(bound + lead_time + 1, lead_time + 1) * float(len(pmf))


def _bounded(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a fresh process with capped memory and time; None if it does not fit."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_limit,
                             initargs=(MEMORY_CAP,)) as pool:
        try:
            return pool.submit(fn, *args).result(timeout=TIME_CAP)
        except (MemoryError, BrokenProcessPool, TimeoutError) as exc:
            log.warning("exact computation %s%s skipped: %s", getattr(fn, "__name__", fn), args[1:],
                        type(exc).__name__)
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            return None


def _solve(distribution: str, lead_time: int, h: float, p: float) -> float:
    return float(solve_lost_sales(demand_pmf(distribution), lead_time, h, p).avg_cost)


def _cbs(distribution: str, lead_time: int, h: float, p: float, S: int, r: int) -> float:
    return float(evaluate_cbs(demand_pmf(distribution), lead_time, h, p, S, r))


@dataclass(frozen=True)
class Optimum:
    cost: float
    source: str   # "SPEC §8" or "DP (relative value iteration)"


def optimum(distribution: str, lead_time: int, h: float, p: float) -> Optimum | None:
    """The optimal long-run average cost, or None where the exact DP does not apply."""
    if distribution in SPEC8 and h == 1.0 and (lead_time, int(p)) in SPEC8[distribution] and p == int(p):
        return Optimum(SPEC8[distribution][(lead_time, int(p))][0], "SPEC §8")
    pmf = demand_pmf(distribution)
    if lead_time > DP_MAX_LEAD or _entries(pmf, lead_time, _default_bound(pmf, lead_time, h, p)) > MAX_ENTRIES:
        return None
    cost = _bounded(_solve, distribution, lead_time, h, p)
    return None if cost is None else Optimum(cost, "DP (relative value iteration)")


def cbs_cost(distribution: str, lead_time: int, h: float, p: float, S: float, r: float) -> float | None:
    """Exact long-run cost of CBS(S, r) with integer S, r (the tuned values rounded); None if too large."""
    s_int, r_int = int(round(S)), int(round(r))
    if _entries(demand_pmf(distribution), lead_time, max(s_int, 1)) > MAX_ENTRIES:
        return None
    return _bounded(_cbs, distribution, lead_time, h, p, s_int, r_int)
