"""Sweeps: suite loading with clear errors, resumable per-workspace results, settings guard,
and a real exp1 sweep through the CLI (built-in proposer, tiny budget)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.provenance import commit_stamp
from bench.settings import BenchSettings
from bench.suites import SuiteKind, load_suite
from bench.sweep import JobOutcome, Sweep, WorkspaceJob, atomic_write_json, run_job
from cli.main import main as invevolve
from evolve.config import EvolveConfig, with_overrides
from inventory.errors import ConfigError
from evolve.executor import SerialExecutor

CALLS: list[str] = []


def _count(job: WorkspaceJob) -> JobOutcome:
    def work(j: WorkspaceJob) -> dict:
        CALLS.append(j.entry.name)
        if j.entry.name == "beta_01_s01" and not (Path(j.sweep_dir) / "beta.ok").exists():
            raise RuntimeError("beta is broken this time")
        return {"name": j.entry.name, "group": j.entry.group}
    return run_job(job, work)


def test_suite_groups_split_and_ood(mini_suite):
    entries = load_suite(SuiteKind.SYNTHETIC, mini_suite)
    assert [(e.name, e.group, e.group_label, e.ood) for e in entries] == [
        ("alpha_01_s01", "alpha", "Alpha", True), ("alpha_01_s02", "alpha", "Alpha", True),
        ("beta_01_s01", "beta", "Beta", False)]


def test_suite_errors_name_the_file_and_field(mini_suite, tmp_path):
    suite = tmp_path / "s"
    shutil.copytree(mini_suite, suite)
    split = suite / "splits" / "standard.json"
    split.write_text(json.dumps({"train": []}))
    with pytest.raises(ConfigError, match=r"standard\.json: missing field 'test'"):
        load_suite(SuiteKind.SYNTHETIC, suite)
    split.write_text(json.dumps({"test": ["nope"]}))
    with pytest.raises(ConfigError, match=r"workspace 'nope' of split 'test' is not in .*suite\.json"):
        load_suite(SuiteKind.SYNTHETIC, suite)
    (suite / "suite.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"suite\.json: cannot be read as JSON"):
        load_suite(SuiteKind.SYNTHETIC, suite)
    with pytest.raises(ConfigError, match="suite folder not found"):
        load_suite(SuiteKind.CJ, tmp_path / "missing")


def test_finished_workspaces_are_not_recomputed_and_failures_are_retried(mini_suite, tmp_path):
    entries = load_suite(SuiteKind.SYNTHETIC, mini_suite)
    sweep = Sweep(tmp_path / "sweep", "exp1", BenchSettings())
    CALLS.clear()
    with SerialExecutor() as ex:
        results, errors = sweep.run(entries, ex, _count, progress=False)
    assert CALLS == ["alpha_01_s01", "alpha_01_s02", "beta_01_s01"]
    assert set(results) == {"alpha_01_s01", "alpha_01_s02"}
    assert errors == {"beta_01_s01": "RuntimeError: beta is broken this time"}
    assert not (tmp_path / "sweep" / "results" / "beta_01_s01.json").exists()
    assert not any((tmp_path / "sweep" / "running").iterdir())
    (tmp_path / "sweep" / "beta.ok").write_text("")
    CALLS.clear()
    with SerialExecutor() as ex:
        results, errors = sweep.run(entries, ex, _count, progress=False)
    assert CALLS == ["beta_01_s01"] and not errors
    assert [results[e.name]["name"] for e in entries] == [e.name for e in entries]


def test_a_sweep_directory_refuses_other_settings(mini_suite, tmp_path):
    entries = load_suite(SuiteKind.SYNTHETIC, mini_suite)[:1]
    with SerialExecutor() as ex:
        Sweep(tmp_path / "sw", "exp1", BenchSettings()).run(entries, ex, _count, progress=False)
        other = BenchSettings(with_overrides(EvolveConfig(), search_rounds=1))
        with pytest.raises(ConfigError, match=r"sweep\.json: this sweep was run with other settings \(differ: config\)"):
            Sweep(tmp_path / "sw", "exp1", other).run(entries, ex, _count, progress=False)


def test_a_torn_result_file_is_reported_not_trusted(mini_suite, tmp_path):
    entries = load_suite(SuiteKind.SYNTHETIC, mini_suite)[:1]
    sweep = Sweep(tmp_path / "sw", "exp1", BenchSettings())
    sweep.prepare()
    (tmp_path / "sw" / "results").mkdir()
    (tmp_path / "sw" / "results" / "alpha_01_s01.json").write_text('{"schema": 1, "resu')
    with SerialExecutor() as ex, pytest.raises(ConfigError, match="alpha_01_s01.json: unreadable result"):
        sweep.run(entries, ex, _count, progress=False)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write_json(tmp_path / "a" / "x.json", {"k": 1})
    atomic_write_json(tmp_path / "a" / "x.json", {"k": 2})
    assert json.loads((tmp_path / "a" / "x.json").read_text()) == {"k": 2}
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["x.json"]


def test_exp1_cli_writes_tables_and_resumes(mini_suite, tmp_path, capsys):
    out = tmp_path / "exp1"
    argv = ["bench", "exp1", "--suite", str(mini_suite), "--out", str(out), "--limit", "2", "--rounds", "1",
            "--candidates", "1", "--trials", "8", "--sandbox", "none", "--workers", "1", "--no-progress"]
    assert invevolve(argv) == 0
    md = (out / "exp1.md").read_text()
    assert "| Alpha | 2 |" in md and "paper: InvEvolve" in md and "| Overall | 2 |" in md
    assert (out / "exp1.png").stat().st_size > 1000
    rows = (out / "exp1.csv").read_text().splitlines()
    assert rows[0].startswith("group,cases,successes")
    first = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    assert len(first) == 2
    seconds = 0.0
    for name in first:
        raw = json.loads((out / "results" / name).read_text())
        res = raw["result"]
        assert res["best_baseline_cost"] == min(res["baseline_costs"].values())
        assert res["success"] == (res["deployed_cost"] < res["best_baseline_cost"])
        assert raw["commit"] == commit_stamp() and raw["seconds"] > 0
        seconds += raw["seconds"]
    assert f"worker time {seconds / 60:.1f} min summed over all 2" in md and "read from earlier" not in md
    capsys.readouterr()
    assert invevolve(argv) == 0  # resumed: nothing recomputed
    assert {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()} == first
    assert "Alpha" in capsys.readouterr().out
    md = (out / "exp1.md").read_text()  # the header says the table was not computed now
    assert "this invocation computed 0 of them" in md and "2 were read from earlier runs of the sweep" in md
    assert f"worker time {seconds / 60:.1f} min summed over all 2" in md


def test_bad_flags_exit_2_with_one_line(mini_suite, tmp_path, capsys, caplog):
    def said() -> str:
        text = capsys.readouterr().err + caplog.text
        caplog.clear()
        return text

    assert invevolve(["bench", "exp1", "--suite", str(tmp_path / "none")]) == 2
    assert "suite folder not found" in said()
    assert invevolve(["bench", "exp1", "--suite", str(mini_suite), "--base-url", "http://x"]) == 2
    assert "add --llm" in said()
    assert invevolve(["bench", "exp2", "--suite", str(mini_suite), "--address", "auto"]) == 2
    assert "--address is for --executor ray" in said()
    assert invevolve(["bench", "exp1", "--suite", str(mini_suite), "--rounds", "-1"]) == 2
    assert "--rounds" in said()
