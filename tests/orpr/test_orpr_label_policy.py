"""The single-workspace OR label (orpr.label_policy): calibrated to the incumbent's turnover, a
valid policy file that tuning leaves at the label, and scored by the trusted evaluator."""
from __future__ import annotations

import numpy as np
import pytest

from inventory.host import InProcessHost
from evaluation.trusted import TrustedEvaluator
from inventory.library import policy_source
from inventory.policy import compile_policy
from inventory.tuning import TuningConfig, tune_policy
from inventory.workspace import load_workspace
from orpr.label_policy import LabelConfig, label_for_problem, label_policy_source, policy_turnover, workspace_label
from orpr.simulator import OrderRule, simulate_inventory_days


@pytest.fixture(scope="module")
def ws(workspace_dir):
    return load_workspace(workspace_dir)


def test_label_matches_the_incumbent_turnover(ws) -> None:
    label = workspace_label(ws)
    best = min(ws.baselines.values(), key=lambda r: (r.replay_cost, r.name))
    problem = ws.replay_problem()
    target = policy_turnover(problem, policy_source(best.name), best.params, best.name)
    assert label.target_turnover == target and best.name in label.target_source
    cfg = LabelConfig()
    table = simulate_inventory_days(
        problem.seq.demand, cfg.grid(1), review_period=1, vlt=1, mean_window=28, holding=1.0, penalty=9.0,
        init_on_hand=problem.init.on_hand, init_pipeline=problem.init.pipeline, rule=OrderRule.TARGET)
    # among the stock/loss-efficient candidates, the label is the one closest to the target turnover
    eff = [j for j in range(len(table)) if not any(
        (table.stock[k] <= table.stock[j] and table.loss[k] < table.loss[j]) or
        (table.stock[k] < table.stock[j] and table.loss[k] <= table.loss[j]) for k in range(len(table)))]
    gaps = {j: abs(table.turnover_days[j] - target) for j in eff}
    j = int(np.flatnonzero(table.v_grid == label.v)[0])
    assert gaps[j] == pytest.approx(min(gaps.values()))
    assert label.replay_cost == pytest.approx((table.stock[j] + table.loss[j]) / table.horizon, rel=1e-12)


def test_higher_target_turnover_gives_more_inventory_days(ws) -> None:
    problem = ws.replay_problem()
    vs = [label_for_problem(problem, t).v for t in (0.5, 1.5, 3.0, 6.0)]
    assert vs == sorted(vs) and vs[0] < vs[-1]


def test_policy_file_pins_the_label_and_tunes_to_it(ws) -> None:
    label = workspace_label(ws, LabelConfig(review_period=2, mean_window=14))
    src = label_policy_source(label)
    validator = pytest.importorskip("sandbox.validator")
    check = validator.validate_policy(src)
    assert check.ok, check.reasons
    prog = compile_policy(src, "orpr_label")
    problem = ws.replay_problem()
    space = prog.space(problem.info)
    assert {s.name: (s.low, s.high) for s in space} == {k: (v, v) for k, v in label.params.items()}
    res = tune_policy(prog, problem, TuningConfig(n_trials=6, batch_size=3, n_startup_trials=2))
    assert res.params == label.params
    assert res.value == pytest.approx(label.replay_cost, rel=1e-12)
    assert '"alpha_loss"' in src and "OR label" in src


def test_trusted_evaluator_scores_the_label_like_a_baseline(ws) -> None:
    label = workspace_label(ws)
    src = label_policy_source(label)
    with InProcessHost(ws.replay_problem()) as host:
        ev = TrustedEvaluator(ws, host, TuningConfig(n_trials=4, batch_size=2, n_startup_trials=2))
        rec = ev.evaluate(src, "orpr_label", "baseline-orpr_label", params=label.params)
        assert rec.ok, rec.error
        assert rec.replay_cost == pytest.approx(label.replay_cost, rel=1e-12)
        tuned = ev.evaluate(src, "orpr_label", "tuned-orpr_label")
        assert tuned.ok and tuned.params == label.params
        ev.close()


def test_label_options_and_refusals(ws, monkeypatch) -> None:
    assert workspace_label(ws, target_turnover=2.0).target_source == "given"
    named = workspace_label(ws, reference="base_stock")
    assert "base_stock" in named.target_source
    with pytest.raises(ValueError, match="not a baseline"):
        workspace_label(ws, reference="nope")
    monkeypatch.setattr(type(ws), "baseline_source", lambda self, name: "def order(obs, params):\n    return 0\n")
    with pytest.raises(ValueError, match="not the library baseline"):
        workspace_label(ws, reference="base_stock")
    with pytest.raises(ValueError):
        LabelConfig(review_period=0)
    assert LabelConfig(rule="quantity").rule is OrderRule.QUANTITY
    np.testing.assert_array_equal(LabelConfig(v_step=0.5, v_max=2.0).grid(3), [0.5, 1.0, 1.5, 2.0])
