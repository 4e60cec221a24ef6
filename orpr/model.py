"""The ORPR OR model (paper Sec. 3.3.1, eqs. 1-3), solved exactly with HiGHS.

Choose one candidate v per item (binary X_{i,v}, sum_v X_{i,v} = 1) minimising the total
inventory value sum stock_{i,v} X_{i,v} subject to the lost-sales budget
sum loss_{i,v} X_{i,v} <= SALE * (1 - alpha_loss). An "item" is one :class:`ORPRTable`: a
SKU, or a whole category when its SKUs must share one v (:func:`merge_tables`, the
paper's literal X_i per category). The problem is a multiple-choice knapsack; one item is
solved by enumeration, several with ``scipy.optimize.milp`` at zero optimality gap.

Portfolio metrics: turnover days are value-weighted (sum_i h_i avg_on_hand_i / sum_i h_i
mean_demand_i), so with a common horizon they are proportional to the objective and
therefore non-decreasing in alpha_loss, which is what the calibration's bisection needs.
The in-stock rate is the day-weighted mean over items.
"""
from __future__ import annotations

import logging
import math
from typing import Sequence

import numpy as np
from scipy import optimize, sparse

from orpr.simulator import ORPRTable

log = logging.getLogger(__name__)

__all__ = [
    "ORModelInfeasible", "solve_or_model", "merge_tables", "portfolio_turnover", "portfolio_instock",
    "total_stock", "total_loss", "min_loss", "loss_budget", "efficient",
]


class ORModelInfeasible(ValueError):
    """No choice of one v per item meets the loss budget SALE * (1 - alpha_loss)."""


def _check_choices(tables: Sequence[ORPRTable], choices: Sequence[int]) -> None:
    if len(choices) != len(tables):
        raise ValueError(f"{len(choices)} choices for {len(tables)} tables")
    for i, (tab, c) in enumerate(zip(tables, choices)):
        if not 0 <= int(c) < len(tab):
            raise ValueError(f"choice {c} out of range for table {i} with {len(tab)} candidates")


def portfolio_turnover(tables: Sequence[ORPRTable], choices: Sequence[int]) -> float:
    """Value-weighted turnover days: sum_i h_i * avg_on_hand_i / sum_i h_i * mean_demand_i."""
    _check_choices(tables, choices)
    num = sum(t.holding * float(t.avg_on_hand[c]) for t, c in zip(tables, choices))
    den = sum(t.holding * t.mean_demand for t in tables)
    if den <= 0:
        return math.inf if num > 0 else 0.0
    return num / den


def portfolio_instock(tables: Sequence[ORPRTable], choices: Sequence[int]) -> float:
    """Mean in-stock rate over items (each weighted by its number of days)."""
    _check_choices(tables, choices)
    days = sum(t.horizon for t in tables)
    return sum(float(t.instock_rate[c]) * t.horizon for t, c in zip(tables, choices)) / days


def total_stock(tables: Sequence[ORPRTable], choices: Sequence[int]) -> float:
    return float(sum(float(t.stock[c]) for t, c in zip(tables, choices)))


def total_loss(tables: Sequence[ORPRTable], choices: Sequence[int]) -> float:
    return float(sum(float(t.loss[c]) for t, c in zip(tables, choices)))


def min_loss(tables: Sequence[ORPRTable]) -> float:
    """Least achievable total loss: the feasibility floor of the budget."""
    return float(sum(float(t.loss.min()) for t in tables))


def merge_tables(tables: Sequence[ORPRTable]) -> ORPRTable:
    """One category item from SKU tables on a common v grid: every SKU uses the same v.

    stock and loss add; avg_on_hand is value-weighted by h so that the merged item's
    turnover equals :func:`portfolio_turnover` of its SKUs at that v; the merged holding is
    the demand-weighted mean h (which keeps that identity), the in-stock rate is
    day-weighted. SKUs must share the horizon and the v grid.
    """
    if not tables:
        raise ValueError("no tables to merge")
    grid, T = tables[0].v_grid, tables[0].horizon
    for t in tables[1:]:
        if t.horizon != T or not np.array_equal(t.v_grid, grid):
            raise ValueError("merge_tables needs a common horizon and v grid")
    demand = sum(t.mean_demand for t in tables)
    value = sum(t.holding * t.mean_demand for t in tables)
    holding = value / demand if demand > 0 else float(np.mean([t.holding for t in tables]))
    avg = sum(t.holding * t.avg_on_hand for t in tables) / holding
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = np.where(avg > 0, avg / demand, 0.0) if demand > 0 else np.where(avg > 0, np.inf, 0.0)
    sales = sum(t.sales_value for t in tables)
    return ORPRTable(
        v_grid=grid, stock=sum(t.stock for t in tables), loss=sum(t.loss for t in tables), avg_on_hand=avg,
        turnover_days=np.asarray(turnover, dtype=float), instock_rate=sum(t.instock_rate for t in tables) / len(tables),
        mean_demand=demand, horizon=T, holding=holding,
        penalty=sales / (demand * T) if demand > 0 else float(np.mean([t.penalty for t in tables])),
    )


