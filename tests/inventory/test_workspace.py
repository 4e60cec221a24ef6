import hashlib
import json
import shutil

import pytest

from inventory.workspace import (FORWARD_FILE, REPLAY_FILE, SPEC_FILE, WorkspaceError, agent_visible_files,
                                 load_workspace, seal)


@pytest.fixture()
def ws_copy(workspace_dir, tmp_path):
    dst = tmp_path / "ws"
    shutil.copytree(workspace_dir, dst)
    return dst


def test_loads_and_keeps_forward_apart(workspace_dir):
    ws = load_workspace(workspace_dir)
    assert len(ws.replay) == 100 and len(ws.load_forward()) == 30
    visible = {str(p) for p in agent_visible_files(workspace_dir)}
    assert FORWARD_FILE not in visible and REPLAY_FILE in visible
    assert not any(p.startswith("hidden") for p in visible)
    assert "evaluation.py" in visible and "baseline_policies/tuned.json" in visible


def _force_manifest(root):
    """Write manifest.json over the current files without validating them (as a hand edit would)."""
    files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    (root / "manifest.json").write_text(json.dumps({"files": files}))


def _edit_spec(root, old, new):
    """Edit workspace.toml; check that seal refuses the edit and keeps the old manifest; then force it."""
    path = root / SPEC_FILE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    manifest = (root / "manifest.json").read_bytes()
    with pytest.raises(WorkspaceError):
        seal(root)
    assert (root / "manifest.json").read_bytes() == manifest, "a failed seal must not re-write the manifest"
    _force_manifest(root)


@pytest.mark.parametrize("old,new,field", [
    ("p = 9.0", "p = -3.0", "problem.p"),
    ("lead_time = 1", 'lead_time = "one"', "problem.lead_time"),
    ('availability = "known_ahead"', 'availability = "tomorrow"', "features.promo.availability"),
    ("replay_days = 100", "replay_days = 90", "demand"),
    ("format_version = 1", "format_version = 7", "format_version"),
    ("on_hand = 12.0", "on_hnd = 57.0", "initial_state.on_hnd"),
    ("h = 1.0", "h = 1.0\nholding = 2.0", "problem.holding"),
])
def test_malformed_spec_names_file_and_field(ws_copy, old, new, field):
    _edit_spec(ws_copy, old, new)
    with pytest.raises(WorkspaceError) as err:
        load_workspace(ws_copy)
    assert f"field '{field}'" in str(err.value)


def test_malformed_sequence_names_the_entry(ws_copy):
    path = ws_copy / REPLAY_FILE
    raw = json.loads(path.read_text())
    raw["demand"][17] = -4
    path.write_text(json.dumps(raw))
    with pytest.raises(WorkspaceError, match=r"historical_sequence.json: field 'demand\[17\]'"):
        seal(ws_copy)
    _force_manifest(ws_copy)
    with pytest.raises(WorkspaceError, match=r"historical_sequence.json: field 'demand\[17\]'"):
        load_workspace(ws_copy)


def test_seal_validates_the_forward_window_too(ws_copy):
    path = ws_copy / FORWARD_FILE
    raw = json.loads(path.read_text())
    raw["demand"][3] = "many"
    path.write_text(json.dumps(raw))
    with pytest.raises(WorkspaceError, match=r"forward_window.json: field 'demand\[3\]'"):
        seal(ws_copy)


def test_corruption_and_partial_writes_are_detected(ws_copy):
    (ws_copy / REPLAY_FILE).write_text((ws_copy / REPLAY_FILE).read_text().replace("1", "2", 1))
    with pytest.raises(WorkspaceError, match="does not match manifest"):
        load_workspace(ws_copy)
    (ws_copy / "manifest.json").unlink()
    with pytest.raises(WorkspaceError, match="not completely written"):
        load_workspace(ws_copy)


def test_missing_file_is_named(ws_copy):
    (ws_copy / "baseline_policies" / "s_S.py").unlink()
    with pytest.raises(WorkspaceError, match="s_S.py"):
        load_workspace(ws_copy)


def test_non_utf8_workspace_file_names_the_file(ws_copy):
    path = ws_copy / SPEC_FILE
    path.write_bytes(path.read_bytes() + b"# \xff\n")
    with pytest.raises(WorkspaceError, match="workspace.toml: is not UTF-8 text"):
        seal(ws_copy)
