"""Stress scenarios build the altered windows they promise (no policy needed)."""
from __future__ import annotations

import json
import shutil

import numpy as np

from audit.stress import CensoredDemand, DemandScale, LeadTimePlusOne, LevelShift, PromotionFree, Window
from inventory.workspace import load_workspace, seal


def test_scaled_shifted_and_longer_lead_time_windows(workspace_dir):
    ws = load_workspace(workspace_dir)
    d = ws.replay.demand
    up = DemandScale(1.3).build(ws)
    assert isinstance(up, Window) and np.array_equal(up.seq.demand, np.rint(d * 1.3))
    shift = LevelShift().build(ws)
    half = len(d) // 2
    assert np.array_equal(shift.seq.demand[:half], d[:half])
    assert np.array_equal(shift.seq.demand[half:], np.rint(d[half:] + 0.5 * d.mean()))
    lt = LeadTimePlusOne().build(ws)
    assert lt.model.lead_time == ws.spec.model.lead_time + 1 and np.array_equal(lt.seq.demand, d)


def test_promotion_free_history_removes_flags_and_uplift(workspace_dir):
    ws = load_workspace(workspace_dir)
    win = PromotionFree().build(ws)
    promo = ws.replay.features["promo"] == 1
    assert promo.any() and not win.seq.features["promo"].any()
    assert np.array_equal(win.seq.demand[~promo], ws.replay.demand[~promo])
    calm = ws.replay.demand[~promo]
    assert win.seq.demand[promo].max() <= calm.max() and win.seq.demand[promo].mean() < ws.replay.demand[promo].mean()


def test_censored_demand_uses_observed_sales_where_the_workspace_has_them(workspace_dir, tmp_path):
    ws_dir = tmp_path / "ws"
    shutil.copytree(workspace_dir, ws_dir)
    ws = load_workspace(ws_dir)
    assert isinstance(CensoredDemand().build(ws), str)  # no audit data: skipped with a reason
    sales = np.minimum(ws.replay.demand, 4.0)  # stockouts capped what was sold
    audit = {"dates": ws.replay.dates, "observed_sales": [float(x) for x in sales]}
    (ws_dir / "hidden" / "audit.json").write_text(json.dumps(audit))
    seal(ws_dir)
    win = CensoredDemand().build(load_workspace(ws_dir))
    assert isinstance(win, Window) and np.array_equal(win.seq.demand, sales)
