"""Backend construction: the security-relevant flags are really there, selection is logged."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from sandbox.backends import BwrapBackend, DockerBackend, Limits, SandboxUnavailable, select_backend
from sandbox.image import PROJECT_DEST, ensure_runtime_root


def test_bwrap_argv_order_and_flags(bwrap):
    argv = bwrap.argv(["/bin/true"], workdir=Path("/tmp/x"), cwd="/workspace")
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
                 "--clearenv"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    root_bind = argv.index("--ro-bind")
    assert argv[root_bind + 2] == "/" and argv[root_bind + 1] != "/"  # the runtime tree, never the host /
    binds = [i for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")]
    assert max(binds) < argv.index("--proc") and max(binds) < argv.index("--tmpfs")
    assert argv[argv.index("--tmpfs") - 2] == "--size"
    assert f"{PROJECT_DEST}/inventory" in argv
    assert argv[argv.index("--bind") + 2] == "/workspace"


def test_bwrap_sandbox_view(bwrap):
    res = bwrap.run_command(None, "cat /proc/self/status | grep -E '^(CapEff|NoNewPrivs):'; ls /proc | grep -c '^[0-9]'; "
                                  "cat /proc/net/dev | wc -l; hostname 2>/dev/null || cat /proc/sys/kernel/hostname; "
                                  "touch /usr/x 2>&1; ulimit -n", timeout=20, max_output=4000)
    out = res.output
    assert "CapEff:\t0000000000000000" in out
    assert "NoNewPrivs:\t1" in out
    lines = out.splitlines()
    assert int(lines[2]) <= 4  # only the sandbox's own processes are visible
    assert int(lines[3]) == 3  # /proc/net/dev: header (2 lines) + lo only
    assert "sandbox" in out and "Read-only file system" in out
    assert lines[-1].strip() == str(bwrap.limits.nofile)


@pytest.mark.docker
def test_docker_container_settings(workspace_dir):
    from tests.sandbox._support import backend_or_skip

    d = backend_or_skip("docker")
    kw = d._run_kwargs(None, "worker")
    assert kw["network_mode"] == "none" and kw["read_only"] and kw["init"]
    assert kw["cap_drop"] == ["ALL"] and "no-new-privileges" in kw["security_opt"]
    assert kw["user"].startswith("65534") and kw["pids_limit"] > 0 and kw["mem_limit"] > 0
    res = d.run_command(None, "id -u; grep -E 'CapEff|NoNewPrivs' /proc/self/status; cat /proc/net/dev | wc -l; "
                              "touch /usr/x 2>&1", timeout=60, max_output=4000)
    assert res.output.splitlines()[0] == "65534"
    assert "CapEff:\t0000000000000000" in res.output and "NoNewPrivs:\t1" in res.output
    assert "Read-only file system" in res.output


def test_named_backend_never_silently_replaced():
    with pytest.raises(ValueError):
        select_backend("chroot")
    d = DockerBackend(client=_NoEngine())
    with pytest.raises(SandboxUnavailable, match="ping"):
        d.probe()


class _NoEngine:
    def ping(self):
        raise ConnectionError("refused")


def test_selection_is_logged(caplog, bwrap):
    caplog.set_level(logging.INFO, logger="sandbox")
    from sandbox import backends

    backends._selected.pop("bwrap", None)
    select_backend("bwrap")
    assert any("sandbox backend selected: bwrap" in r.getMessage() for r in caplog.records)


def test_degraded_warns_loudly(caplog):
    caplog.set_level(logging.WARNING, logger="sandbox.backends")
    try:
        b = select_backend("degraded", Limits())
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    assert not b.isolating
    assert any("SANDBOX DEGRADED" in r.getMessage() for r in caplog.records)
    res = b.run_command(None, "python3 -c \"import socket\ntry:\n  socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
                              "except OSError as e: print('errno', e.errno)\"", timeout=20, max_output=500)
    if b.has_pid_namespace:
        assert "errno 101" in res.output  # its network namespace has no route


def test_runtime_tree_is_minimal():
    root = ensure_runtime_root()
    assert (root.path / "opt/python/bin/python3").exists()
    assert not (root.path / "workspaces").exists() and not (root.path / "root").exists()
    shadow = root.path / "etc" / "shadow"
    assert shadow.exists() and oct(shadow.stat().st_mode)[-3:] == "600"
    assert not any(root.path.rglob("forward_window.json"))
