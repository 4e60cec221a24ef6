"""Algorithm 2 (orpr.simulator): hand-computed replays, both order rules, and the fast replay
kernel's bit-for-bit agreement with the generic simulator on the library policy."""
from __future__ import annotations

import numpy as np
import pytest

from inventory.policy import compile_policy
from inventory.simulator import InitialState, simulate
from orpr.simulator import OrderRule, orpr_replay, orpr_replay_params, simulate_inventory_days
from orpr_helpers import HAND_DEMAND, HAND_ENDS, HAND_LOST, problem, source


def test_algorithm2_hand_computed_ten_days() -> None:
    tab = simulate_inventory_days(
        HAND_DEMAND, np.array([2.0, 3.0]), review_period=2, vlt=1, mean_window=3,
        holding=1.0, penalty=5.0, init_on_hand=6.0,
    )
    np.testing.assert_array_equal(tab.stock, [18.0, 57.0])
    np.testing.assert_array_equal(tab.loss, [45.0, 30.0])
    np.testing.assert_allclose(tab.avg_on_hand, [1.8, 5.7])
    np.testing.assert_allclose(tab.turnover_days, [1.8 / 3.6, 5.7 / 3.6])
    np.testing.assert_allclose(tab.instock_rate, [0.7, 0.9])
    assert tab.mean_demand == pytest.approx(3.6) and tab.horizon == 10
    assert tab.sales_value == pytest.approx(5.0 * 36)

    prob = problem(HAND_DEMAND, 1, init=InitialState(6.0), h=1.0, p=5.0)
    costs = orpr_replay(prob, np.array([2.0, 3.0]), review_period=2, mean_window=3)
    for row, v in enumerate((2.0, 3.0)):
        expect = np.array(HAND_ENDS[v], float) + 5.0 * np.array(HAND_LOST[v], float)
        np.testing.assert_array_equal(costs[row], expect)


def test_algorithm2_lead_time_zero_and_continuous_orders() -> None:
    d = np.array([2.0, 3.0, 1.0, 4.0])
    tab = simulate_inventory_days(d, [1.5], review_period=1, vlt=0, mean_window=2,
                                  holding=2.0, penalty=3.0, init_on_hand=2.0, integer_orders=False)
    # orders 0, 3, 3.75, 3 arrive at once; on-hand ends 0, 0, 2.75, 1.75; lost 0, 0, 0, 0
    assert tab.stock[0] == pytest.approx(2.0 * (2.75 + 1.75))
    assert tab.loss[0] == 0.0 and tab.instock_rate[0] == 1.0


@pytest.mark.parametrize("bad", [
    dict(holding=0.0), dict(penalty=-1.0), dict(vlt=-1), dict(init_on_hand=-1.0), dict(review_period=0),
])
def test_algorithm2_rejects_bad_inputs(bad: dict) -> None:
    kw = dict(review_period=1, vlt=1, mean_window=3, holding=1.0, penalty=1.0, init_on_hand=0.0)
    kw.update(bad)
    with pytest.raises(ValueError):
        simulate_inventory_days(HAND_DEMAND, [1.0], **kw)


@pytest.mark.parametrize("L", [0, 1, 3])
@pytest.mark.parametrize("kind", ["poisson", "fractional", "continuous_orders"])
@pytest.mark.parametrize("rules", ["quantity", "target", "mixed"])
def test_fast_replay_is_bit_identical_to_simulate(L: int, kind: str, rules: str) -> None:
    rng = np.random.default_rng(100 + L)
    T, n = 80, 40
    demand = rng.poisson(6.0, T).astype(float)
    if kind == "fractional":
        demand = rng.gamma(2.0, 3.0, T)
    init = InitialState(on_hand=9.0 if kind != "fractional" else 9.25, pipeline=(4.0, 1.0, 3.0)[:L])
    prob = problem(demand, L, init=init, integer=kind != "continuous_orders")
    params = {"v": rng.uniform(0, 14, n), "R": rng.integers(1, 8, n).astype(float),
              "window": rng.integers(1, 29, n).astype(float),
              "target": {"quantity": np.zeros(n), "target": np.ones(n), "mixed": rng.integers(0, 2, n).astype(float)}[rules]}
    if rules != "quantity":
        params["v"] = params["v"] * 2.0   # targets must cover R + L days to be interesting
    prog = compile_policy(source("orpr_inventory_days"), "orpr")
    for score_from in (0, 17):
        sim = simulate(prog, prob.seq, prob.specs, prob.model, params, init=prob.init, score_from=score_from)
        fast = orpr_replay(prob, params["v"], review_period=params["R"], mean_window=params["window"],
                           target=params["target"], score_from=score_from)
        assert fast.shape == sim.costs.shape
        assert np.array_equal(fast, sim.costs)
    np.testing.assert_array_equal(orpr_replay_params(prob, params), prob.mean_costs(prog, params))


def test_backend_agrees_with_algorithm2_table() -> None:
    rng = np.random.default_rng(9)
    d = rng.poisson(4.0, 50).astype(float)
    grid = np.linspace(0.5, 6.0, 12)
    tab = simulate_inventory_days(d, grid, review_period=3, vlt=2, mean_window=10, holding=1.5,
                                  penalty=7.0, init_on_hand=8.0)
    prob = problem(d, 2, init=InitialState(8.0), h=1.5, p=7.0)
    costs = orpr_replay(prob, grid, review_period=3, mean_window=10)
    np.testing.assert_allclose(costs.sum(axis=1), tab.stock + tab.loss, rtol=1e-12)



def test_target_rule_hand_computed_five_days() -> None:
    # R = 1, L = 1, window 2, v = 2, on-hand 6: order up to 2 x (mean of the last two days) - IP
    from orpr.simulator import inventory_days_trace
    tr = inventory_days_trace(np.array([4.0, 2.0, 6.0, 3.0, 5.0]), np.array([2.0]), review_period=1, mean_window=2,
                              target=1.0, lead_time=1, init_on_hand=6.0, h=1.0, p=5.0)
    np.testing.assert_array_equal(tr.orders[0], [0, 6, 0, 8, 1])
    np.testing.assert_array_equal(tr.on_hand_end[0], [2, 0, 0, 0, 3])
    np.testing.assert_array_equal(tr.lost[0], [0, 0, 0, 3, 0])
    np.testing.assert_array_equal(tr.costs[0], [2, 0, 0, 15, 3])


def test_target_table_more_cover_means_more_stock_and_less_loss() -> None:
    rng = np.random.default_rng(4)
    d = rng.poisson(5.0, 120).astype(float)
    tab = simulate_inventory_days(d, np.arange(1.0, 16.0), review_period=2, vlt=3, mean_window=14, holding=1.0,
                                  penalty=9.0, init_on_hand=10.0, rule=OrderRule.TARGET)
    assert np.all(np.diff(tab.stock) >= 0) and np.all(np.diff(tab.loss) <= 0)
    assert tab.loss[0] > 10 * tab.loss[-1] and tab.instock_rate[-1] > tab.instock_rate[0]
    prob = problem(d, 3, init=InitialState(10.0))
    costs = orpr_replay(prob, tab.v_grid, review_period=2, mean_window=14, target=1.0)
    np.testing.assert_allclose(costs.sum(axis=1), tab.stock + tab.loss, rtol=1e-12)
