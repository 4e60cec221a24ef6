"""Built synthetic workspaces: determinism, no leakage, corruption detection, split file."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from datagen.synthetic import DIAGNOSTICS_DIR, build_synthetic
from inventory.workspace import FORWARD_FILE, REPLAY_FILE, WorkspaceError, agent_visible_files, load_workspace


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_output(small_suite, small_config, tmp_path):
    again = tmp_path / "again"
    build_synthetic(again, small_config, workers=2, progress=False)  # other process layout, same bytes
    a, b = _files(small_suite), _files(again)
    assert a.keys() == b.keys()
    assert len([k for k in a if k.endswith("workspace.toml")]) == 4
    diff = [k for k in a if a[k] != b[k]]
    assert diff == []


def test_other_seed_gives_other_demand(small_suite, small_config, tmp_path):
    from dataclasses import replace
    other = tmp_path / "other"
    build_synthetic(other, replace(small_config, seed=8, datasets=(4,)), workers=1, progress=False)
    name = sorted(p.name for p in other.iterdir() if p.name.startswith("industrial"))[0]
    a = json.loads((small_suite / name / REPLAY_FILE).read_text())["demand"]
    b = json.loads((other / name / REPLAY_FILE).read_text())["demand"]
    assert a != b


def _workspaces(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "workspace.toml").exists())


def test_no_forward_data_and_no_latent_state_in_agent_visible_files(small_suite):
    latent_markers = ('"regime"', '"event_state"', '"alpha"', '"mu"', '"coefficient_scale"', '"zero_prob"',
                      "_diagnostics", '"latent"', '"beta"', "nonstationarity")
    for ws in _workspaces(small_suite):
        fwd = json.loads((ws / FORWARD_FILE).read_text())
        visible = agent_visible_files(ws)
        assert visible and all(p.parts[0] != "hidden" for p in visible)
        text = "\n".join((ws / p).read_text(encoding="utf-8") for p in visible)
        for date in fwd["dates"]:
            assert date not in text, f"{ws.name}: forward date {date} visible to the agent"
        for marker in latent_markers:
            assert marker not in text, f"{ws.name}: latent marker {marker} visible to the agent"
        replay = json.loads((ws / REPLAY_FILE).read_text())
        assert len(replay["demand"]) == 100 and replay["dates"][-1] < fwd["dates"][0]
        assert not (ws / DIAGNOSTICS_DIR).exists()


def test_latent_states_are_recorded_outside_the_workspaces(small_suite):
    diag = small_suite / DIAGNOSTICS_DIR
    files = sorted(diag.glob("*.json"))
    assert len(files) == 2
    d = json.loads(files[0].read_text())
    assert {"regime", "event_state", "mu", "alpha"} <= set(d["latent"]) and len(d["latent"]["mu"]) == 731
    for ws in _workspaces(small_suite):
        assert "_diagnostics" not in {p.parts[0] for p in agent_visible_files(ws)}


def test_workspaces_load_with_tuned_baselines(small_suite):
    index = json.loads((small_suite / "suite.json").read_text())
    assert len(index["workspaces"]) == 4
    for row in index["workspaces"]:
        ws = load_workspace(small_suite / row["name"])
        assert ws.spec.problem.lead_time == 2 and ws.spec.problem.p == pytest.approx(9 * ws.spec.problem.h)
        assert len(ws.baselines) == 5 and len(ws.load_forward()) == 30
        assert ws.replay.dates[0] == row["replay_start"]
        init = ws.spec.initial
        m = float(np.mean(ws.replay.demand[:7]))
        assert len(init.pipeline) == 2 and abs(init.on_hand - 2 * m) <= 0.5 + 1e-9


@pytest.mark.parametrize("damage", ["edit_replay", "drop_manifest", "drop_forward", "truncate_tuned"])
def test_corrupted_or_partial_workspace_is_detected(small_suite, tmp_path, damage):
    src = _workspaces(small_suite)[0]
    ws = tmp_path / src.name
    shutil.copytree(src, ws)
    if damage == "edit_replay":
        raw = json.loads((ws / REPLAY_FILE).read_text())
        raw["demand"][3] += 1
        (ws / REPLAY_FILE).write_text(json.dumps(raw))
    elif damage == "drop_manifest":
        (ws / "manifest.json").unlink()
    elif damage == "drop_forward":
        (ws / FORWARD_FILE).unlink()
    else:
        p = ws / "baseline_policies" / "tuned.json"
        p.write_text(p.read_text()[:40])
    with pytest.raises(WorkspaceError):
        load_workspace(ws)
