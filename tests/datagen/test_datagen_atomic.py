"""Builders never leave a half-written workspace (issue #11): staged folders, renamed when complete."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

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


def _terminal_sigint() -> None:
    """In the child before exec: SIGINT as a terminal's Ctrl-C meets it (default action, not
    blocked), whatever the test runner's process inherited; Python then installs its handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])


def _signal_state(pid: int) -> str:
    """The child's ignored/blocked/pending signal masks and state (for a failure message)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "(gone)"
    return " ".join(ln for ln in lines if ln.split(":")[0] in ("State", "SigPnd", "ShdPnd", "SigBlk", "SigIgn"))


def test_interrupted_classical_build_leaves_no_partial_workspace(tmp_path):
    out = tmp_path / "suite"
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "datagen", "classical", "--out", str(out), "--workers",
                             "1", "--trials", "5", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env(), cwd=ROOT, preexec_fn=_terminal_sigint)
    try:
        deadline = time.time() + 600  # generous: a loaded machine builds the first scenario slowly
        while time.time() < deadline and not (out.exists() and any(p.name.startswith(".") for p in out.iterdir())):
            time.sleep(0.02)
        assert out.exists() and any(p.name.startswith(".") for p in out.iterdir()), "no workspace was being written"
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the build did not stop within 120 s of SIGINT: {_signal_state(proc.pid)}")
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
