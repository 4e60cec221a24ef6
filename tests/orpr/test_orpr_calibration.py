"""alpha_loss calibration (orpr.calibration): planted turnovers are recovered, monotonicity, clamping."""
from __future__ import annotations

import numpy as np
import pytest

from orpr.calibration import calibrate_alpha, orpr_labels
from orpr.model import ORModelInfeasible, portfolio_turnover, solve_or_model
from orpr.simulator import ORPRTable, simulate_inventory_days


def _calibration_tables() -> list[ORPRTable]:
    rng = np.random.default_rng(7)
    tables = []
    for i in range(5):
        mean = 3.0 + 2.0 * i
        d = rng.negative_binomial(3, 3 / (3 + mean), size=120).astype(float)
        tables.append(simulate_inventory_days(
            d, np.linspace(2.0, 5.0, 13), review_period=3, vlt=2, mean_window=14,
            holding=1.0 + 0.5 * i, penalty=6.0 + i, init_on_hand=2 * mean,
        ))
    return tables


def test_calibration_recovers_planted_turnover() -> None:
    tables = _calibration_tables()
    sale = sum(t.sales_value for t in tables)
    planted_alpha = 0.97
    planted = solve_or_model(tables, sale, planted_alpha)
    target = portfolio_turnover(tables, planted)
    alpha, choices = calibrate_alpha(tables, sale, target, tol=1e-9)
    assert portfolio_turnover(tables, choices) == pytest.approx(target, abs=1e-9)
    assert sum(t.stock[c] for t, c in zip(tables, choices)) == pytest.approx(
        sum(t.stock[c] for t, c in zip(tables, planted)), rel=1e-12)
    assert solve_or_model(tables, sale, alpha) == choices
    # the recovered alpha lies in the interval of alphas that give the planted decisions
    lo = solve_or_model(tables, sale, max(0.0, alpha - 1e-6))
    assert portfolio_turnover(tables, lo) <= target + 1e-9


def test_calibration_turnover_is_monotone_and_clamps() -> None:
    tables = _calibration_tables()
    sale = sum(t.sales_value for t in tables)
    alpha_max = 1.0 - sum(t.loss.min() for t in tables) / sale
    grid = np.linspace(0, alpha_max * (1 - 1e-12), 12)
    turns = [portfolio_turnover(tables, solve_or_model(tables, sale, a)) for a in grid]
    assert all(b >= a - 1e-12 for a, b in zip(turns, turns[1:]))
    assert turns[-1] > turns[0]
    alpha_hi, ch_hi = calibrate_alpha(tables, sale, 1e6)
    alpha_lo, ch_lo = calibrate_alpha(tables, sale, 0.0)
    assert alpha_lo == 0.0 and alpha_hi == pytest.approx(alpha_max, abs=1e-12)
    with pytest.raises(ORModelInfeasible):
        solve_or_model(tables, sale, min(1.0, alpha_max + 1e-6))
    assert portfolio_turnover(tables, ch_hi) >= turns[-1] - 1e-12


def test_orpr_labels_end_to_end() -> None:
    rng = np.random.default_rng(3)
    demand = rng.poisson(6.0, size=(4, 90)).astype(float)
    lab_a = orpr_labels(demand, np.linspace(1, 4, 7), review_period=2, vlt=1, mean_window=7,
                        holding=1.0, penalty=[4.0, 5.0, 6.0, 7.0], init_on_hand=10.0, alpha_loss=0.9)
    assert len(lab_a.v) == 4 and lab_a.loss <= lab_a.total_sales * 0.1 + 1e-9
    lab_t = orpr_labels(demand, np.linspace(1, 4, 7), review_period=2, vlt=1, mean_window=7,
                        holding=1.0, penalty=[4.0, 5.0, 6.0, 7.0], init_on_hand=10.0,
                        observed_turnover=lab_a.turnover_days, tol=1e-9)
    assert lab_t.turnover_days == pytest.approx(lab_a.turnover_days, abs=1e-9)
    assert 0.0 <= lab_t.instock_rate <= 1.0
    with pytest.raises(ValueError):
        orpr_labels(demand, [1.0], review_period=1, vlt=0, mean_window=3, holding=1.0, penalty=1.0)

