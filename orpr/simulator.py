"""Algorithm 2 of the ORPR paper (Sec. 3.3.1): replay the demand history for every candidate v.

For one SKU and each candidate inventory-days value ``v`` the simulator orders on every
review day and replays the history under the lost-sales convention of SPEC §1, which
gives the OR model's coefficients ``stock_{i,v}`` (inventory value) and ``loss_{i,v}``
(lost-sales value). Two order rules (:class:`OrderRule`):

* ``QUANTITY`` — SPEC §7 read literally: order ``Q = v * recent mean daily demand`` on each
  review day, whatever the stock. Open loop, so the whole order matrix is known up front
  and the on-hand path needs no day loop when every quantity is an integer.
* ``TARGET`` — ``v`` is a target in days of cover: order ``(v * recent mean - IP)^+`` on
  each review day (the paper's "inventory targets", Sec. 4.1; a days-of-cover base stock).
  Closed loop: a day loop, vectorised over the candidates.

Both produce the same floats as :func:`inventory.simulator.simulate` on the library policy
``inventory/library/orpr_inventory_days.py`` (``target`` = 0 or 1), because they perform
the policy's and the simulator's operations in the same order (tested bit for bit).

Conventions (the paper is silent or the extraction lost them; the choices are ours):

* Timing is SPEC §1: the order of review day ``t`` is placed after the day's arrival and
  before its demand and arrives at the start of day ``t + vlt`` (at once when ``vlt = 0``).
  The paper orders at the end of day ``t`` and receives at ``t + VLT``: our ``vlt = VLT - 1``.
* Review days are ``t % review_period == 0`` (``t`` = 0-based index into the window).
* The recent mean on day ``t`` is the mean of days ``max(0, t - w) .. t - 1``; 0 on day 0.
* Orders are ``rint``-ed when orders are integer (the simulator's rule for count demand).
* stock = sum_t h * on_hand_end_t (h plays the unit cost c), loss = sum_t p * lost_t (p
  plays the unit price); their sum is the SPEC §1 cost.
* Turnover days = mean end-of-day on-hand / mean daily demand; in-stock rate = share of
  days without lost sales.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from inventory.replay import ReplayProblem

__all__ = [
    "OrderRule", "ORPRTable", "Trace", "recent_means", "quantity_orders", "inventory_days_trace",
    "simulate_inventory_days", "orpr_replay", "orpr_replay_params",
]


class OrderRule(str, Enum):
    """How Algorithm 2 maps inventory days ``v`` to an order on a review day."""

    QUANTITY = "quantity"   # q = v * mean (SPEC §7 literal; open loop)
    TARGET = "target"       # q = (v * mean - IP)^+ (days-of-cover target; closed loop)

    @property
    def flag(self) -> float:
        """Value of the library policy's ``target`` parameter for this rule."""
        return 1.0 if self is OrderRule.TARGET else 0.0


