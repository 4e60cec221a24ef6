"""The workspace folder's layout (SPEC §2): its file names and the one error every reader raises.

Kept apart from parsing (:mod:`inventory.workspace`), manifests
(:mod:`inventory.workspace_manifest`) and writing (:mod:`inventory.workspace_write`), which
all name these files.
"""
from __future__ import annotations

from pathlib import Path

FORMAT_VERSION = 1
SPEC_FILE = "workspace.toml"
DESCRIPTION_FILE = "problem_description.md"
REPLAY_FILE = "data/historical_sequence.json"
EVALUATION_FILE = "evaluation.py"
BASELINE_DIR = "baseline_policies"
TUNED_FILE = "baseline_policies/tuned.json"
HIDDEN_DIR = "hidden"
FORWARD_FILE = "hidden/forward_window.json"
MANIFEST_FILE = "manifest.json"
HIDDEN_MANIFEST_FILE = "hidden/manifest.json"


class WorkspaceError(ValueError):
    """A workspace file is missing, malformed or inconsistent. Names the file and field."""

    def __init__(self, path: Path | str, field_name: str | None, message: str):
        self.path, self.field = str(path), field_name
        where = f"{path}: field '{field_name}'" if field_name else str(path)
        super().__init__(f"{where}: {message}")
