"""Class 8 (exposure): the agent sees no digest of a hidden file, and no symlink or special
file in a workspace is ever validated or copied into an agent's shell."""
import json
import os
import shutil

import pytest

from inventory.workspace import (FORWARD_FILE, HIDDEN_MANIFEST_FILE, MANIFEST_FILE, WorkspaceError,
                                 agent_visible_files, load_workspace, seal)


@pytest.fixture
def ws_copy(workspace_dir, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(workspace_dir, root)
    return root


def _hidden_digests(root):
    return set(json.loads((root / HIDDEN_MANIFEST_FILE).read_text())["files"].values())


def test_no_hidden_digest_in_anything_agent_visible(ws_copy):
    hidden = _hidden_digests(ws_copy)
    assert hidden, "the trusted manifest lists the hidden files"
    for rel in agent_visible_files(ws_copy):
        text = (ws_copy / rel).read_bytes().decode("utf-8", "replace")
        assert not any(d in text for d in hidden), f"{rel} carries a hidden file's digest"
    assert not any(p.parts[0] == "hidden" for p in agent_visible_files(ws_copy))


def test_hidden_files_are_still_checked_on_load(ws_copy):
    (ws_copy / FORWARD_FILE).write_text((ws_copy / FORWARD_FILE).read_text().replace("1", "2", 1))
    with pytest.raises(WorkspaceError, match="forward_window.json.*does not match"):
        load_workspace(ws_copy)


def test_an_old_manifest_listing_hidden_files_is_not_shown_to_agents(ws_copy):
    visible = json.loads((ws_copy / MANIFEST_FILE).read_text())["files"]
    hidden = json.loads((ws_copy / HIDDEN_MANIFEST_FILE).read_text())["files"]
    (ws_copy / HIDDEN_MANIFEST_FILE).unlink()
    (ws_copy / MANIFEST_FILE).write_text(json.dumps({"files": {**visible, **hidden}}))  # sealed the old way
    load_workspace(ws_copy)
    assert MANIFEST_FILE not in {str(p) for p in agent_visible_files(ws_copy)}


@pytest.mark.parametrize("target", ["../hidden/forward_window.json", "/etc/passwd", "../hidden"])
def test_symlink_added_after_sealing_is_refused_and_never_copied(ws_copy, target):
    os.symlink(target, ws_copy / "data" / "x.json")
    with pytest.raises(WorkspaceError, match="symbolic link"):
        load_workspace(ws_copy)
    with pytest.raises(WorkspaceError, match="symbolic link"):
        agent_visible_files(ws_copy)
    with pytest.raises(WorkspaceError, match="symbolic link"):
        seal(ws_copy)  # sealing does not bless it either


def test_special_files_are_refused(ws_copy):
    os.mkfifo(ws_copy / "data" / "pipe.json")
    with pytest.raises(WorkspaceError, match="not a regular file"):
        load_workspace(ws_copy)
    with pytest.raises(WorkspaceError, match="not a regular file"):
        agent_visible_files(ws_copy)


def test_the_agent_shell_refuses_a_workspace_with_a_symlink(ws_copy):
    sandbox = pytest.importorskip("sandbox")
    from sandbox.backends import SandboxUnavailable
    os.symlink("../hidden/forward_window.json", ws_copy / "data" / "x.json")
    try:
        with pytest.raises(WorkspaceError, match="symbolic link"):
            sandbox.open_shell(ws_copy, "bwrap")
    except SandboxUnavailable as exc:
        pytest.skip(f"bwrap unavailable: {exc}")
