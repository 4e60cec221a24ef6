"""The truncated lost-sales MDP on the compact state space ``{IP <= bound}`` (see the package
docstring for the state, the truncation and why it does not bind)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from inventory.dp.pmf import _check_params, _check_pmf, _expected_overage_underage
from inventory.markov import stationary_distribution


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
