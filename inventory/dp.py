"""Exact average-cost dynamic programming for the lost-sales inventory model (SPEC §1).

Model (SPEC §1, one period ``t``, lead time ``L >= 0``)
-------------------------------------------------------
1. the order placed in period ``t - L`` arrives (``L = 0``: the order placed now
   arrives at once, before demand);
2. the policy observes on-hand stock after that arrival plus the outstanding
   pipeline and places an integer order ``q_t >= 0``;
3. demand ``D_t`` (i.i.d., pmf on ``{0..Dmax}``) is realised; sales are
   ``min(on_hand, D)``, ``lost = (D - on_hand)^+``, ``on_hand_end = (on_hand - D)^+``;
4. cost ``h * on_hand_end + p * lost``.

The objective is the long-run average cost per period.

State (the "pre-decision" state, observed in step 2)
----------------------------------------------------
* ``L >= 1``: ``(x, o_1, ..., o_{L-1})`` where ``x`` is on-hand after the arrival
  of the order placed ``L`` periods ago and ``o_1`` (arrives next period) ...
  ``o_{L-1}`` (arrives in ``L-1`` periods) are the outstanding orders, oldest
  first.  ``L = 1`` therefore has the scalar state ``(x,)``.  The order ``q``
  placed now arrives in ``L`` periods.  The expected period cost depends on ``x``
  only; the next state is ``((x - D)^+ + o_1, o_2, ..., o_{L-1}, q)``.
* ``L = 0``: ``(x,)`` is on-hand before ordering; ``q`` arrives at once, the
  period cost is that of stock ``x + q`` and the next state is ``(x + q - D)^+``.

Inventory position ``IP = x + sum(o)``.

Compact state index and truncation
----------------------------------
All states with ``IP <= B`` (``B`` = ``bound``) are enumerated in lexicographic
order, as are the "post-decision" tuples ``(state, q)`` with ``IP + q <= B``.
This is a simplex, ``C(B + L, L)`` states instead of ``(B + 1)^L``.  Orders are
restricted so that the post-order inventory position stays ``<= B``; since the
inventory position never increases without an order, the truncated MDP is
closed.  The Bellman operator is one sparse mat-vec (post-decision state ->
distribution of the next pre-decision state) followed by a segmented minimum
(``np.minimum.reduceat``) over each state's contiguous block of order
quantities.

Why the truncation does not bind:

* the default ``B`` is Morton's (1971) bound, as restated in Zipkin (2008): an
  optimal lost-sales policy never raises the inventory position above the
  backorder base-stock level ``S_b = F_{L+1}^{-1}(p / (p + h))`` (the
  ``p/(p+h)`` fractile of demand over ``L + 1`` periods), plus a margin of 3;
* this is not taken on trust: after relative value iteration
  :func:`solve_lost_sales` checks that for **every** state with ``IP < B`` the
  optimal post-order inventory position is ``< B`` (the optimal order is
  strictly inside the truncation), i.e. the cap ``IP + q <= B`` is never active.
  With the default bound a violation enlarges ``B`` and re-solves; with a
  user-given bound it raises :class:`TruncationError`.  The tests also re-solve
  with a larger ``B`` and obtain the same optimum.

Relative value iteration stops when the span of ``T v - v`` is below ``tol``;
``min(Tv - v) <= g* <= max(Tv - v)`` (Odoni bounds), and ``avg_cost`` is the
midpoint, so it is within ``tol / 2`` of the optimum of the truncated model.

Policy evaluation (base stock, capped base stock) builds the Markov chain that
the policy induces on the same state space and solves for its stationary
distribution (:func:`inventory.markov.stationary_distribution`); for a base-stock
level ``S`` the set ``{IP <= S}`` is closed (and for CBS also ``{all o_i <= r}``),
so only that set is solved.

numpy / scipy only.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy import sparse, stats

from inventory.markov import stationary_distribution

log = logging.getLogger(__name__)

__all__ = [
    "DPResult",
    "LostSalesModel",
    "TruncationError",
    "poisson_pmf",
    "geometric_pmf",
    "solve_lost_sales",
    "morton_bound",
    "evaluate_base_stock",
    "evaluate_cbs",
    "best_base_stock",
    "best_cbs",
]

_MARGIN = 3  # states above Morton's bound kept in the truncation


class TruncationError(RuntimeError):
    """The optimal policy (or best parameter) hit the edge of the truncation/search range."""


# --------------------------------------------------------------------------------------
# demand distributions
# --------------------------------------------------------------------------------------


def _finish_pmf(pmf: np.ndarray, tail_mass: float) -> np.ndarray:
    """Lump the truncated tail mass onto the last support point and renormalise."""
    pmf = np.asarray(pmf, dtype=float).copy()
    pmf[-1] += max(tail_mass, 0.0)
    pmf = np.clip(pmf, 0.0, None)
    return pmf / pmf.sum()


def poisson_pmf(mean: float, tail: float = 1e-12) -> np.ndarray:
    """Poisson(mean) pmf on ``{0..Dmax}``, ``Dmax`` the smallest k with P(D > k) <= tail.

    The tail mass P(D > Dmax) is added to P(D = Dmax) so the pmf sums to one.
    """
    if not (mean >= 0 and math.isfinite(mean)):
        raise ValueError(f"mean must be finite and >= 0, got {mean}")
    if not (0 < tail < 1):
        raise ValueError("tail must be in (0, 1)")
    if mean == 0:
        return np.ones(1)
    upper = int(mean + 20 * math.sqrt(mean) + 50)
    while True:
        ks = np.arange(upper + 1)
        sf = stats.poisson.sf(ks, mean)
        hit = np.nonzero(sf <= tail)[0]
        if hit.size:
            dmax = int(hit[0])
            break
        upper *= 2
    ks = np.arange(dmax + 1)
    return _finish_pmf(stats.poisson.pmf(ks, mean), float(sf[dmax]))


def geometric_pmf(mean: float, tail: float = 1e-12) -> np.ndarray:
    """Geometric pmf on ``{0, 1, ...}`` with the given mean: P(D=k) = (1/(1+m)) (m/(1+m))^k.

    Truncated at the smallest ``Dmax`` with P(D > Dmax) = (m/(1+m))^(Dmax+1) <= tail;
    the tail mass is lumped onto ``Dmax``.
    """
    if not (mean >= 0 and math.isfinite(mean)):
        raise ValueError(f"mean must be finite and >= 0, got {mean}")
    if not (0 < tail < 1):
        raise ValueError("tail must be in (0, 1)")
    if mean == 0:
        return np.ones(1)
    rho = mean / (1.0 + mean)
    dmax = max(int(math.ceil(math.log(tail) / math.log(rho))) - 1, 0)
    while rho ** (dmax + 1) > tail:  # guard against rounding in the log formula
        dmax += 1
    ks = np.arange(dmax + 1)
    pmf = (1.0 - rho) * rho**ks
    return _finish_pmf(pmf, rho ** (dmax + 1))


def _check_pmf(pmf) -> np.ndarray:
    pmf = np.asarray(pmf, dtype=float).ravel()
    if pmf.size == 0 or np.any(pmf < 0) or not np.all(np.isfinite(pmf)):
        raise ValueError("pmf must be a non-empty vector of non-negative finite numbers")
    s = pmf.sum()
    if abs(s - 1.0) > 1e-8:
        raise ValueError(f"pmf must sum to 1 (sums to {s!r})")
    return pmf / s


def _check_params(lead_time: int, h: float, p: float) -> int:
    if int(lead_time) != lead_time or lead_time < 0:
        raise ValueError(f"lead_time must be a non-negative integer, got {lead_time}")
    if h < 0 or p < 0:
        raise ValueError("h and p must be non-negative")
    return int(lead_time)


def morton_bound(pmf, lead_time: int, h: float, p: float) -> int:
    """Backorder base-stock level ``S_b``: the p/(p+h) fractile of demand over L+1 periods.

    Morton (1971) (cited as eq. (4) in Zipkin 2008): an optimal lost-sales policy orders at
    most ``(S_b - IP)^+``.  Used here only to pick default truncation bounds and
    search ranges; the non-binding of the truncation is verified numerically.
    """
    pmf = _check_pmf(pmf)
    L = _check_params(lead_time, h, p)
    conv = pmf
    for _ in range(L):
        conv = np.convolve(conv, pmf)
    frac = p / (p + h) if p + h > 0 else 0.0
    cdf = np.cumsum(conv)
    return int(min(np.searchsorted(cdf, frac - 1e-12), conv.size - 1))


def _expected_overage_underage(pmf: np.ndarray, ymax: int) -> tuple[np.ndarray, np.ndarray]:
    """E(y - D)^+ and E(D - y)^+ for y = 0..ymax."""
    dmax = pmf.size - 1
    n = max(ymax, dmax) + 1
    cdf = np.ones(n)
    cdf[: dmax + 1] = np.cumsum(pmf)
    cdf = np.minimum(cdf, 1.0)
    over = np.concatenate([[0.0], np.cumsum(cdf[:ymax])])  # sum_{d<y} F(d)
    mean = float(np.dot(np.arange(dmax + 1), pmf))
    ys = np.arange(ymax + 1)
    under = mean - ys + over
    return over, np.maximum(under, 0.0)


# --------------------------------------------------------------------------------------
# compact state space
# --------------------------------------------------------------------------------------


def _enumerate_simplex(dim: int, bound: int) -> np.ndarray:
    """All tuples of ``dim`` non-negative ints with sum <= bound, lexicographic order."""
    arr = np.arange(bound + 1, dtype=np.int64)[:, None]
    for _ in range(dim - 1):
        rem = bound - arr.sum(axis=1)
        counts = rem + 1
        rows = np.repeat(np.arange(arr.shape[0]), counts)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        new = np.arange(rows.size) - np.repeat(offsets, counts)
        arr = np.column_stack([arr[rows], new])
    return arr


def _codes(tuples: np.ndarray, radix: int) -> np.ndarray:
    dim = tuples.shape[1]
    w = radix ** np.arange(dim - 1, -1, -1, dtype=np.int64)
    return tuples @ w


class LostSalesModel:
    """The truncated lost-sales MDP on the compact state space ``{IP <= bound}``.

    Attributes (``n`` pre-decision states, ``m`` post-decision pairs):

    * ``states`` (n, max(L,1)) int: ``(x, o_1, .., o_{L-1})`` (``(x,)`` for L <= 1);
    * ``ip`` (n,): inventory position of each state;
    * ``starts`` (n,): first post-decision index of each state's block; the block
      holds ``q = 0 .. bound - ip`` in order;
    * ``post_q`` (m,): order quantity of each post-decision pair;
    * ``c_post`` (m,): expected one-period cost of each pair (may be replaced by a
      caller to study other cost conventions);
    * ``P`` (m, n) CSR: distribution of the next state given a pair.
    """

    def __init__(self, pmf, lead_time: int, h: float, p: float, bound: int):
        self.pmf = _check_pmf(pmf)
        self.L = _check_params(lead_time, h, p)
        self.h = float(h)
        self.p = float(p)
        bound = int(bound)
        if bound < 1:
            raise ValueError("bound must be >= 1")
        self.bound = bound
        R = bound + 1
        self.radix = R
        dim = max(self.L, 1)
        self.dim = dim

        states = _enumerate_simplex(dim, bound)
        post = _enumerate_simplex(dim + 1, bound)
        self.states = states
        self.codes = _codes(states, R)
        self.ip = states.sum(axis=1)
        counts = bound - self.ip + 1
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.block = np.repeat(np.arange(states.shape[0]), counts)
        self.post_q = post[:, -1]
        m = post.shape[0]
        if m != counts.sum():  # pragma: no cover - internal consistency
            raise AssertionError("post-decision enumeration inconsistent with blocks")

        # stock that faces this period's demand, and the part of the next state's code
        # that does not depend on the demand
        if self.L == 0:
            stock = post[:, 0] + post[:, 1]
            base = np.zeros(m, dtype=np.int64)
        else:
            stock = post[:, 0]
            base = _codes(post[:, 1:], R)  # (o_1, .., o_{L-1}, q) coded in `dim` digits
        self.post_stock = stock

        over, under = _expected_overage_underage(self.pmf, bound)
        self.c_post = self.h * over[stock] + self.p * under[stock]

        # transition kernel of the stock: from stock y to end-of-period stock z in 0..y,
        # P(z) = P(D = y - z) for z >= 1 and P(D >= y) for z = 0
        dmax = self.pmf.size - 1
        pmf_pad = np.zeros(bound + 1)
        pmf_pad[: min(dmax, bound) + 1] = self.pmf[: bound + 1]
        cdf_full = np.cumsum(self.pmf)
        ys = np.arange(bound + 1)
        sf_ge = np.where(ys >= 1, 1.0 - cdf_full[np.clip(ys - 1, 0, dmax)], 1.0)
        sf_ge = np.clip(sf_ge, 0.0, 1.0)

        nnz_counts = stock + 1
        indptr = np.concatenate([[0], np.cumsum(nnz_counts)]).astype(np.int64)
        nnz = int(indptr[-1])
        row_of = np.repeat(np.arange(m), nnz_counts)
        z = np.arange(nnz, dtype=np.int64) - np.repeat(indptr[:-1], nnz_counts)
        y = stock[row_of]
        demand = y - z
        prob = np.where(z == 0, sf_ge[y], pmf_pad[demand])
        next_codes = base[row_of] + z * R ** (dim - 1)
        cols = np.searchsorted(self.codes, next_codes)
        if np.any(cols >= self.codes.size) or np.any(self.codes[np.minimum(cols, self.codes.size - 1)] != next_codes):
            raise AssertionError("transition leaves the truncated state space")  # pragma: no cover
        self.P = sparse.csr_matrix((prob, cols, indptr), shape=(m, states.shape[0]))
        del row_of, z, y, demand, prob, next_codes, cols

    # ---------------------------------------------------------------- basic queries
    @property
    def n_states(self) -> int:
        return int(self.states.shape[0])

    @property
    def pipeline(self) -> np.ndarray:
        """Outstanding orders (n, L-1); empty second axis for L <= 1."""
        return self.states[:, 1:]

    def index(self, on_hand: int, pipeline: Sequence[int] = ()) -> int:
        pipeline = tuple(int(v) for v in pipeline)
        need = max(self.L - 1, 0)
        if len(pipeline) != need:
            raise ValueError(f"lead time {self.L}: pipeline must have {need} entries, got {len(pipeline)}")
        tup = (int(on_hand),) + pipeline
        if min(tup) < 0:
            raise ValueError("state entries must be non-negative")
        if sum(tup) > self.bound:
            raise ValueError(f"state {tup} has IP {sum(tup)} > truncation bound {self.bound}")
        code = int(_codes(np.array([tup], dtype=np.int64), self.radix)[0])
        i = int(np.searchsorted(self.codes, code))
        return i

    # ---------------------------------------------------------------- Bellman / RVI
    def bellman(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (T v, post-decision values c + P v)."""
        A = self.c_post + self.P @ v
        return np.minimum.reduceat(A, self.starts), A

    def greedy(self, A: np.ndarray, Tv: np.ndarray) -> np.ndarray:
        """Smallest minimising order per state (ties broken towards ordering less)."""
        scale = max(1.0, float(np.max(np.abs(Tv))))
        is_min = A <= Tv[self.block] + 1e-12 * scale
        big = self.bound + 1
        q = np.minimum.reduceat(np.where(is_min, self.post_q, big), self.starts)
        return q.astype(np.int64)

    def relative_value_iteration(self, *, tol: float = 1e-6, max_iter: int = 100000, damping: float = 1.0):
        """Relative value iteration; returns dict(avg_cost, lower, upper, span, iterations, v, orders).

        ``damping`` < 1 applies the aperiodicity transform v <- v + damping (Tv - v)
        (only needed for demand distributions that make the chain periodic).
        """
        if not (0 < damping <= 1):
            raise ValueError("damping must be in (0, 1]")
        v = np.zeros(self.n_states)
        lo = hi = float("nan")
        it = 0
        for it in range(1, max_iter + 1):
            Tv, A = self.bellman(v)
            d = Tv - v
            lo, hi = float(d.min()), float(d.max())
            if hi - lo < tol:
                break
            v = v + damping * d
            v -= v[0]
        else:
            raise RuntimeError(f"RVI did not converge in {max_iter} iterations (span {hi - lo:.3e})")
        orders = self.greedy(A, Tv)
        return {
            "avg_cost": 0.5 * (lo + hi),
            "lower": lo,
            "upper": hi,
            "span": hi - lo,
            "iterations": it,
            "v": Tv - Tv[0],
            "orders": orders,
        }

    # ---------------------------------------------------------------- policy evaluation
    def evaluate_orders(self, orders: np.ndarray, mask: np.ndarray | None = None) -> float:
        """Exact long-run average cost of the stationary policy ``orders`` (one per state).

        ``mask`` selects a closed set of states containing the recurrent class (all
        states if None).  Orders must keep ``IP + q <= bound``.
        """
        orders = np.asarray(orders, dtype=np.int64)
        if orders.shape != (self.n_states,):
            raise ValueError("need one order per state")
        if np.any(orders < 0) or np.any(self.ip + orders > self.bound):
            raise ValueError("orders must satisfy 0 <= q <= bound - IP")
        idx = np.arange(self.n_states) if mask is None else np.nonzero(mask)[0]
        post_idx = self.starts[idx] + orders[idx]
        sub = self.P[post_idx][:, idx]
        if mask is not None:
            leak = 1.0 - np.asarray(sub.sum(axis=1)).ravel()
            if np.max(np.abs(leak)) > 1e-9:
                raise ValueError("mask is not closed under the policy")
        pi = stationary_distribution(sub)
        return float(pi @ self.c_post[post_idx])

    def base_stock_orders(self, S: int, r: int | None = None) -> np.ndarray:
        q = np.maximum(int(S) - self.ip, 0)
        if r is not None:
            q = np.minimum(q, int(r))
        return q

    def closed_set(self, S: int, r: int | None = None) -> np.ndarray:
        """States with IP <= S (and every outstanding order <= r): closed under (C)BS(S, r)."""
        mask = self.ip <= int(S)
        if r is not None and self.L >= 2:
            mask &= np.all(self.pipeline <= int(r), axis=1)
        return mask

    def evaluate_base_stock(self, S: int) -> float:
        if not 0 <= S <= self.bound:
            raise ValueError(f"S={S} outside [0, bound={self.bound}]")
        return self.evaluate_orders(self.base_stock_orders(S), self.closed_set(S))

    def evaluate_cbs(self, S: int, r: int) -> float:
        if not 0 <= S <= self.bound:
            raise ValueError(f"S={S} outside [0, bound={self.bound}]")
        if r < 0:
            raise ValueError("r must be >= 0")
        return self.evaluate_orders(self.base_stock_orders(S, r), self.closed_set(S, r))


