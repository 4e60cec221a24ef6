"""Shared fixtures of the ORPR tests: library sources, small replay problems, hand-made tables."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState
from orpr.simulator import ORPRTable

LIBRARY = Path(__file__).resolve().parents[2] / "inventory" / "library"
NEW_POLICIES = ("orpr_inventory_days", "pto_normal", "pto_gamma", "bm_quantile")

# Hand-computed 10-day example: R = 2, VLT = 1, window = 3, h = 1, p = 5, on-hand 6.
# Review days 0, 2, 4, 6, 8 with recent means 0, 3, 11/3, 8/3, 3; orders rint(v * mean)
# arrive the next day.
HAND_DEMAND = np.array([4, 2, 6, 3, 5, 0, 7, 2, 4, 3], dtype=float)
HAND_ENDS = {
    2.0: [2, 0, 0, 3, 0, 7, 0, 3, 0, 3],      # orders 0, 6, 7, 5, 6
    3.0: [2, 0, 0, 6, 1, 12, 5, 11, 7, 13],   # orders 0, 9, 11, 8, 9
}
HAND_LOST = {2.0: [0, 0, 6, 0, 2, 0, 0, 0, 1, 0], 3.0: [0, 0, 6, 0, 0, 0, 0, 0, 0, 0]}


def source(name: str) -> str:
    return (LIBRARY / f"{name}.py").read_text(encoding="utf-8")


def problem(demand: np.ndarray, L: int, *, init: InitialState = InitialState(), integer: bool = True,
            h: float = 1.0, p: float = 9.0) -> ReplayProblem:
    seq = DemandSequence([f"2024-01-{i:03d}" for i in range(len(demand))], demand)
    return ReplayProblem(seq, (), CostModel(h, p, L, integer_orders=integer), init)


def table(stock: list[float], loss: list[float]) -> ORPRTable:
    n = len(stock)
    return ORPRTable(
        v_grid=np.arange(1.0, n + 1), stock=np.array(stock, float), loss=np.array(loss, float),
        avg_on_hand=np.array(stock, float) / 10.0, turnover_days=np.array(stock, float) / 10.0,
        instock_rate=np.ones(n), mean_demand=1.0, horizon=10, holding=1.0, penalty=1.0,
    )
