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


def _edit_spec(root, old, new):
    path = root / SPEC_FILE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    seal(root)


@pytest.mark.parametrize("old,new,field", [
    ("p = 9.0", "p = -3.0", "problem.p"),
    ("lead_time = 1", 'lead_time = "one"', "problem.lead_time"),
    ('availability = "known_ahead"', 'availability = "tomorrow"', "features.promo.availability"),
    ("replay_days = 100", "replay_days = 90", "demand"),
    ("format_version = 1", "format_version = 7", "format_version"),
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
    seal(ws_copy)
    with pytest.raises(WorkspaceError, match=r"historical_sequence.json: field 'demand\[17\]'"):
        load_workspace(ws_copy)


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