@dataclass(frozen=True)
class ORPRTable:
    """Algorithm-2 coefficients of one SKU (or one merged category), one entry per ``v``.

    Attributes:
        v_grid: candidate inventory days.
        stock: sum_t h * on_hand_end_t (inventory value).
        loss: sum_t p * lost_t (lost-sales value).
        avg_on_hand: mean end-of-day on-hand, units.
        turnover_days: avg_on_hand / mean_demand (``inf`` when mean demand is 0 and stock is
            positive, 0 when both are 0).
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
class Trace:
    """Per-day paths, shape ``(n, T)``: one row per parameter set."""

    orders: np.ndarray
    on_hand_end: np.ndarray
    lost: np.ndarray
    costs: np.ndarray


def _int_array(x: np.ndarray | float | int, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(x, dtype=float), (n,)).astype(float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 1) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be integers >= 1, got {np.unique(arr)[:5]}")
    return arr


def recent_means(demand: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """``m[j, t]`` = mean of demand over days ``max(0, t - windows[j]) .. t - 1`` (0 at t = 0).

    The arithmetic (cumulative-sum difference over the float window length) is the library
    policy's, so the results agree bit for bit. Computed once per distinct window.
    """
    d = np.asarray(demand, dtype=float)
    T = len(d)
    cs = np.concatenate([[0.0], np.cumsum(d)])
    t = np.arange(T)
    uniq, row_of = np.unique(np.asarray(windows, dtype=float), return_inverse=True)
    k = np.minimum(uniq[:, None], t[None, :])
    lo = (t[None, :] - k).astype(int)
    with np.errstate(all="ignore"):
        mean = np.where(k > 0, (cs[t][None, :] - cs[lo]) / np.maximum(k, 1), 0.0)
    return mean[row_of.reshape(-1)]


def _review_mask(T: int, review_period: np.ndarray) -> np.ndarray:
    # Integer modulo gives the same mask as the policy's float modulo (exact for integers).
    return (np.arange(T)[None, :] % review_period.astype(np.int64)[:, None]) == 0


def quantity_orders(demand: np.ndarray, v: np.ndarray, review_period: np.ndarray | int,
                    mean_window: np.ndarray | int) -> np.ndarray:
    """Order matrix ``q[j, t] = v[j] * mean`` on review days, else 0 (QUANTITY rule, unrounded)."""
    v = np.asarray(v, dtype=float).reshape(-1)
    n, T = len(v), len(np.asarray(demand))
    R = _int_array(review_period, n, "review_period")
    w = _int_array(mean_window, n, "mean_window")
    return np.where(_review_mask(T, R), v[:, None] * recent_means(demand, w), 0.0)


_EXACT_LIMIT = 2.0 ** 52


def _integral(x: np.ndarray | float) -> bool:
    arr = np.asarray(x, dtype=float)
    return bool(np.all(arr == np.rint(arr)))


def _open_loop(d: np.ndarray, orders: np.ndarray, L: int, x0: float, pipeline: np.ndarray,
               h: float, p: float, integer_orders: bool) -> Trace:
    """SPEC §1 replay of a precomputed order matrix, the simulator's floats.

    When every quantity is an integer below 2**52 the on-hand path comes from the Lindley
    form ``x_t = S_t - min(-x_0, min_{s<=t} S_s)``, ``S_t = sum_{u<=t} (a_u - d_u)``: all
    intermediate values are exact integers, so it equals the day-by-day recursion bit for bit.
    """
    n, T = orders.shape
    q = np.maximum(orders, 0.0)
    if integer_orders:
        q = np.rint(q)
    arrivals = np.concatenate([np.broadcast_to(pipeline, (n, L)), q], axis=1)[:, :T] if L > 0 else q
    exact = (integer_orders and _integral(d) and _integral(x0) and _integral(pipeline)
             and x0 + float(np.abs(pipeline).sum()) + float(q.sum(axis=1).max(initial=0.0)) + float(d.sum()) < _EXACT_LIMIT)
    if exact:
        a_t = np.ascontiguousarray(arrivals.T)                # (T, n): accumulate along rows
        s = np.cumsum(a_t - d[:, None], axis=0)
        ends = s - np.minimum(np.minimum.accumulate(s, axis=0), -x0)
        before = np.concatenate([np.full((1, n), x0), ends[:-1]], axis=0) + a_t
        losts = np.maximum(d[:, None] - before, 0.0)
        costs = h * ends + p * losts
        return Trace(q, np.ascontiguousarray(ends.T), np.ascontiguousarray(losts.T), np.ascontiguousarray(costs.T))
    on_hand = np.full(n, x0)
    ends = np.empty((T, n)); losts = np.empty((T, n)); costs = np.empty((T, n))
    for t in range(T):
        on_hand = on_hand + arrivals[:, t]
        lost = np.maximum(d[t] - on_hand, 0.0)
        on_hand = np.maximum(on_hand - d[t], 0.0)
        costs[t] = h * on_hand + p * lost
        ends[t] = on_hand; losts[t] = lost
    return Trace(q, ends.T.copy(), losts.T.copy(), costs.T.copy())


def _target_loop(d: np.ndarray, v: np.ndarray, review: np.ndarray, mean: np.ndarray, L: int, x0: float,
                 pipeline: np.ndarray, h: float, p: float, integer_orders: bool) -> Trace:
    """TARGET rule, day by day with the simulator's operations in the simulator's order."""
    n, T = mean.shape
    on_hand = np.full(n, x0)
    pipe = [np.full(n, float(x)) for x in pipeline]
    orders = np.empty((T, n)); ends = np.empty((T, n)); losts = np.empty((T, n)); costs = np.empty((T, n))
    with np.errstate(all="ignore"):
        for t in range(T):
            if L > 0:
                on_hand += pipe.pop(0)
            position = on_hand + sum(pipe) if pipe else on_hand.copy()
            q = np.where(review[:, t], np.maximum(v * mean[:, t] - position, 0.0), 0.0)
            if integer_orders:
                q = np.rint(q)
            if L == 0:
                on_hand += q
            else:
                pipe.append(q)
            lost = np.maximum(d[t] - on_hand, 0.0)
            np.maximum(on_hand - d[t], 0.0, out=on_hand)
            np.multiply(on_hand, h, out=costs[t])
            costs[t] += p * lost
            orders[t] = q; ends[t] = on_hand; losts[t] = lost
    return Trace(orders.T.copy(), ends.T.copy(), losts.T.copy(), np.ascontiguousarray(costs.T))


def inventory_days_trace(
    demand: np.ndarray, v: np.ndarray, *, review_period: np.ndarray | int, mean_window: np.ndarray | int,
    target: np.ndarray | float = 0.0, lead_time: int, init_on_hand: float = 0.0,
    init_pipeline: np.ndarray | tuple[float, ...] = (), h: float, p: float, integer_orders: bool = True,
) -> Trace:
    """Replay the inventory-days rule for every row of ``(v, review_period, mean_window, target)``.

    ``target`` > 0.5 selects the TARGET rule for that row, else QUANTITY. ``init_pipeline``
    lists the orders arriving on days 0 .. L-1 (missing entries are 0).
    """
    d = np.asarray(demand, dtype=float).reshape(-1)
    v = np.asarray(v, dtype=float).reshape(-1)
    n, T, L = len(v), len(d), int(lead_time)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("v must be finite and >= 0")
    R = _int_array(review_period, n, "review_period")
    w = _int_array(mean_window, n, "mean_window")
    tgt = np.broadcast_to(np.asarray(target, dtype=float), (n,)) > 0.5
    pipe = np.zeros(L)
    given = np.asarray(init_pipeline, dtype=float).reshape(-1)[:L]
    pipe[:len(given)] = given
    mean = recent_means(d, w)
    review = _review_mask(T, R)
    parts: list[tuple[np.ndarray, Trace]] = []
    if (~tgt).any():
        rows = np.flatnonzero(~tgt)
        orders = np.where(review[rows], v[rows, None] * mean[rows], 0.0)
        parts.append((rows, _open_loop(d, orders, L, float(init_on_hand), pipe, h, p, integer_orders)))
    if tgt.any():
        rows = np.flatnonzero(tgt)
        parts.append((rows, _target_loop(d, v[rows], review[rows], mean[rows], L, float(init_on_hand), pipe,
                                         h, p, integer_orders)))
    if len(parts) == 1:
        return parts[0][1]
    out = {f: np.empty((n, T)) for f in ("orders", "on_hand_end", "lost", "costs")}
    for rows, tr in parts:
        for f, arr in out.items():
            arr[rows] = getattr(tr, f)
    return Trace(**out)


def _check_scalar(name: str, x: float, *, positive: bool = False) -> None:
    ok = math.isfinite(x) and (x > 0 if positive else x >= 0)
    if not ok:
        raise ValueError(f"{name} must be finite and {'> 0' if positive else '>= 0'}, got {x}")


def simulate_inventory_days(
    demand: np.ndarray, v_grid: np.ndarray, *, review_period: int, vlt: int, mean_window: int,
    holding: float, penalty: float, init_on_hand: float, init_pipeline: tuple[float, ...] = (),
    integer_orders: bool = True, rule: OrderRule = OrderRule.QUANTITY,
) -> ORPRTable:
    """Algorithm 2 for one SKU over every candidate ``v`` in ``v_grid`` at once.

    ``holding`` must be > 0 (it is the inventory value the OR model minimises),
    ``penalty`` >= 0. Raises ValueError on bad input.
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
    _check_scalar("holding (unit value)", holding, positive=True)
    _check_scalar("penalty (unit price)", penalty)
    _check_scalar("init_on_hand", init_on_hand)
    trace = inventory_days_trace(
        d, v, review_period=review_period, mean_window=mean_window, target=OrderRule(rule).flag,
        lead_time=int(vlt), init_on_hand=float(init_on_hand), init_pipeline=init_pipeline,
        h=float(holding), p=float(penalty), integer_orders=integer_orders,
    )
    mean_d = float(d.mean())
    avg_oh = trace.on_hand_end.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = np.where(avg_oh > 0, avg_oh / mean_d, 0.0) if mean_d > 0 else np.where(avg_oh > 0, np.inf, 0.0)
    return ORPRTable(
        v_grid=v, stock=float(holding) * trace.on_hand_end.sum(axis=1), loss=float(penalty) * trace.lost.sum(axis=1),
        avg_on_hand=avg_oh, turnover_days=np.asarray(turnover, dtype=float),
        instock_rate=(trace.lost <= 0).mean(axis=1), mean_demand=mean_d, horizon=len(d),
        holding=float(holding), penalty=float(penalty),
    )


