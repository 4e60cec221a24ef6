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



def test_efficient_candidates() -> None:
    from orpr.model import efficient
    tab = table([5.0, 5.0, 9.0, 7.0, 20.0, 20.0], [30.0, 31.0, 12.0, 12.0, 4.0, 4.0])
    # index 1 (same stock, more loss), 2 (more stock, same loss as 3) and 5 (duplicate of 4) are dominated
    np.testing.assert_array_equal(efficient(tab), [0, 3, 4])


def test_merged_category_chooses_one_v_for_all_its_skus() -> None:
    from orpr.model import merge_tables, portfolio_turnover
    from orpr.simulator import simulate_inventory_days
    rng = np.random.default_rng(2)
    grid = np.arange(1.0, 9.0)
    skus = [simulate_inventory_days(rng.poisson(m, 60).astype(float), grid, review_period=2, vlt=1, mean_window=7,
                                    holding=h, penalty=9.0, init_on_hand=5.0, rule="target")
            for m, h in ((3.0, 1.0), (8.0, 2.0))]
    cat = merge_tables(skus)
    np.testing.assert_allclose(cat.stock, skus[0].stock + skus[1].stock)
    np.testing.assert_allclose(cat.loss, skus[0].loss + skus[1].loss)
    assert cat.sales_value == pytest.approx(skus[0].sales_value + skus[1].sales_value)
    for j in range(len(grid)):
        assert cat.turnover_days[j] == pytest.approx(portfolio_turnover(skus, [j, j]))
    sale = cat.sales_value
    (c,) = solve_or_model([cat], sale, 0.9)
    assert cat.loss[c] <= 0.1 * sale
    with pytest.raises(ValueError, match="common horizon"):
        merge_tables([skus[0], table([1.0], [1.0])])