def loss_budget(total_sales: float, alpha_loss: float) -> float:
    if not (math.isfinite(total_sales) and total_sales >= 0):
        raise ValueError(f"total_sales must be finite and >= 0, got {total_sales}")
    if not (0.0 <= alpha_loss <= 1.0):
        raise ValueError(f"alpha_loss must lie in [0, 1], got {alpha_loss}")
    return total_sales * (1.0 - alpha_loss)


def efficient(tab: ORPRTable) -> np.ndarray:
    """Indices of the candidates no other candidate dominates (<= stock and < loss, or < stock and <= loss).

    An optimal choice can always be taken among them (replacing a dominated candidate by
    its dominator keeps feasibility and does not raise the objective), so the MILP only
    needs these; on Algorithm-2 tables this removes most of the grid. Among exact
    duplicates the lowest index is kept.
    """
    order = np.lexsort((np.arange(len(tab)), tab.loss, tab.stock))   # by stock, then loss, then index
    out, best_loss = [], np.inf
    for j in order:
        if tab.loss[j] < best_loss:
            out.append(int(j))
            best_loss = float(tab.loss[j])
    return np.array(sorted(out), dtype=int)


def _solve_single(tab: ORPRTable, budget: float) -> int:
    ok = np.flatnonzero(tab.loss <= budget)
    return int(min(ok, key=lambda j: (float(tab.stock[j]), float(tab.loss[j]), int(j))))  # ties: lower loss, index


def solve_or_model(tables: Sequence[ORPRTable], total_sales: float, alpha_loss: float) -> list[int]:
    """Exact solution of the OR model; returns the chosen index into each table's ``v_grid``.

    The answer is re-checked against the budget in exact float arithmetic; if HiGHS accepted
    a point inside its feasibility tolerance the row is tightened just past that tolerance
    and the model re-solved, so the answer always meets the budget (and is optimal for a
    budget at most a few 1e-6 of the largest loss tighter, in that rare case).
    Raises :class:`ORModelInfeasible` when even the least-loss choice of every item
    exceeds the budget.
    """
    if not tables:
        raise ValueError("no SKU tables given")
    budget = loss_budget(total_sales, alpha_loss)
    floor = min_loss(tables)
    if floor > budget:
        raise ORModelInfeasible(
            f"OR model infeasible: least achievable loss {floor:.6g} exceeds the budget "
            f"SALE*(1-alpha_loss) = {total_sales:.6g}*(1-{alpha_loss:.6g}) = {budget:.6g}"
        )
    if len(tables) == 1:
        return [_solve_single(tables[0], budget)]

    keep = [efficient(t) for t in tables]
    sizes = [len(k) for k in keep]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    stock = np.concatenate([t.stock[k] for t, k in zip(tables, keep)]).astype(float)
    loss = np.concatenate([t.loss[k] for t, k in zip(tables, keep)]).astype(float)
    s_scale = max(float(np.abs(stock).max()), 1e-300)
    l_scale = max(float(np.abs(loss).max()), budget, 1e-300)
    nvar, nsku = len(stock), len(tables)
    rows = np.repeat(np.arange(nsku), sizes)
    a_eq = sparse.csr_array((np.ones(nvar), (rows, np.arange(nvar))), shape=(nsku, nvar))
    rhs = budget
    for attempt in range(8):
        constraints = [
            optimize.LinearConstraint(a_eq, 1.0, 1.0),
            optimize.LinearConstraint((loss / l_scale)[None, :], -np.inf, rhs / l_scale),
        ]
        res = optimize.milp(
            stock / s_scale, constraints=constraints, integrality=np.ones(nvar),
            bounds=optimize.Bounds(0.0, 1.0), options={"mip_rel_gap": 0.0, "presolve": True},
        )
        if res.status == 2 or res.x is None:
            raise ORModelInfeasible(f"OR model infeasible (HiGHS: {res.message}); budget {budget:.6g}")
        if res.status != 0:
            raise RuntimeError(f"OR model: HiGHS stopped without an optimum: {res.message}")
        choices = [int(keep[i][np.argmax(res.x[offsets[i]:offsets[i + 1]])]) for i in range(nsku)]
        total = total_loss(tables, choices)
        if total <= budget:
            return choices
        # HiGHS accepted a point inside its feasibility tolerance (~1e-6 of the scaled row):
        # tighten by more than that tolerance, growing geometrically, and re-solve.
        log.debug("OR model: loss %.12g exceeds budget %.12g by tolerance; tightening", total, budget)
        rhs = max(floor, min(rhs, budget - 2.0 * (total - budget)) - 2e-6 * l_scale * 4.0 ** attempt)
    raise RuntimeError("OR model: could not obtain a solution within the exact loss budget")
