"""What an agent may see of a workspace, and the two manifests that detect a changed file.

A workspace holds regular files and folders only: a symlink or a special file is refused
here (:func:`agent_visible_files`, :func:`verify_manifest`), so it is never copied into a
shell. The agent-visible ``manifest.json`` holds no digest of a hidden file; those sit in
``hidden/manifest.json``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path

from inventory.workspace_layout import HIDDEN_DIR, HIDDEN_MANIFEST_FILE, MANIFEST_FILE, WorkspaceError

log = logging.getLogger(__name__)


def _regular_files(root: Path) -> list[Path]:
    """Relative paths of every file under ``root`` (``__pycache__`` skipped), symlinks not followed.

    Raises :class:`WorkspaceError` for a symlink or anything that is not a regular file or a
    folder (fifo, socket, device): a workspace holds neither.
    """
    root = Path(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" or (here / d).is_symlink())
        for name in sorted(dirnames) + sorted(filenames):
            path = here / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise WorkspaceError(path, None, "is a symbolic link; a workspace holds regular files only "
                                                 "(remove it, then `invevolve workspace seal`)")
            if name in filenames and not stat.S_ISREG(mode):
                raise WorkspaceError(path, None, "is not a regular file (fifo, socket or device); remove it")
        out.extend((here / f).relative_to(root) for f in sorted(filenames))
    return sorted(out)


def _lists_hidden(manifest: Path) -> bool:
    """Does an (older) agent-visible manifest still carry digests of hidden files?"""
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(files, dict) and any(str(k).split("/", 1)[0] == HIDDEN_DIR for k in files)


def agent_visible_files(root: Path) -> list[Path]:
    """Relative paths an agent may see: every regular file outside ``hidden/``.

    Raises :class:`WorkspaceError` if the workspace holds a symlink or a special file. A
    ``manifest.json`` written before hidden digests moved to ``hidden/manifest.json`` is
    left out (it would show them).
    """
    root = Path(root)
    files = [p for p in _regular_files(root) if p.parts[0] != HIDDEN_DIR]
    if Path(MANIFEST_FILE) in files and _lists_hidden(root / MANIFEST_FILE):
        files.remove(Path(MANIFEST_FILE))
    return files


def manifest_digest(root: Path) -> str:
    """One digest of both manifests (what a run records to detect a changed workspace).

    Equals the plain digest of ``manifest.json`` for a workspace without a hidden manifest.
    """
    root = Path(root)
    visible = _sha256(root / MANIFEST_FILE)
    hidden = root / HIDDEN_MANIFEST_FILE
    if not hidden.exists():
        return visible
    return hashlib.sha256(f"{visible}:{_sha256(hidden)}".encode("ascii")).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise WorkspaceError(path, "files", f"unreadable manifest ({exc})") from exc
    if not isinstance(files, dict):
        raise WorkspaceError(path, "files", "must map relative paths to sha256 digests")
    return files


def verify_manifest(root: Path) -> None:
    """Check both manifests against the files, and that the workspace holds regular files only."""
    root = Path(root)
    path = root / MANIFEST_FILE
    if not path.exists():
        raise WorkspaceError(path, None, "missing: the workspace was not completely written (or was edited; run `invevolve workspace seal`)")
    _regular_files(root)
    files = _read_manifest(path)
    hidden = root / HIDDEN_MANIFEST_FILE
    if hidden.exists():
        for rel in _read_manifest(hidden):
            if rel.split("/", 1)[0] != HIDDEN_DIR:
                raise WorkspaceError(hidden, "files", f"lists {rel!r}, which is not under {HIDDEN_DIR}/")
        files = {**files, **_read_manifest(hidden)}
    elif _lists_hidden(path):
        log.debug("%s still lists hidden files (sealed before hidden/manifest.json); agents are not shown it", path)
    for rel, digest in files.items():
        target = root / rel
        if not target.exists():
            raise WorkspaceError(target, None, "listed in manifest.json but missing (partial or corrupted workspace)")
        if _sha256(target) != digest:
            raise WorkspaceError(target, None, "content does not match manifest.json (corrupted or edited; run `invevolve workspace seal` after a deliberate edit)")
