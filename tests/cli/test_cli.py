import json
import shutil
import subprocess
import sys

import pytest

from cli.evolve_cmd import main as evolve_main
from cli.main import main as invevolve_main


def test_validate_reports_file_and_field(workspace_dir, tmp_path, capsys):
    bad = tmp_path / "ws"
    shutil.copytree(workspace_dir, bad)
    toml = bad / "workspace.toml"
    toml.write_text(toml.read_text().replace("h = 1.0", "h = -1.0"))
    assert invevolve_main(["workspace", "validate", str(bad)]) == 2
    assert "workspace.toml: field 'problem.h'" in capsys.readouterr().err
    assert invevolve_main(["workspace", "seal", str(bad)]) == 2  # sealing does not bless bad content
    toml.write_text(toml.read_text().replace("h = -1.0", "h = 1.0"))
    assert invevolve_main(["workspace", "seal", str(bad)]) == 0


def test_evolve_rejects_bad_config_and_missing_workspace(tmp_path, capsys, workspace_dir):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[certify]\ndelta = 2.0\n")
    assert evolve_main(["--workspace", str(workspace_dir), "--config", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err
    assert "delta" in err and str(cfg) in err
    assert evolve_main(["--workspace", str(tmp_path / "nope"), "-q"]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_score_command_prints_trusted_numbers(workspace_dir, tmp_path, capsys):
    pol = tmp_path / "p.py"
    pol.write_text("import numpy as np\nPARAMS = {'S': (0.0, 40.0)}\n"
                   "def order(obs, params):\n    return np.maximum(params['S'] - obs.position, 0.0)\n")
    assert invevolve_main(["score", "--workspace", str(workspace_dir), str(pol), "--sandbox", "none", "--trials", "10"]) == 0
    out = capsys.readouterr().out
    assert "replay cost/day" in out and "test window" in out
    hostile = tmp_path / "h.py"
    hostile.write_text("import os\ndef order(obs, params):\n    return os.getpid()\n")
    assert invevolve_main(["score", "--workspace", str(workspace_dir), str(hostile), "--sandbox", "none"]) == 4
    assert "INVALID" in capsys.readouterr().out


@pytest.mark.slow
def test_sandboxed_run_is_identical_to_unsandboxed(workspace_dir, tmp_path):
    from sandbox import select_backend
    from sandbox.backends import SandboxUnavailable
    try:
        select_backend("bwrap")
    except SandboxUnavailable as exc:
        pytest.skip(f"bwrap unavailable: {exc}")
    runs = {}
    for backend in ("bwrap", "none"):
        rd = tmp_path / backend
        code = subprocess.run([sys.executable, "-m", "cli.evolve_cmd", "--workspace", str(workspace_dir), "--run-dir",
                               str(rd), "--rounds", "2", "--candidates", "2", "--trials", "15", "--sandbox", backend, "-q"],
                              capture_output=True, text=True, timeout=600)
        assert code.returncode == 0, code.stderr
        rows = [json.loads(x) for x in (rd / "candidates.jsonl").read_text().splitlines()]
        runs[backend] = ({r["candidate_id"]: (r["replay_costs"], r["params"]) for r in rows},
                         json.loads((rd / "deployment.json").read_text()))
    assert runs["bwrap"][0] == runs["none"][0]
    assert runs["bwrap"][1] == runs["none"][1]
