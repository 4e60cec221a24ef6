"""ORPR simulation-augmented OR model (SPEC §7; ORPR paper Sec. 3.3, Algorithm 2) and PTO baselines.

Three layers:

* :func:`simulate_inventory_days` — Algorithm 2 for one SKU, vectorised over the candidate
  inventory-days grid: on every review day order ``Q = v * (mean of the last mean_window
  days of demand)`` and replay the demand history under the lost-sales convention of
  SPEC §1. Returns an :class:`ORPRTable` with per-v stock value, loss value, turnover days
  and in-stock rate.
* :func:`solve_or_model` / :func:`calibrate_alpha` / :func:`orpr_labels` — the OR model
  (one v per SKU, minimise total stock subject to total loss <= SALE * (1 - alpha_loss)),
  solved exactly as a multiple-choice knapsack with HiGHS, and the turnover calibration of
  alpha_loss by binary search (paper Sec. 3.3.3).
* :func:`orpr_replay` — the same Algorithm-2 simulator as a replay backend: per-day costs
  bit-identical to :func:`inventory.simulator.simulate` on the library policy
  ``orpr_inventory_days.py`` with the same parameters, without calling the policy per day.

Conventions (the paper is silent or extraction lost the details; the choices are ours):

* Timing is SPEC §1, not the paper's: the order of review day ``t`` is placed after the
  day's arrival and before its demand, and arrives at the start of day ``t + vlt`` (at once
  when ``vlt == 0``). The paper orders at the end of day ``t`` and receives at
  ``t + VLT``; that is our day ``t + 1`` with ``vlt = VLT - 1``.
* Review days are ``t % review_period == 0`` (``t`` = 0-based index into the window).
* The recent mean on day ``t`` is the mean of demand on days ``max(0, t - w) .. t - 1``
  (only data before the day); with no history (``t == 0``) it is 0, so no order is placed.
* Orders are rounded to the nearest integer (``np.rint``) when ``integer_orders`` — the
  simulator's rule for count demand.
* stock = sum_t h * on_hand_end_t (``h`` plays the paper's unit cost c);
  loss = sum_t p * lost_t (``p`` plays the unit price). Their sum is the SPEC §1 cost.
* Turnover days = mean end-of-day on-hand / mean daily demand; in-stock rate = share of
  days with no lost sales. Portfolio turnover weights SKUs by value (``h``), so it equals
  (total stock / T) / (sum_i h_i * mean demand_i) and is monotone in the OR objective
  when all SKUs share the horizon.
* SALE defaults to the demand value sum_i p_i * sum_t d_{i,t} (:attr:`ORPRTable.sales_value`),
  in the same money unit as loss.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import optimize, sparse, stats

from inventory.replay import ReplayProblem

log = logging.getLogger(__name__)

__all__ = [
    "ORModelInfeasible",
    "ORPRTable",
    "ORPRLabels",
    "rolling_mean_orders",
    "simulate_inventory_days",
    "portfolio_turnover",
    "portfolio_instock",
    "solve_or_model",
    "calibrate_alpha",
    "orpr_labels",
    "orpr_replay",
    "orpr_replay_params",
    "pto_normal_level",
    "fit_gamma_moments",
    "pto_gamma_level",
    "bm_level",
]


class ORModelInfeasible(ValueError):
    """No choice of one v per SKU meets the loss budget SALE * (1 - alpha_loss)."""


@dataclass(frozen=True)
class ORPRTable:
    """Algorithm-2 coefficients of one SKU, one entry per candidate ``v`` (shape ``(n_v,)``).

    Attributes:
        v_grid: candidate inventory days.
        stock: sum_t h * on_hand_end_t (inventory value).
        loss: sum_t p * lost_t (lost-sales value).
        avg_on_hand: mean end-of-day on-hand, units.
        turnover_days: avg_on_hand / mean_demand (``inf`` when mean demand is 0 and
            stock is positive, 0 when both are 0).
        instock_rate: share of days with lost_t == 0.
        mean_demand: mean daily demand of the replayed history.
        horizon: number of replayed days T.
        holding, penalty: h (unit value) and p (unit price) used for stock and loss.
    """

    v_grid: np.ndarray
    stock: np.ndarray
    loss: np.ndarray
    avg_on_hand: np.ndarray
    turnover_days: np.ndarray
    instock_rate: np.ndarray
    mean_demand: float
    horizon: int
    holding: float
    penalty: float

    @property
    def sales_value(self) -> float:
        """Demand value p * sum_t d_t: the default SALE contribution of this SKU."""
        return self.penalty * self.mean_demand * self.horizon

    def __len__(self) -> int:
        return len(self.v_grid)


@dataclass(frozen=True)
class ORPRLabels:
    """OR labels: the chosen v per SKU and the portfolio metrics of that choice."""

    alpha_loss: float
    choices: list[int]
    v: np.ndarray
    tables: list[ORPRTable]
    total_sales: float
    stock: float
    loss: float
    turnover_days: float
    instock_rate: float


# --------------------------------------------------------------------------- Algorithm 2

def _as_int_array(x: np.ndarray | float | int, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(x, dtype=float), (n,)).astype(float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 1) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be integers >= 1, got {np.unique(arr)[:5]}")
    return arr


def rolling_mean_orders(
    demand: np.ndarray,
    v: np.ndarray,
    review_period: np.ndarray | int,
    mean_window: np.ndarray | int,
) -> np.ndarray:
    """Order matrix ``q[j, t]`` of the inventory-days rule, shape ``(len(v), len(demand))``.

    ``q[j, t] = v[j] * mean(demand[t - k : t])`` with ``k = min(mean_window[j], t)`` on review
    days ``t % review_period[j] == 0``, else 0; ``q[j, 0] = 0``. The arithmetic (cumulative
    sum difference divided by ``k``) is exactly the one in ``library/orpr_inventory_days.py``,
    so the results agree bit for bit. No rounding is applied here.
    """
    d = np.asarray(demand, dtype=float)
    v = np.asarray(v, dtype=float).reshape(-1)
    n, T = len(v), len(d)
    R = _as_int_array(review_period, n, "review_period")
    w = _as_int_array(mean_window, n, "mean_window")
    cs = np.concatenate([[0.0], np.cumsum(d)])
    t = np.arange(T)
    # The mean depends on (window, t) only: compute it once per distinct window, as the
    # policy does elementwise (k is a float, as the policy's np.minimum(float, int) gives).
    windows, row_of = np.unique(w, return_inverse=True)
    k = np.minimum(windows[:, None], t[None, :])
    lo = (t[None, :] - k).astype(int)
    with np.errstate(all="ignore"):
        mean = np.where(k > 0, (cs[t][None, :] - cs[lo]) / np.maximum(k, 1), 0.0)
    # Integer modulo gives the same review mask as the policy's float modulo (exact for ints).
    review = (t[None, :] % R.astype(np.int64)[:, None]) == 0
    return np.where(review, v[:, None] * mean[row_of.reshape(-1)], 0.0)


@dataclass(frozen=True)
class _Trace:
    on_hand_end: np.ndarray
    lost: np.ndarray
    costs: np.ndarray


_EXACT_LIMIT = 2.0 ** 52


def _is_integral(x: np.ndarray | float) -> bool:
    arr = np.asarray(x, dtype=float)
    return bool(np.all(arr == np.rint(arr)))


def _lost_sales_replay(
    demand: np.ndarray,
    orders: np.ndarray,
    *,
    lead_time: int,
    init_on_hand: float,
    init_pipeline: np.ndarray,
    h: float,
    p: float,
    integer_orders: bool,
) -> _Trace:
    """SPEC §1 replay of a precomputed (open-loop) order matrix ``(n, T)``.

    Gives the same floats as ``inventory.simulator._replay`` for the same orders. Orders are
    clipped at 0 and rounded (when ``integer_orders``) exactly as there. When every quantity
    is an integer below 2**52 (integer orders, integer demand, integer initial state) the
    on-hand path is computed without a day loop from the Lindley form
    ``x_t = S_t - min(-x_0, min_{s<=t} S_s)``, ``S_t = sum_{u<=t} (a_u - d_u)``: every
    intermediate value is an exactly representable integer, so it equals the day-by-day
    recursion bit for bit. Otherwise the recursion runs day by day with the simulator's
    operations in the simulator's order.
    """
    n, T = orders.shape
    q_all = np.maximum(orders, 0.0)
    if integer_orders:
        q_all = np.rint(q_all)
    L = int(lead_time)
    d = np.asarray(demand, dtype=float)
    x0 = float(init_on_hand)
    pipe = np.broadcast_to(np.asarray(init_pipeline, dtype=float)[:L], (n, L))
    arrivals = np.concatenate([pipe, q_all], axis=1)[:, :T] if L > 0 else q_all
    exact = (
        integer_orders and _is_integral(d) and _is_integral(x0) and _is_integral(init_pipeline)
        and x0 + float(np.abs(init_pipeline).sum()) + float(q_all.sum(axis=1).max(initial=0.0)) + float(d.sum()) < _EXACT_LIMIT
    )
    if exact:
        a_t = np.ascontiguousarray(arrivals.T)                # (T, n): accumulate along rows
        s = np.cumsum(a_t - d[:, None], axis=0)
        ends = s - np.minimum(np.minimum.accumulate(s, axis=0), -x0)
        before = np.concatenate([np.full((1, n), x0), ends[:-1]], axis=0) + a_t
        losts = np.maximum(d[:, None] - before, 0.0)
        costs = h * ends + p * losts
        return _Trace(np.ascontiguousarray(ends.T), np.ascontiguousarray(losts.T), np.ascontiguousarray(costs.T))
    on_hand = np.full(n, x0)
    ends = np.empty((n, T)); losts = np.empty((n, T)); costs = np.empty((n, T))
    for t in range(T):
        on_hand = on_hand + arrivals[:, t]
        dt = d[t]
        lost = np.maximum(dt - on_hand, 0.0)
        on_hand = np.maximum(on_hand - dt, 0.0)
        costs[:, t] = h * on_hand + p * lost
        ends[:, t] = on_hand; losts[:, t] = lost
    return _Trace(ends, losts, costs)


def simulate_inventory_days(
    demand: np.ndarray,
    v_grid: np.ndarray,
    *,
    review_period: int,
    vlt: int,
    mean_window: int,
    holding: float,
    penalty: float,
    init_on_hand: float,
    integer_orders: bool = True,
) -> ORPRTable:
    """Algorithm 2 for one SKU over every candidate ``v`` in ``v_grid`` at once.

    Orders follow :func:`rolling_mean_orders`; the replay follows SPEC §1 with lead time
    ``vlt``, starting from ``init_on_hand`` units and an empty pipeline. ``holding`` must be
    > 0 (it is the inventory value the OR model minimises), ``penalty`` >= 0.
    """
    d = np.asarray(demand, dtype=float).reshape(-1)
    v = np.asarray(v_grid, dtype=float).reshape(-1)
    if len(d) == 0:
        raise ValueError("demand history is empty")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand must be finite and non-negative")
    if len(v) == 0 or not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("v_grid must be a non-empty array of finite values >= 0")
    if int(vlt) != vlt or vlt < 0:
        raise ValueError(f"vlt must be an integer >= 0, got {vlt}")
    if not (math.isfinite(holding) and holding > 0):
        raise ValueError(f"holding (unit value) must be finite and > 0, got {holding}")
    if not (math.isfinite(penalty) and penalty >= 0):
        raise ValueError(f"penalty (unit price) must be finite and >= 0, got {penalty}")
    if not (math.isfinite(init_on_hand) and init_on_hand >= 0):
        raise ValueError(f"init_on_hand must be finite and >= 0, got {init_on_hand}")
    orders = rolling_mean_orders(d, v, review_period, mean_window)
    trace = _lost_sales_replay(
        d, orders, lead_time=int(vlt), init_on_hand=float(init_on_hand), init_pipeline=np.zeros(int(vlt)),
        h=float(holding), p=float(penalty), integer_orders=integer_orders,
    )
    T = len(d)
    mean_d = float(d.mean())
    avg_oh = trace.on_hand_end.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = np.where(avg_oh > 0, avg_oh / mean_d, 0.0) if mean_d > 0 else np.where(avg_oh > 0, np.inf, 0.0)
    return ORPRTable(
        v_grid=v,
        stock=float(holding) * trace.on_hand_end.sum(axis=1),
        loss=float(penalty) * trace.lost.sum(axis=1),
        avg_on_hand=avg_oh,
        turnover_days=np.asarray(turnover, dtype=float),
        instock_rate=(trace.lost <= 0).mean(axis=1),
        mean_demand=mean_d,
        horizon=T,
        holding=float(holding),
        penalty=float(penalty),
    )


# --------------------------------------------------------------------------- OR model

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
    """Mean in-stock rate over SKUs (each SKU weighted by its number of days)."""
    _check_choices(tables, choices)
    days = sum(t.horizon for t in tables)
    return sum(float(t.instock_rate[c]) * t.horizon for t, c in zip(tables, choices)) / days


def _budget(total_sales: float, alpha_loss: float) -> float:
    if not (math.isfinite(total_sales) and total_sales >= 0):
        raise ValueError(f"total_sales must be finite and >= 0, got {total_sales}")
    if not (0.0 <= alpha_loss <= 1.0):
        raise ValueError(f"alpha_loss must lie in [0, 1], got {alpha_loss}")
    return total_sales * (1.0 - alpha_loss)


def _min_loss(tables: Sequence[ORPRTable]) -> float:
    return float(sum(float(t.loss.min()) for t in tables))


def _solve_single(tab: ORPRTable, budget: float) -> int:
    ok = np.flatnonzero(tab.loss <= budget)
    # argmin stock, ties -> lower loss, then lower index
    best = min(ok, key=lambda j: (float(tab.stock[j]), float(tab.loss[j]), int(j)))
    return int(best)


def solve_or_model(tables: Sequence[ORPRTable], total_sales: float, alpha_loss: float) -> list[int]:
    """Exact solution of the OR model (paper eqs. 1-3) as a multiple-choice knapsack.

    Minimise sum_i stock_i[c_i] subject to sum_i loss_i[c_i] <= total_sales * (1 - alpha_loss).
    Returns the chosen index into each table's ``v_grid``. One SKU is solved by enumeration,
    several with ``scipy.optimize.milp`` (HiGHS, zero optimality gap); the returned choice is
    re-checked against the budget in exact float arithmetic. Raises
    :class:`ORModelInfeasible` when even the least-loss choice of every SKU exceeds the budget.
    """
    if not tables:
        raise ValueError("no SKU tables given")
    budget = _budget(total_sales, alpha_loss)
    floor = _min_loss(tables)
    if floor > budget:
        raise ORModelInfeasible(
            f"OR model infeasible: least achievable loss {floor:.6g} exceeds the budget "
            f"SALE*(1-alpha_loss) = {total_sales:.6g}*(1-{alpha_loss:.6g}) = {budget:.6g}"
        )
    if len(tables) == 1:
        return [_solve_single(tables[0], budget)]

    sizes = [len(t) for t in tables]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    stock = np.concatenate([t.stock for t in tables]).astype(float)
    loss = np.concatenate([t.loss for t in tables]).astype(float)
    s_scale = max(float(np.abs(stock).max()), 1e-300)
    l_scale = max(float(np.abs(loss).max()), budget, 1e-300)
    nvar, nsku = len(stock), len(tables)
    rows = np.repeat(np.arange(nsku), sizes)
    a_eq = sparse.csr_array((np.ones(nvar), (rows, np.arange(nvar))), shape=(nsku, nvar))
    rhs = budget
    for attempt in range(6):
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
        choices = [int(np.argmax(res.x[offsets[i]:offsets[i + 1]])) for i in range(nsku)]
        total = float(sum(tables[i].loss[c] for i, c in enumerate(choices)))
        if total <= budget:
            return choices
        # HiGHS accepted a point within its feasibility tolerance; tighten and resolve.
        log.debug("OR model: loss %.12g exceeds budget %.12g by tolerance; tightening", total, budget)
        rhs = rhs - 2.0 * (total - budget) - 1e-12 * l_scale
        if rhs < floor:
            rhs = floor
    raise RuntimeError("OR model: could not obtain a solution within the exact loss budget")


def _or_stock(tables: Sequence[ORPRTable], choices: Sequence[int]) -> float:
    return float(sum(float(t.stock[c]) for t, c in zip(tables, choices)))


def _or_loss(tables: Sequence[ORPRTable], choices: Sequence[int]) -> float:
    return float(sum(float(t.loss[c]) for t, c in zip(tables, choices)))


def calibrate_alpha(
    tables: Sequence[ORPRTable],
    total_sales: float,
    observed_turnover: float,
    tol: float = 1e-3,
    *,
    max_iter: int = 60,
) -> tuple[float, list[int]]:
    """Binary search on alpha_loss so that the OR decisions' turnover matches the observed one.

    Larger alpha_loss tightens the loss budget, which (weakly) raises the optimal stock and
    hence the value-weighted :func:`portfolio_turnover`. The search runs on
    [0, alpha_max], alpha_max = 1 - min total loss / SALE (the largest feasible alpha), and
    stops when ``|turnover - observed| <= tol`` or the bracket is narrower than 1e-12.
    Turnover is a step function of alpha, so an exact match may not exist: the evaluated
    alpha whose turnover is closest to the target is returned (ties -> smaller alpha), with
    its choices. Raises :class:`ORModelInfeasible` if no alpha in [0, 1] is feasible.
    """
    if not (math.isfinite(observed_turnover) and observed_turnover >= 0):
        raise ValueError(f"observed_turnover must be finite and >= 0, got {observed_turnover}")
    if tol < 0:
        raise ValueError("tol must be >= 0")
    _budget(total_sales, 0.0)
    floor = _min_loss(tables)
    if floor > total_sales:
        raise ORModelInfeasible(f"least achievable loss {floor:.6g} exceeds SALE {total_sales:.6g}: no alpha is feasible")
    hi = 1.0 if total_sales == 0 else min(1.0, max(0.0, 1.0 - floor / total_sales))
    # 1 - floor/SALE can round above the exact feasibility limit; step down until feasible.
    while _budget(total_sales, hi) < floor and hi > 0:
        hi = max(0.0, hi - 1e-15 - abs(hi) * 1e-15)
    lo = 0.0
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
        assert best is not None
        if t_hi < observed_turnover - tol:
            log.info("calibrate_alpha: target turnover %.4f above the maximum %.4f reachable", observed_turnover, t_hi)
        return best[1], best[2]
    t_lo = evaluate(lo)
    if t_lo >= observed_turnover - tol:
        assert best is not None
        if t_lo > observed_turnover + tol:
            log.info("calibrate_alpha: target turnover %.4f below the minimum %.4f reachable", observed_turnover, t_lo)
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


def orpr_labels(
    demand: Sequence[np.ndarray] | np.ndarray,
    v_grid: np.ndarray,
    *,
    review_period: int,
    vlt: int,
    mean_window: int,
    holding: float | Sequence[float],
    penalty: float | Sequence[float],
    init_on_hand: float | Sequence[float] = 0.0,
    observed_turnover: float | None = None,
    alpha_loss: float | None = None,
    total_sales: float | None = None,
    tol: float = 1e-3,
    integer_orders: bool = True,
) -> ORPRLabels:
    """OR labels for a set of SKUs (paper Sec. 3.3.3): Algorithm 2, then the OR model.

    ``demand`` is one history per SKU (a 2-D array is read row-wise). Give exactly one of
    ``observed_turnover`` (alpha_loss calibrated by :func:`calibrate_alpha`) or ``alpha_loss``.
    ``total_sales`` defaults to the summed demand value (:attr:`ORPRTable.sales_value`).
    Per-SKU ``holding``, ``penalty`` and ``init_on_hand`` may be scalars or sequences.
    """
    if (observed_turnover is None) == (alpha_loss is None):
        raise ValueError("give exactly one of observed_turnover and alpha_loss")
    rows = [np.asarray(d, dtype=float).reshape(-1) for d in (demand if not isinstance(demand, np.ndarray) or demand.ndim > 1 else [demand])]
    n = len(rows)
    if n == 0:
        raise ValueError("no SKUs given")

    def per_sku(x: float | Sequence[float], name: str) -> list[float]:
        arr = np.broadcast_to(np.asarray(x, dtype=float), (n,))
        if arr.shape != (n,):
            raise ValueError(f"{name} must be a scalar or have one entry per SKU")
        return [float(a) for a in arr]

    hs, ps, i0 = per_sku(holding, "holding"), per_sku(penalty, "penalty"), per_sku(init_on_hand, "init_on_hand")
    tables = [
        simulate_inventory_days(
            d, v_grid, review_period=review_period, vlt=vlt, mean_window=mean_window,
            holding=hs[i], penalty=ps[i], init_on_hand=i0[i], integer_orders=integer_orders,
        )
        for i, d in enumerate(rows)
    ]
    sale = float(sum(t.sales_value for t in tables)) if total_sales is None else float(total_sales)
    if observed_turnover is not None:
        alpha, choices = calibrate_alpha(tables, sale, float(observed_turnover), tol)
    else:
        alpha = float(alpha_loss)  # type: ignore[arg-type]
        choices = solve_or_model(tables, sale, alpha)
    return ORPRLabels(
        alpha_loss=alpha,
        choices=choices,
        v=np.array([t.v_grid[c] for t, c in zip(tables, choices)]),
        tables=tables,
        total_sales=sale,
        stock=_or_stock(tables, choices),
        loss=_or_loss(tables, choices),
        turnover_days=portfolio_turnover(tables, choices),
        instock_rate=portfolio_instock(tables, choices),
    )


# --------------------------------------------------------------------------- replay backend

def orpr_replay(
    problem: ReplayProblem,
    v: np.ndarray,
    *,
    review_period: np.ndarray | int,
    mean_window: np.ndarray | int,
    score_from: int = 0,
) -> np.ndarray:
    """Per-day SPEC §1 costs, shape ``(len(v), days - score_from)``, of the inventory-days rule.

    Equals ``simulate(compile_policy(orpr_inventory_days.py), problem.seq, problem.specs,
    problem.model, {"v": v, "R": review_period, "window": mean_window}, init=problem.init,
    score_from=score_from).costs`` bit for bit, but uses the Algorithm-2 kernel: the orders do
    not depend on the state, so they are computed for all days at once and only the
    inventory recursion loops over days. ``review_period`` and ``mean_window`` broadcast
    against ``v`` and must be integers >= 1.
    """
    model = problem.model
    v = np.asarray(v, dtype=float).reshape(-1)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("v must be finite and >= 0")
    days = len(problem.seq)
    if not 0 <= score_from <= days:
        raise ValueError(f"score_from {score_from} outside [0, {days}]")
    orders = rolling_mean_orders(problem.seq.demand, v, review_period, mean_window)
    trace = _lost_sales_replay(
        problem.seq.demand, orders, lead_time=model.lead_time, init_on_hand=problem.init.on_hand,
        init_pipeline=problem.init.pipeline_for(model.lead_time), h=model.h, p=model.p,
        integer_orders=model.integer_orders,
    )
    return trace.costs[:, score_from:]


def orpr_replay_params(problem: ReplayProblem, params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean cost per parameter set for ``orpr_inventory_days.py``'s params (``v``, ``R``, ``window``).

    Drop-in batch objective for :func:`inventory.tuning.tune`, equal to
    ``problem.mean_costs(program, params)`` for that policy.
    """
    costs = orpr_replay(problem, params["v"], review_period=params["R"], mean_window=params["window"])
    return costs.mean(axis=1)