# --------------------------------------------------------------------------------------
# optimal policy
# --------------------------------------------------------------------------------------


@dataclass
class DPResult:
    """Result of :func:`solve_lost_sales`.

    ``avg_cost`` is the midpoint of the final Odoni bounds ``[lower, upper]``;
    ``span = upper - lower`` (< tol).  ``order(on_hand, pipeline)`` gives the optimal
    order in a state (pipeline = outstanding orders oldest first, L-1 entries).
    """

    avg_cost: float
    span: float
    iterations: int
    state_count: int
    lead_time: int
    bound: int
    lower: float
    upper: float
    max_order_up_to: int
    morton_level: int
    seconds: float
    states: np.ndarray = field(repr=False)
    orders: np.ndarray = field(repr=False)
    relative_values: np.ndarray = field(repr=False)
    _codes: np.ndarray = field(repr=False)
    _radix: int = field(repr=False)

    def _index(self, on_hand: int, pipeline: Sequence[int]) -> int:
        pipeline = tuple(int(v) for v in pipeline)
        need = max(self.lead_time - 1, 0)
        if len(pipeline) != need:
            raise ValueError(f"lead time {self.lead_time}: pipeline must have {need} entries, got {len(pipeline)}")
        tup = (int(on_hand),) + pipeline
        if min(tup) < 0:
            raise ValueError("state entries must be non-negative")
        if sum(tup) > self.bound:
            return -1
        code = int(_codes(np.array([tup], dtype=np.int64), self._radix)[0])
        return int(np.searchsorted(self._codes, code))

    def order(self, on_hand: int, pipeline: Sequence[int] = ()) -> int:
        """Optimal order quantity in state (on_hand after arrival, outstanding orders).

        ``pipeline`` lists the outstanding orders oldest first (``L - 1`` entries;
        empty for ``L <= 1``).  For ``L = 0`` ``on_hand`` is the stock before the
        (immediately arriving) order.  States above the truncation (IP > bound) get
        0 when IP >= ``morton_level`` (Morton's bound: no optimal order raises the
        inventory position above it); otherwise a ``ValueError`` is raised.
        """
        i = self._index(on_hand, pipeline)
        if i < 0:
            ip = int(on_hand) + sum(int(v) for v in pipeline)
            if ip >= self.morton_level:
                return 0
            raise ValueError(f"state IP {ip} is outside the truncation (IP <= {self.bound})")
        return int(self.orders[i])

    def policy(self) -> Callable[[int, Sequence[int]], int]:
        return self.order

    def policy_table(self) -> dict[tuple[int, ...], int]:
        """{state tuple: optimal order} for every state in the truncation."""
        return {tuple(int(v) for v in s): int(q) for s, q in zip(self.states, self.orders)}


