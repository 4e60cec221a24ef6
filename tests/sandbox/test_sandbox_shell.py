"""Agent shell sessions: private copy without hidden/, evaluation.py works inside, limits, cleanup."""
from __future__ import annotations

import os

import pytest

from sandbox import open_shell
from sandbox.session import SandboxShellSession


def test_copy_has_no_hidden_and_is_discarded(backend, workspace_dir):
    sh = SandboxShellSession(workspace_dir, backend, timeout=30)
    root = sh.root
    res = sh.run("ls -a; ls hidden 2>&1; id -u")
    assert res.exit_code == 0
    assert "workspace.toml" in res.output and "evaluation.py" in res.output
    assert "No such file" in res.output
    assert "65534" in res.output.splitlines()[-1] or os.geteuid() != 0
    assert not (root / "hidden").exists()
    sh.close()
    assert not root.exists()


def test_evaluation_runs_inside(backend, workspace_dir):
    with SandboxShellSession(workspace_dir, backend, timeout=120) as sh:
        sh.write_file("my_policy.py", (workspace_dir / "baseline_policies" / "base_stock.py").read_bytes())
        res = sh.run("python evaluation.py my_policy.py --trials 6")
        assert res.exit_code == 0, res.output
        assert "replay cost/day" in res.output


def test_timeout_and_truncation(bwrap, workspace_dir):
    with SandboxShellSession(workspace_dir, bwrap, timeout=30, max_output=100) as sh:
        res = sh.run("sleep 30", timeout=1)
        assert res.timed_out and res.exit_code is None
        res = sh.run("yes hello | head -c 100000")
        assert res.truncated and len(res.output) < 200 and not res.timed_out
        res = sh.run("exit 3")
        assert res.exit_code == 3 and not res.timed_out


def test_file_io_refuses_escapes(bwrap, workspace_dir):
    with SandboxShellSession(workspace_dir, bwrap) as sh:
        sh.write_file("sub/new.py", b"x = 1\n")
        assert sh.read_file("sub/new.py") == b"x = 1\n"
        assert "x = 1" in sh.run("cat sub/new.py").output  # the sandbox user can read what we wrote
        assert sh.run("echo y >> sub/new.py").exit_code == 0  # ... and write it
        assert sh.read_file("missing.py") is None
        for bad in ("../x", "/etc/passwd", "sub/../../x"):
            with pytest.raises(ValueError):
                sh.read_file(bad)
            with pytest.raises(ValueError):
                sh.write_file(bad, b"")
        # a symlink planted by the agent that points outside is refused, not followed
        sh.run("ln -s /etc/hostname leak; ln -s ../../.. up")
        with pytest.raises(ValueError):
            sh.read_file("leak")
        with pytest.raises(ValueError):
            sh.read_file("up/etc/passwd")


def test_open_shell_factory(workspace_dir, bwrap):
    with open_shell(workspace_dir, "bwrap", timeout=5, max_output=50) as sh:
        assert sh.run("echo hi").output.strip() == "hi"
    with pytest.raises(ValueError):
        open_shell(workspace_dir, "none")


def test_background_process_does_not_outlive_command(bwrap, workspace_dir):
    with SandboxShellSession(workspace_dir, bwrap) as sh:
        sh.run("(sleep 5; echo late > late.txt) &")
        sh.run("sleep 0")
        import time
        time.sleep(6)
        assert sh.read_file("late.txt") is None