# --------------------------------------------------------------------------- PTO / BM baselines

def _critical_ratio(b: float, h: float) -> float:
    if not (b >= 0 and h >= 0 and b + h > 0):
        raise ValueError(f"need b >= 0, h >= 0, b + h > 0; got b={b}, h={h}")
    return b / (b + h)


def pto_normal_level(mu: float, sigma: float, R: int, LT: int, b: float, h: float) -> float:
    """PTO_normal = mu * (R + LT) + Phi^{-1}(b / (b + h)) * sigma * sqrt(R + LT) (paper Sec. 4.2.1).

    Under SPEC §1 timing the protection interval of a periodic order-up-to policy is
    R + L days, so callers pass ``LT = L``.
    """
    span = R + LT
    if span <= 0 or sigma < 0:
        raise ValueError(f"need R + LT > 0 and sigma >= 0, got R={R}, LT={LT}, sigma={sigma}")
    return float(mu * span + stats.norm.ppf(_critical_ratio(b, h)) * sigma * math.sqrt(span))


def fit_gamma_moments(demand: np.ndarray) -> tuple[float, float]:
    """Method-of-moments Gamma(k, theta) for daily demand: k = mean^2 / var, theta = var / mean.

    Uses the sample variance (ddof = 1). Raises ValueError when mean or variance is not > 0.
    """
    d = np.asarray(demand, dtype=float)
    if len(d) < 2:
        raise ValueError("need at least two observations to fit a gamma by moments")
    m, var = float(d.mean()), float(d.var(ddof=1))
    if m <= 0 or var <= 0:
        raise ValueError(f"gamma fit needs mean > 0 and variance > 0, got mean={m}, var={var}")
    return m * m / var, var / m


def pto_gamma_level(k: float, theta: float, R: int, LT: int, b: float, h: float) -> float:
    """PTO_gamma = quantile b / (b + h) of Gamma((R + LT) * k, theta) (paper Sec. 4.2.1)."""
    span = R + LT
    if span <= 0 or k <= 0 or theta <= 0:
        raise ValueError(f"need R + LT > 0, k > 0, theta > 0; got R={R}, LT={LT}, k={k}, theta={theta}")
    return float(stats.gamma.ppf(_critical_ratio(b, h), a=span * k, scale=theta))


def bm_level(demand: np.ndarray, x: float) -> float:
    """BM_x: the x-th percentile (0 <= x <= 100, linear interpolation) of ``demand``."""
    d = np.asarray(demand, dtype=float)
    if len(d) == 0:
        raise ValueError("empty demand sample")
    if not 0 <= x <= 100:
        raise ValueError(f"x is a percentile in [0, 100], got {x}")
    return float(np.quantile(d, x / 100.0))
