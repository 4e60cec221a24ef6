"""The optimal lost-sales policy by relative value iteration, with its truncation checked."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from inventory.dp.model import LostSalesModel, _codes
from inventory.dp.pmf import MARGIN, TruncationError, _check_params, _check_pmf, morton_bound

log = logging.getLogger(__name__)


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
    return max(morton_bound(pmf, L, h, p) + MARGIN, 2)


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