def _default_bound(pmf: np.ndarray, L: int, h: float, p: float) -> int:
    return max(morton_bound(pmf, L, h, p) + _MARGIN, 2)


def solve_lost_sales(
    pmf: np.ndarray,
    lead_time: int,
    h: float,
    p: float,
    *,
    tol: float = 1e-6,
    max_iter: int = 100000,
    bound: int | None = None,
    damping: float = 1.0,
) -> DPResult:
    """Optimal long-run average cost of the lost-sales system by relative value iteration.

    ``bound`` is the truncation on the inventory position (default: Morton's bound
    + 3, enlarged automatically while the optimal policy touches it).  Raises
    :class:`TruncationError` if a user-given ``bound`` binds.
    """
    pmf = _check_pmf(pmf)
    L = _check_params(lead_time, h, p)
    auto = bound is None
    B = _default_bound(pmf, L, h, p) if auto else int(bound)
    t0 = time.perf_counter()
    while True:
        model = LostSalesModel(pmf, L, h, p, B)
        out = model.relative_value_iteration(tol=tol, max_iter=max_iter, damping=damping)
        # largest inventory position any optimal (positive) order raises the system to;
        # the cap IP + q <= B binds iff this reaches B
        orders = out["orders"]
        post_ip = model.ip + orders
        max_post = int(post_ip[orders > 0].max()) if np.any(orders > 0) else 0
        if max_post < B:
            break
        msg = f"optimal order reaches the truncation bound B={B} (L={L}, h={h}, p={p})"
        if not auto:
            raise TruncationError(msg)
        log.info("%s; enlarging the truncation", msg)
        B += 5
    # the assertion the docs promise: the optimal order is strictly inside the truncation
    assert max_post < B
    seconds = time.perf_counter() - t0
    log.debug(
        "lost-sales DP L=%d h=%g p=%g: g=%.6f span=%.2e it=%d states=%d B=%d (%.2fs)",
        L, h, p, out["avg_cost"], out["span"], out["iterations"], model.n_states, B, seconds,
    )
    return DPResult(
        avg_cost=out["avg_cost"],
        span=out["span"],
        iterations=out["iterations"],
        state_count=model.n_states,
        lead_time=L,
        bound=B,
        lower=out["lower"],
        upper=out["upper"],
        max_order_up_to=max_post,
        morton_level=morton_bound(pmf, L, h, p),
        seconds=seconds,
        states=model.states,
        orders=out["orders"],
        relative_values=out["v"],
        _codes=model.codes,
        _radix=model.radix,
    )