def orpr_replay(problem: ReplayProblem, v: np.ndarray, *, review_period: np.ndarray | int,
                mean_window: np.ndarray | int, target: np.ndarray | float = 0.0, score_from: int = 0) -> np.ndarray:
    """Per-day SPEC §1 costs, shape ``(len(v), days - score_from)``, of the inventory-days rule.

    Equals ``simulate(compile_policy(orpr_inventory_days.py), problem.seq, ..., {"v": v,
    "R": review_period, "window": mean_window, "target": target}, init=problem.init,
    score_from=score_from).costs`` bit for bit without calling the policy per day.
    """
    days = len(problem.seq)
    if not 0 <= score_from <= days:
        raise ValueError(f"score_from {score_from} outside [0, {days}]")
    m = problem.model
    trace = inventory_days_trace(
        problem.seq.demand, v, review_period=review_period, mean_window=mean_window, target=target,
        lead_time=m.lead_time, init_on_hand=problem.init.on_hand, init_pipeline=problem.init.pipeline_for(m.lead_time),
        h=m.h, p=m.p, integer_orders=m.integer_orders,
    )
    return trace.costs[:, score_from:]


def orpr_replay_params(problem: ReplayProblem, params: dict[str, np.ndarray]) -> np.ndarray:
    """Mean cost per parameter set of ``orpr_inventory_days.py`` (a batch objective for ``tune``)."""
    costs = orpr_replay(problem, params["v"], review_period=params["R"], mean_window=params["window"],
                        target=params.get("target", 0.0))
    return costs.mean(axis=1)
