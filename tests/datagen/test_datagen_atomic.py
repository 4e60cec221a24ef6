"""Builders never leave a half-written workspace (issue #11): staged folders, renamed when complete."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from datagen.output import staged_folder, write_json
from tests.cli._run import ROOT, env


def test_staged_folder_renames_on_success_and_removes_on_failure(tmp_path):
    target = tmp_path / "ws"
    with pytest.raises(RuntimeError):
        with staged_folder(target) as tmp:
            (tmp / "half.json").write_text("{")
            raise RuntimeError("interrupted")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with staged_folder(target) as tmp:
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with pytest.raises(FileExistsError):
        with staged_folder(target):
            pass
    with staged_folder(target, overwrite=True) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == ["ws"]


def test_write_json_is_atomic(tmp_path):
    write_json(tmp_path / "s.json", {"a": 1})
    assert (tmp_path / "s.json").read_text() == '{\n "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_interrupted_classical_build_leaves_no_partial_workspace(tmp_path):
    out = tmp_path / "suite"
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "datagen", "classical", "--out", str(out), "--workers",
                             "1", "--trials", "5", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env(), cwd=ROOT)
    try:
        deadline = time.time() + 600  # generous: a loaded machine builds the first scenario slowly
        while time.time() < deadline and not (out.exists() and any(p.name.startswith(".") for p in out.iterdir())):
            time.sleep(0.02)
        assert out.exists() and any(p.name.startswith(".") for p in out.iterdir()), "no workspace was being written"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # a failed wait must not leave the build running
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "invevolve: error: interrupted" in err
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    for ws in out.iterdir():  # whatever was finished before the interrupt is complete
        assert (ws / "manifest.json").exists()