# --------------------------------------------------------------------------------------
# base stock and capped base stock
# --------------------------------------------------------------------------------------


def _search_bound(pmf: np.ndarray, L: int, h: float, p: float) -> int:
    """Upper end of the S search range: Morton's bound + a margin of one std dev (>= 3)."""
    mean = float(np.dot(np.arange(pmf.size), pmf))
    var = float(np.dot(np.arange(pmf.size) ** 2, pmf)) - mean**2
    sd = math.sqrt(max(var, 0.0) * (L + 1))
    return morton_bound(pmf, L, h, p) + max(_MARGIN, int(math.ceil(sd)))


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
    pmf = _check_pmf(pmf)
    L = _check_params(lead_time, h, p)
    auto = S_max is None
    hi = _search_bound(pmf, L, h, p) if auto else int(S_max)
    while True:
        model = LostSalesModel(pmf, L, h, p, max(hi, 1))
        costs = [model.evaluate_base_stock(S) for S in range(hi + 1)]
        S_best = int(np.argmin(costs))
        if S_best < hi:
            return float(costs[S_best]), S_best
        if not auto:
            raise TruncationError(f"best base-stock level is at the end of the search range S_max={hi}")
        hi += 5


def best_cbs(
    pmf, lead_time: int, h: float, p: float, *, S_max: int | None = None
) -> tuple[float, int, int]:
    """Best capped base-stock policy by exhaustive search over S = 0..S_max, r = 1..S.

    ``r = S`` is plain base stock (the cap never binds since IP >= 0).  Ties are
    broken towards the smaller S, then the smaller r.  Returns ``(cost, S, r)``.
    """
    pmf = _check_pmf(pmf)
    L = _check_params(lead_time, h, p)
    auto = S_max is None
    hi = _search_bound(pmf, L, h, p) if auto else int(S_max)
    while True:
        model = LostSalesModel(pmf, L, h, p, max(hi, 1))
        best = (math.inf, -1, -1)
        for S in range(1, hi + 1):
            for r in range(1, S + 1):
                c = model.evaluate_cbs(S, r)
                if c < best[0] - 1e-12:
                    best = (c, S, r)
        if best[1] < hi:
            return float(best[0]), int(best[1]), int(best[2])
        if not auto:
            raise TruncationError(f"best CBS level is at the end of the search range S_max={hi}")
        hi += 5
