"""Class 3 (silent loss of isolation): auto never degrades; degraded is opt-in and proves hidden/ unreadable."""
from __future__ import annotations

import os

import pytest

from sandbox import selection
from sandbox.backends import BwrapBackend, DegradedBackend, DockerBackend, SandboxUnavailable
from sandbox.host import SandboxHost
from sandbox.session import SandboxShellSession
from tests.security._sandbox_support import backend, private_workspace, public_tmp, small_problem  # noqa: F401


def _refuse(self):
    raise SandboxUnavailable(f"{self.name} missing in this test")


def test_auto_refuses_instead_of_degrading(monkeypatch):
    monkeypatch.setattr(DockerBackend, "probe", _refuse)
    monkeypatch.setattr(BwrapBackend, "probe", _refuse)
    monkeypatch.setattr(selection, "_selected", {})
    probed = []
    monkeypatch.setattr(DegradedBackend, "probe", lambda self: probed.append(1))
    with pytest.raises(SandboxUnavailable) as err:
        selection.select_backend("auto")
    msg = str(err.value)
    assert "apt-get install" in msg and "bubblewrap" in msg and "docker" in msg and "--sandbox degraded" in msg
    assert not probed  # degraded was never even considered
    assert "\n" not in msg


def test_degraded_refuses_without_namespaces(monkeypatch):
    """When `unshare` cannot run, there would be no isolation at all: refuse."""
    monkeypatch.setattr("sandbox.backends.degraded.launcher_env", lambda: {"PATH": "/nonexistent"})
    b = DegradedBackend()
    with pytest.raises(SandboxUnavailable, match="no isolation at all"):
        b.probe()
    with pytest.raises(SandboxUnavailable):
        b.run_command(None, "true", 5, 100)


def test_degraded_refuses_a_readable_hidden_folder(public_tmp):
    b = backend("degraded")
    ws = private_workspace(public_tmp)  # hidden/ as shipped: mode 644 files
    os.chmod(ws / "hidden", 0o755)
    with pytest.raises(SandboxUnavailable, match="readable by the sandbox user"):
        SandboxShellSession(ws, b)
    with pytest.raises(SandboxUnavailable, match="readable by the sandbox user"):
        SandboxHost(small_problem(), b, hidden=(ws / "hidden",))


@pytest.mark.skipif(os.geteuid() != 0, reason="proving hidden/ unreadable needs uid 65534 (root mode)")
def test_degraded_runs_when_hidden_is_private_and_cannot_read_it(public_tmp):
    b = backend("degraded")
    ws = private_workspace(public_tmp, hidden_mode=0o700)
    target = ws / "hidden" / "forward_window.json"
    with SandboxShellSession(ws, b, timeout=20) as sh:
        res = sh.run(f"cat {target}; echo rc=$?; id -u")
    assert "Permission denied" in res.output and '"dates"' not in res.output
    assert res.output.split()[-1] == "65534"


@pytest.mark.parametrize("name", ["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def test_isolating_backends_never_show_hidden(name, tmp_path):
    b = backend(name)
    ws = private_workspace(tmp_path)
    target = ws / "hidden" / "forward_window.json"
    with SandboxShellSession(ws, b, timeout=60) as sh:
        res = sh.run(f"cat {target} 2>&1; ls hidden 2>&1; find / -name forward_window.json 2>/dev/null | head -3")
    assert '"dates"' not in res.output and "forward_window.json\n" not in res.output.replace("cat:", "")
