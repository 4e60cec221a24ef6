"""Formal simulation mode inside evolve: gains from independent simulated continuations.

Checked: every member runs on the same paths (common random numbers), a row equals a hand
replay of the member on the window plus that path, the sampler never sees the forward
window, certificates say what they cover, a workspace without a model is refused with the
file named, and serial, parallel and resumed runs give the same numbers.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from certify import GateConfig
from evolve.builtin import BuiltinProposer
from evolve.config import EvolveConfig, with_overrides
from evolve.replications import LOG_FILE, path_plan
from evolve.run import execute
from inventory.demand_model import parse_demand_model
from inventory.policy import compile_policy
from inventory.sequence import DemandSequence
from inventory.simulator import InitialState, simulate
from inventory.workspace import ProblemSpec, WorkspaceSpec, load_workspace, seal
from inventory.workspace_write import write_workspace

REPS, DAYS = 6, 15


@pytest.fixture(scope="module")
def poisson_ws(tmp_path_factory):
    rng = np.random.default_rng(3)
    d = rng.poisson(5.0, 80).astype(float)
    seq = DemandSequence([str(np.datetime64("2024-01-01") + i) for i in range(80)], d, {})
    spec = WorkspaceSpec(ProblemSpec("pois", "test", "item", 1.0, 9.0, 1, 60, 20), InitialState(8.0, (5.0,)), (),
                         parse_demand_model({"law": "poisson", "mean": 5.0}))
    return write_workspace(tmp_path_factory.mktemp("fm") / "pois", spec, seq.slice(0, 60), seq.slice(60, 80)).root


def _cfg(workers=1, **extra):
    return with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=2, search_workers=workers,
                          tuning_n_trials=8, tuning_batch_size=8, sandbox="none", certify_gains="replications",
                          certify_replications=REPS, certify_replication_days=DAYS, **extra)


def _factory(cfg, ws, rd):
    return BuiltinProposer(per_round=cfg.search.candidates_per_round)


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def serial_run(poisson_ws, tmp_path_factory):
    return execute(poisson_ws, _cfg(), _factory, run_dir=tmp_path_factory.mktemp("runs") / "serial", progress=False)


def test_paths_are_fixed_by_seed_and_index_and_never_the_forward_window(poisson_ws):
    ws = load_workspace(poisson_ws)
    plan = path_plan(ws, GateConfig(method="blockwise_maxt", gains="replications", replications=REPS, replication_days=DAYS), 0)
    paths = plan.paths(ws)
    assert len(paths) == REPS and all(len(p) == DAYS for p in paths)
    more = path_plan(ws, GateConfig(method="blockwise_maxt", gains="replications", replications=REPS + 3, replication_days=DAYS), 0).paths(ws)
    assert all(np.array_equal(a.demand, b.demand) for a, b in zip(paths, more))   # path i depends on i only
    assert not np.array_equal(paths[0].demand, paths[1].demand)
    forward = ws.load_forward().demand[:DAYS]
    assert not any(np.array_equal(p.demand, forward) for p in paths)
    assert paths[0].dates[0] == str(np.datetime64(ws.replay.dates[-1]) + 1)


def test_rows_are_hand_replays_on_common_paths_and_certificates_say_so(poisson_ws, serial_run):
    ws = load_workspace(poisson_ws)
    rd = serial_run.run_dir
    rows = {r["candidate_id"]: r for r in _lines(rd / LOG_FILE)}
    cands = {r["candidate_id"]: r for r in _lines(rd / "candidates.jsonl")}
    assert set(rows) == {c for c, r in cands.items() if r["status"] == "ok"}
    assert all(r["error"] is None and len(r["costs"]) == REPS for r in rows.values())
    paths = path_plan(ws, serial_run_gate(), 0).paths(ws)
    for cid in ("baseline-capped_base_stock", "baseline-s_S"):
        program = compile_policy((rd / "candidates" / f"{cid}.py").read_text(), cid)
        params = {k: np.array([v]) for k, v in cands[cid]["params"].items()}
        for i, path in enumerate(paths):
            full = ws.replay.concat(path)
            res = simulate(program, full, (), ws.spec.model, params, init=ws.spec.initial)
            assert rows[cid]["costs"][i] == pytest.approx(float(res.costs[0, 60:].mean()), rel=1e-12)
    certs = _lines(rd / "certificates.jsonl")
    assert certs and {c["gain_source"] for c in certs} == {"replications"}
    assert all(c["n"] == REPS and c["first_day"] is None and c["n_segments"] == REPS for c in certs)
    assert "replications" in serial_run.report


def serial_run_gate():
    return _cfg().certify


def test_parallel_run_writes_the_same_replications_and_certificates(poisson_ws, serial_run, tmp_path):
    par = execute(poisson_ws, _cfg(workers=2), _factory, run_dir=tmp_path / "par", progress=False)
    for name in (LOG_FILE, "certificates.jsonl"):
        key = (lambda r: r["candidate_id"])
        assert sorted(_lines(par.run_dir / name), key=key) == sorted(_lines(serial_run.run_dir / name), key=key), name


def test_recorded_paths_are_the_ones_a_resume_uses(poisson_ws, serial_run, tmp_path, monkeypatch):
    """A resumed run reads the recorded paths back: even a sampler that changed (or is not
    reproducible) cannot give later members other paths than the earlier ones had."""
    import shutil
    from evolve.replications import PATHS_FILE, PathPlan, ReplicationScorer
    from evolve.rundir import RunDir
    run = tmp_path / "copy"
    shutil.copytree(serial_run.run_dir, run)
    ws = load_workspace(poisson_ws)
    monkeypatch.setattr(PathPlan, "paths", lambda self, ws: pytest.fail("a resume must not draw again"))
    scorer = ReplicationScorer(ws, None, serial_run_gate(), RunDir(run), 0)
    recorded = json.loads((run / PATHS_FILE).read_text())
    assert len(scorer.paths) == REPS and [list(p.demand) for p in scorer.paths] == [p["demand"] for p in recorded["paths"]]
    with pytest.raises(Exception, match="drawn for 6 paths"):
        ReplicationScorer(ws, None, GateConfig(method="blockwise_maxt", gains="replications", replications=7,
                                               replication_days=DAYS), RunDir(run), 0)


def test_resume_reuses_recorded_replications_exactly(poisson_ws, serial_run, tmp_path):
    import shutil
    run = tmp_path / "cut"
    shutil.copytree(serial_run.run_dir, run)
    rows = _lines(run / LOG_FILE)
    # cut the run back to its initial pool (as a kill after the baselines leaves it), then resume
    keep = [r for r in rows if r["candidate_id"].startswith("baseline-")]
    (run / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in keep))
    for name in ("rounds.jsonl", "champion_history.jsonl", "certificates.jsonl", "deployment.json", "report.txt"):
        (run / name).unlink(missing_ok=True)
    out = execute(None, None, _factory, resume=run, progress=False)
    key = (lambda r: r["candidate_id"])
    assert sorted(_lines(out.run_dir / LOG_FILE), key=key) == sorted(rows, key=key)
    assert _lines(out.run_dir / "certificates.jsonl") == _lines(serial_run.run_dir / "certificates.jsonl")


def test_a_workspace_without_a_model_is_refused_naming_its_toml(workspace_dir, tmp_path):
    done = subprocess.run([sys.executable, "-m", "cli.evolve_cmd", "--workspace", str(workspace_dir), "--run-dir",
                           str(tmp_path / "run"), "--gains", "replications", "--sandbox", "none", "-q"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "workspace.toml" in done.stderr and "[demand_model]" in done.stderr
    assert not (tmp_path / "run").exists()


def test_bounded_methods_need_a_cap_on_the_draws(poisson_ws, tmp_path):
    from evolve.replications import check_formal
    from inventory.errors import ConfigError
    ws = load_workspace(poisson_ws)
    with pytest.raises(ConfigError, match="max_demand"):
        check_formal(ws, GateConfig(method="hoeffding", gains="replications"))
    check_formal(ws, GateConfig(method="blockwise_t", gains="replications"))
