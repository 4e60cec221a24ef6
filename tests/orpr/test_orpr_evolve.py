"""ORPR inside the loop: ``[replay] backend = "periodic"`` and ``[baselines] orpr = true`` in real
evolve runs (built-in proposer, --sandbox none), and their CLI flags."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cli.evolve_cmd import build_parser, main
from evolve.builtin import BuiltinProposer
from evolve.config import ConfigError, EvolveConfig, load_config, with_overrides
from evolve.run import execute
from inventory.policy import compile_policy
from inventory.workspace import load_workspace
from orpr.backend import PeriodicBackend
from orpr.label_policy import workspace_label


def _cfg(**kw):
    return with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=2, tuning_n_trials=12,
                          sandbox="none", **kw)


def _factory(cfg, ws, rd):
    return BuiltinProposer(per_round=cfg.search.candidates_per_round)


def _records(run_dir):
    return {r["candidate_id"]: r for r in map(json.loads, (run_dir / "candidates.jsonl").read_text().splitlines())}


@pytest.fixture(scope="module")
def daily_run(workspace_dir, tmp_path_factory):
    return execute(workspace_dir, _cfg(), _factory, run_dir=tmp_path_factory.mktemp("d") / "run", progress=False)


def test_periodic_r1_run_is_the_daily_run(workspace_dir, tmp_path, daily_run) -> None:
    per = execute(workspace_dir, _cfg(replay_backend="periodic", replay_review_period=1), _factory,
                  run_dir=tmp_path / "run", progress=False)
    a, b = _records(daily_run.run_dir), _records(per.run_dir)
    assert set(a) == set(b)
    for cid in a:
        assert a[cid]["replay_costs"] == b[cid]["replay_costs"], cid
        assert a[cid]["params"] == b[cid]["params"], cid
    assert per.deployed_id == daily_run.deployed_id


def test_periodic_run_replays_and_tunes_under_review_days(workspace_dir, tmp_path) -> None:
    out = execute(workspace_dir, _cfg(replay_backend="periodic", replay_review_period=3), _factory,
                  run_dir=tmp_path / "run", progress=False)
    ws = load_workspace(workspace_dir)
    recs = _records(out.run_dir)
    cfg = json.loads(json.dumps(EvolveConfig.from_dict(
        __import__("tomllib").loads((out.run_dir / "config.toml").read_text())).to_dict()))
    assert cfg["replay"] == {"backend": "periodic", "review_period": 3}
    backend, problem = PeriodicBackend(3), ws.replay_problem()
    for cid, rec in recs.items():
        if rec["status"] != "ok":
            continue
        src = (out.run_dir / "candidates" / f"{cid}.py").read_text()
        prog = compile_policy(src, cid)
        res = backend.simulate(prog, problem.seq, problem.specs, problem.model,
                               {k: np.array([v]) for k, v in rec["params"].items()}, init=problem.init)
        np.testing.assert_allclose(rec["replay_costs"], res.costs[0], rtol=0, atol=1e-9)
        assert np.all(res.orders[0][np.arange(len(problem.seq)) % 3 != 0] == 0)
    # baselines were re-tuned for periodic review, not taken from tuned.json
    assert recs["baseline-base_stock"]["params"] != ws.baselines["base_stock"].params
    assert recs["baseline-base_stock"]["tuned_cost"] is not None


def test_orpr_baseline_joins_the_initial_pool(workspace_dir, tmp_path, daily_run) -> None:
    out = execute(workspace_dir, _cfg(baselines_orpr=True), _factory, run_dir=tmp_path / "run", progress=False)
    recs = _records(out.run_dir)
    assert "baseline-orpr_label" in recs and recs["baseline-orpr_label"]["status"] == "ok"
    label = workspace_label(load_workspace(workspace_dir))
    assert recs["baseline-orpr_label"]["params"] == label.params
    assert recs["baseline-orpr_label"]["replay_cost"] == pytest.approx(label.replay_cost, rel=1e-12)
    # the five baselines are evaluated exactly as without the option
    base = _records(daily_run.run_dir)
    for name in ("base_stock", "capped_base_stock", "constant_order", "newsvendor", "s_S"):
        assert recs[f"baseline-{name}"]["replay_costs"] == base[f"baseline-{name}"]["replay_costs"]
    src = (out.run_dir / "candidates" / "baseline-orpr_label.py").read_text()
    assert "OR label" in src and "PARAMS" in src


def test_config_file_and_cli_flags(tmp_path, capsys) -> None:
    path = tmp_path / "evolve.toml"
    path.write_text('[replay]\nbackend = "periodic"\nreview_period = 7\n[baselines]\norpr = true\n')
    cfg = load_config(path)
    assert cfg.replay.backend_config.review_period == 7 and cfg.baselines.orpr
    assert EvolveConfig.from_dict(cfg.to_dict()) == cfg
    path.write_text('[replay]\nreview_period = 7\n')
    with pytest.raises(ConfigError, match=r"evolve.toml: \[replay\]: review_period applies to the periodic"):
        load_config(path)
    path.write_text('[replay]\nbackend = "hourly"\n')
    with pytest.raises(ConfigError, match="must be one of"):
        load_config(path)
    args = build_parser().parse_args(["--workspace", "x", "--review-period", "7", "--orpr-baseline"])
    assert args.review_period == 7 and args.orpr_baseline is True
    with pytest.raises(SystemExit) as exc:
        main(["--workspace", "x", "--replay", "daily", "--review-period", "7"])
    assert exc.value.code == 2 and "--review-period applies to --replay periodic" in capsys.readouterr().err
