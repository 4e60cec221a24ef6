"""The a-priori bound B on daily gains used by the Hoeffding radius."""
from __future__ import annotations

from certify._checks import check_real


def gain_bound(h: float, p: float, max_inventory: float, max_daily_demand: float) -> float:
    """Return B = h * max_inventory + p * max_daily_demand.

    Why it bounds a daily gain: a day's cost is h * on_hand_end + p * lost with both terms
    non-negative, on_hand_end <= max_inventory and lost <= demand <= max_daily_demand, so
    every daily cost lies in [0, B] and the difference of two policies' costs on the same
    day lies in [-B, B].

    Contract: ``max_inventory`` must cap end-of-day on-hand for every policy compared
    (e.g. an order-up-to cap the simulator enforces) and ``max_daily_demand`` must cap
    demand on the replay window. Both must be fixed from the cost parameters and the
    replay window's bounds *before* any gain is computed; choosing B after looking at the
    gains voids the Hoeffding guarantee. All inputs must be finite and non-negative.
    """
    h = check_real("h", h, 0.0)
    p = check_real("p", p, 0.0)
    max_inventory = check_real("max_inventory", max_inventory, 0.0)
    max_daily_demand = check_real("max_daily_demand", max_daily_demand, 0.0)
    return h * max_inventory + p * max_daily_demand
