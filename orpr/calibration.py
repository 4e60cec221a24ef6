"""Label calibration (ORPR paper Sec. 3.3.3): binary search on alpha_loss to match a turnover.

Varying alpha_loss traces the Pareto set of the OR model; the label is the point whose
simulated turnover days match the observed (business) turnover. A larger alpha_loss
tightens the loss budget, which can only raise the optimal stock and hence the
value-weighted turnover, so turnover is a non-decreasing step function of alpha_loss and
bisection applies. An exact match may not exist: the evaluated alpha whose turnover is
closest to the target is returned (ties -> the smaller alpha).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from orpr.model import (
    ORModelInfeasible, loss_budget, min_loss, portfolio_instock, portfolio_turnover, solve_or_model, total_loss,
    total_stock,
)
from orpr.simulator import OrderRule, ORPRTable, simulate_inventory_days

log = logging.getLogger(__name__)

__all__ = ["ORPRLabels", "calibrate_alpha", "orpr_labels", "labels_from_tables"]


@dataclass(frozen=True)
class ORPRLabels:
    """OR labels: the chosen v per item and the portfolio metrics of that choice."""

    alpha_loss: float
    choices: list[int]
    v: np.ndarray
    tables: list[ORPRTable]
    total_sales: float
    stock: float
    loss: float
    turnover_days: float
    instock_rate: float


def _alpha_max(tables: Sequence[ORPRTable], total_sales: float) -> float:
    floor = min_loss(tables)
    if floor > total_sales:
        raise ORModelInfeasible(f"least achievable loss {floor:.6g} exceeds SALE {total_sales:.6g}: no alpha is feasible")
    hi = 1.0 if total_sales == 0 else min(1.0, max(0.0, 1.0 - floor / total_sales))
    # 1 - floor/SALE can round above the exact feasibility limit; step down until feasible.
    while loss_budget(total_sales, hi) < floor and hi > 0:
        hi = max(0.0, hi - 1e-15 - abs(hi) * 1e-15)
    return hi


def calibrate_alpha(
    tables: Sequence[ORPRTable], total_sales: float, observed_turnover: float, tol: float = 1e-3, *,
    max_iter: int = 60,
) -> tuple[float, list[int]]:
    """Bisection on alpha_loss in [0, alpha_max] so that the OR decisions' turnover matches.

    alpha_max = 1 - (least total loss) / SALE is the largest feasible alpha. Stops when
    ``|turnover - observed| <= tol`` or the bracket is narrower than 1e-12. Targets outside
    the reachable range return the nearer end (logged). Raises :class:`ORModelInfeasible`
    if no alpha in [0, 1] is feasible.
    """
    if not (math.isfinite(observed_turnover) and observed_turnover >= 0):
        raise ValueError(f"observed_turnover must be finite and >= 0, got {observed_turnover}")
    if tol < 0:
        raise ValueError("tol must be >= 0")
    loss_budget(total_sales, 0.0)
    lo, hi = 0.0, _alpha_max(tables, total_sales)
    best: tuple[float, float, list[int]] | None = None  # (|gap|, alpha, choices)

    def evaluate(alpha: float) -> float:
        nonlocal best
        ch = solve_or_model(tables, total_sales, alpha)
        turn = portfolio_turnover(tables, ch)
        gap = abs(turn - observed_turnover)
        if best is None or gap < best[0] or (gap == best[0] and alpha < best[1]):
            best = (gap, alpha, ch)
        log.debug("calibrate_alpha: alpha=%.10f turnover=%.6f target=%.6f", alpha, turn, observed_turnover)
        return turn

    t_hi = evaluate(hi)
    if t_hi <= observed_turnover + tol:
        if t_hi < observed_turnover - tol:
            log.info("calibrate_alpha: target turnover %.4f above the maximum %.4f reachable", observed_turnover, t_hi)
        assert best is not None
        return best[1], best[2]
    t_lo = evaluate(lo)
    if t_lo >= observed_turnover - tol:
        if t_lo > observed_turnover + tol:
            log.info("calibrate_alpha: target turnover %.4f below the minimum %.4f reachable", observed_turnover, t_lo)
        assert best is not None
        return best[1], best[2]
    for _ in range(max_iter):
        if hi - lo < 1e-12:
            break
        mid = 0.5 * (lo + hi)
        t_mid = evaluate(mid)
        if abs(t_mid - observed_turnover) <= tol:
            break
        if t_mid < observed_turnover:
            lo = mid
        else:
            hi = mid
    assert best is not None
    return best[1], best[2]


def labels_from_tables(
    tables: list[ORPRTable], *, observed_turnover: float | None = None, alpha_loss: float | None = None,
    total_sales: float | None = None, tol: float = 1e-3,
) -> ORPRLabels:
    """OR labels from precomputed Algorithm-2 tables: calibrated (``observed_turnover``) or at ``alpha_loss``."""
    if (observed_turnover is None) == (alpha_loss is None):
        raise ValueError("give exactly one of observed_turnover and alpha_loss")
    if not tables:
        raise ValueError("no SKUs given")
    sale = float(sum(t.sales_value for t in tables)) if total_sales is None else float(total_sales)
    if observed_turnover is not None:
        alpha, choices = calibrate_alpha(tables, sale, float(observed_turnover), tol)
    else:
        alpha = float(alpha_loss)  # type: ignore[arg-type]
        choices = solve_or_model(tables, sale, alpha)
    return ORPRLabels(
        alpha_loss=alpha, choices=choices, v=np.array([t.v_grid[c] for t, c in zip(tables, choices)]),
        tables=tables, total_sales=sale, stock=total_stock(tables, choices), loss=total_loss(tables, choices),
        turnover_days=portfolio_turnover(tables, choices), instock_rate=portfolio_instock(tables, choices),
    )


def orpr_labels(
    demand: Sequence[np.ndarray] | np.ndarray, v_grid: np.ndarray, *, review_period: int, vlt: int,
    mean_window: int, holding: float | Sequence[float], penalty: float | Sequence[float],
    init_on_hand: float | Sequence[float] = 0.0, observed_turnover: float | None = None,
    alpha_loss: float | None = None, total_sales: float | None = None, tol: float = 1e-3,
    integer_orders: bool = True, rule: OrderRule = OrderRule.QUANTITY,
) -> ORPRLabels:
    """OR labels for a set of SKUs: Algorithm 2, then the OR model (one v per SKU).

    ``demand`` is one history per SKU (a 2-D array is read row-wise). Give exactly one of
    ``observed_turnover`` (alpha calibrated) or ``alpha_loss``. ``total_sales`` defaults to
    the summed demand value. Per-SKU ``holding``, ``penalty``, ``init_on_hand`` may be
    scalars or sequences.
    """
    if (observed_turnover is None) == (alpha_loss is None):
        raise ValueError("give exactly one of observed_turnover and alpha_loss")
    single = isinstance(demand, np.ndarray) and demand.ndim == 1
    rows = [np.asarray(d, dtype=float).reshape(-1) for d in ([demand] if single else demand)]
    n = len(rows)
    if n == 0:
        raise ValueError("no SKUs given")

    def per_sku(x: float | Sequence[float], name: str) -> list[float]:
        try:
            arr = np.broadcast_to(np.asarray(x, dtype=float), (n,))
        except ValueError:
            raise ValueError(f"{name} must be a scalar or have one entry per SKU") from None
        return [float(a) for a in arr]

    hs, ps, i0 = per_sku(holding, "holding"), per_sku(penalty, "penalty"), per_sku(init_on_hand, "init_on_hand")
    tables = [
        simulate_inventory_days(d, v_grid, review_period=review_period, vlt=vlt, mean_window=mean_window,
                                holding=hs[i], penalty=ps[i], init_on_hand=i0[i], integer_orders=integer_orders,
                                rule=rule)
        for i, d in enumerate(rows)
    ]
    return labels_from_tables(tables, observed_turnover=observed_turnover, alpha_loss=alpha_loss,
                              total_sales=total_sales, tol=tol)
