"""The OR model (orpr.model): exact multiple-choice knapsack against brute force, infeasibility, merging."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from orpr.model import ORModelInfeasible, solve_or_model
from orpr.simulator import ORPRTable
from orpr_helpers import table


def _brute(tables: list[ORPRTable], budget: float) -> float | None:
    best = None
    for combo in itertools.product(*(range(len(t)) for t in tables)):
        loss = sum(t.loss[c] for t, c in zip(tables, combo))
        if loss <= budget:
            stock = sum(t.stock[c] for t, c in zip(tables, combo))
            best = stock if best is None else min(best, stock)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_or_model_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    if seed % 2:   # unstructured coefficients
        tables = [table(list(rng.uniform(1, 100, 4)), list(rng.uniform(0, 50, 4))) for _ in range(3)]
    else:          # the Algorithm-2 shape: stock rises and loss falls with v
        tables = [table(list(np.cumsum(rng.uniform(1, 30, 4))), list(np.cumsum(rng.uniform(1, 20, 4))[::-1]))
                  for _ in range(3)]
    sale = 200.0
    floor = sum(t.loss.min() for t in tables)
    for alpha in np.linspace(0.0, (1.0 - floor / sale) * (1 - 1e-12), 9):
        choices = solve_or_model(tables, sale, float(alpha))
        budget = sale * (1 - alpha)
        assert sum(t.loss[c] for t, c in zip(tables, choices)) <= budget
        assert sum(t.stock[c] for t, c in zip(tables, choices)) == pytest.approx(_brute(tables, budget), rel=1e-12)


def test_or_model_single_sku_and_infeasible() -> None:
    tab = table([5.0, 9.0, 20.0, 40.0], [30.0, 12.0, 4.0, 0.0])
    assert solve_or_model([tab], 100.0, 0.80) == [1]      # budget 20: losses 12, 4, 0 allowed
    assert solve_or_model([tab], 100.0, 0.95) == [2]      # budget 5: losses 4, 0 allowed
    assert solve_or_model([tab], 100.0, 1.0) == [3]       # budget 0
    assert solve_or_model([tab], 100.0, 0.0) == [0]
    with pytest.raises(ORModelInfeasible, match="least achievable loss"):
        solve_or_model([table([1.0, 2.0], [10.0, 8.0])] * 2, 10.0, 0.5)
    with pytest.raises(ValueError):
        solve_or_model([tab], 100.0, 1.5)

