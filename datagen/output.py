"""Output-folder handling shared by every builder: refusal of non-empty folders, JSON files."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class OutputNotEmptyError(FileExistsError):
    """``--out`` already holds files and ``--force`` was not given."""


def prepare_out(out: str | Path, force: bool) -> Path:
    """Return ``out`` as an empty, existing folder.

    A folder that already holds files is refused with :class:`OutputNotEmptyError` unless
    ``force`` is true, in which case its content is removed first. A path that exists but
    is not a folder is always refused.
    """
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise OutputNotEmptyError(f"--out {root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        if not force:
            raise OutputNotEmptyError(
                f"--out {root} already holds files; choose an empty folder or pass --force to replace its content"
            )
        log.warning("--force: removing the existing content of %s", root)
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def dump_json(obj: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, newline-terminated)."""
    return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_json(path: str | Path, obj: Any) -> None:
    """Write :func:`dump_json` of ``obj`` to ``path``, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump_json(obj))
