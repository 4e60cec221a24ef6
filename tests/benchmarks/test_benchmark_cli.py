"""The benchmark scripts' command lines (issue #11, small ones)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from tests.cli._run import ROOT, env


def test_simulator_help_prints_help_and_runs_nothing():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "simulator.py"), "--help"], capture_output=True,
                          text=True, timeout=120, env=env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: simulator.py") and "--days" in done.stdout
    assert "replay throughput," not in done.stdout


def test_builtin_proposer_table_has_no_nan_cells():
    spec = importlib.util.spec_from_file_location("builtin_proposer_bench", ROOT / "benchmarks" / "builtin_proposer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    no_wins = {"success": 0.0, "mean_change_when_success": float("nan"), "worse_than_reference": 0.0}
    row = mod.format_row("certified, blockwise_t, delta=0.05", no_wins)
    assert "nan" not in row.lower() and "n/a (0 wins)" in row
    assert "-12.3%" in mod.format_row("x", {"success": 0.5, "mean_change_when_success": -0.123,
                                            "worse_than_reference": 0.0})
