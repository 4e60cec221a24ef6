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

Layout: :mod:`.pmf` (demand laws, Morton's bound), :mod:`.model` (the truncated MDP),
:mod:`.solve` (relative value iteration), :mod:`.policies` (base stock and CBS, exact).
numpy / scipy only.
"""

from inventory.dp.model import LostSalesModel
from inventory.dp.pmf import TruncationError, _expected_overage_underage, geometric_pmf, morton_bound, poisson_pmf
from inventory.dp.policies import best_base_stock, best_cbs, evaluate_base_stock, evaluate_cbs
from inventory.dp.solve import DPResult, _default_bound, solve_lost_sales

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
    "_default_bound",
    "_expected_overage_underage",
]
