"""Exact costs of base stock and capped base stock, and their best parameters by exhaustive search."""
from __future__ import annotations

import math
from typing import Callable, TypeVar

import numpy as np

from inventory.dp.model import LostSalesModel
from inventory.dp.pmf import MARGIN, TruncationError, _check_params, _check_pmf, morton_bound

T = TypeVar("T")


def _search_bound(pmf: np.ndarray, L: int, h: float, p: float) -> int:
    """Upper end of the S search range: Morton's bound + a margin of one std dev (>= 3)."""
    mean = float(np.dot(np.arange(pmf.size), pmf))
    var = float(np.dot(np.arange(pmf.size) ** 2, pmf)) - mean**2
    sd = math.sqrt(max(var, 0.0) * (L + 1))
    return morton_bound(pmf, L, h, p) + max(MARGIN, int(math.ceil(sd)))


def evaluate_base_stock(pmf, lead_time: int, h: float, p: float, S: int) -> float:
    """Exact average cost of the base-stock policy q = (S - IP)^+."""
    model = LostSalesModel(pmf, lead_time, h, p, max(int(S), 1))
    return model.evaluate_base_stock(int(S))


def evaluate_cbs(pmf, lead_time: int, h: float, p: float, S: int, r: int) -> float:
    """Exact average cost of the capped base-stock policy q = min((S - IP)^+, r)."""
    model = LostSalesModel(pmf, lead_time, h, p, max(int(S), 1))
    return model.evaluate_cbs(int(S), int(r))


def best_base_stock(pmf, lead_time: int, h: float, p: float, *, S_max: int | None = None) -> tuple[float, int]:
    """Best base-stock level by exhaustive search over S = 0..S_max.

    Default ``S_max`` = Morton's bound + max(3, one std dev of (L+1)-period demand);
    the best S must lie strictly below ``S_max`` (the range is enlarged otherwise).
    Returns ``(cost, S)``.
    """
    def best(model: LostSalesModel, hi: int) -> tuple[tuple[float, int], int]:
        costs = [model.evaluate_base_stock(S) for S in range(hi + 1)]
        S_best = int(np.argmin(costs))
        return (float(costs[S_best]), S_best), S_best

    return _widening_search(pmf, lead_time, h, p, S_max, "base-stock", best)


def best_cbs(
    pmf, lead_time: int, h: float, p: float, *, S_max: int | None = None
) -> tuple[float, int, int]:
    """Best capped base-stock policy by exhaustive search over S = 0..S_max, r = 1..S.

    ``r = S`` is plain base stock (the cap never binds since IP >= 0).  Ties are
    broken towards the smaller S, then the smaller r.  Returns ``(cost, S, r)``.
    """
    def best(model: LostSalesModel, hi: int) -> tuple[tuple[float, int, int], int]:
        found = (math.inf, -1, -1)
        for S in range(1, hi + 1):
            for r in range(1, S + 1):
                c = model.evaluate_cbs(S, r)
                if c < found[0] - 1e-12:
                    found = (c, S, r)
        return (float(found[0]), int(found[1]), int(found[2])), int(found[1])

    return _widening_search(pmf, lead_time, h, p, S_max, "CBS", best)


def _widening_search(pmf, lead_time: int, h: float, p: float, S_max: int | None, what: str,
                     best: Callable[[LostSalesModel, int], tuple[T, int]]) -> T:
    """``best(model, hi)`` over S = 0..hi, re-run with hi + 5 while its S sits at the end of the
    default range (a given ``S_max`` raises instead: the caller's range was too small)."""
    pmf = _check_pmf(pmf)
    L = _check_params(lead_time, h, p)
    auto = S_max is None
    hi = _search_bound(pmf, L, h, p) if auto else int(S_max)
    while True:
        result, S = best(LostSalesModel(pmf, L, h, p, max(hi, 1)), hi)
        if S < hi:
            return result
        if not auto:
            raise TruncationError(f"best {what} level is at the end of the search range S_max={hi}")
        hi += 5
