"""Output-folder handling shared by every builder: refusal of non-empty folders, atomic writes.

Nothing a builder writes is ever seen half-written: a workspace is built in a hidden
sibling folder (``.NAME.partial-*``) and renamed into place only when it is complete
(:func:`staged_folder`, :func:`write_workspace_atomic`); JSON files are written to a temporary
file and renamed (:func:`write_json`). An interrupted build (Ctrl-C, a crash) removes its
partial folder; after ``kill -9`` only a hidden ``.partial-*`` folder can remain, which no
loader mistakes for a workspace (it has no manifest) and ``--force`` clears.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

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
    """Write :func:`dump_json` of ``obj`` to ``path`` atomically, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(dump_json(obj))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_folder(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty hidden folder beside ``target``; rename it to ``target`` when the block succeeds.

    An existing non-empty ``target`` is refused (FileExistsError) unless ``overwrite``, in
    which case it is replaced only after the new folder is complete. On any exception,
    KeyboardInterrupt included, the partial folder is removed and ``target`` is untouched.
    """
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} already holds files; refusing to overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    try:  # mkdir inside the try: an interrupt right after it still removes the folder
        tmp.mkdir()
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_workspace_atomic(target: str | Path, *args: Any, overwrite: bool = False, **kwargs: Any) -> Path:
    """:func:`inventory.workspace_write.write_workspace` through :func:`staged_folder`; returns ``target``."""
    from inventory.workspace_write import write_workspace

    with staged_folder(target, overwrite=overwrite) as tmp:
        write_workspace(tmp, *args, **kwargs)
    return Path(target)
