"""Trust checks for the cached runtime tree: owner, permissions and content hashes.

The runtime tree is the root filesystem of every sandbox (and, in degraded mode, the
interpreter that runs as the caller). A tree someone else could write would let them plant
code (a ``sitecustomize.py``) that runs with our privileges. So before a cached tree is
used:

* the cache directory and every ancestor must be owned by root or by us, and not writable
  by group or others (a world-writable ancestor is accepted only with the sticky bit, as
  ``/tmp``: others cannot rename our entries there). The default cache is not under a
  world-writable directory at all (:func:`sandbox.image.cache_dir`);
* every entry of the tree must be owned by us and not group/other-writable, and the tree
  must match its manifest (written at build time beside the tree, not inside it) exactly:
  the same set of paths, types, modes, sizes, symlink targets and SHA-256 of every file.

:func:`verify_tree` returns the first mismatch (the caller rebuilds); an untrusted cache
*directory* raises :class:`UntrustedCache` (we do not delete what we do not own).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


class UntrustedCache(RuntimeError):
    """The runtime-tree cache directory is not private to us (the message says why and what to do)."""


def check_private_dir(path: Path) -> None:
    """Raise :class:`UntrustedCache` unless ``path`` (a directory) and its ancestors are safe for us."""
    me = os.geteuid()
    real = Path(os.path.realpath(path))
    st = os.lstat(real)
    if not stat.S_ISDIR(st.st_mode):
        raise UntrustedCache(f"sandbox cache {real} is not a directory")
    if st.st_uid != me or st.st_mode & 0o022:
        raise UntrustedCache(
            f"sandbox cache {real} is owned by uid {st.st_uid} with mode {stat.S_IMODE(st.st_mode):o}; it must be "
            f"owned by uid {me} and writable only by it. Remove it, or set INVEVOLVE_SANDBOX_CACHE to a private directory")
    for parent in real.parents:
        pst = os.lstat(parent)
        if pst.st_uid not in (0, me):
            raise UntrustedCache(f"sandbox cache {real}: ancestor {parent} is owned by uid {pst.st_uid}")
        if pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX:
            raise UntrustedCache(f"sandbox cache {real}: ancestor {parent} is writable by others without the "
                                 f"sticky bit (mode {stat.S_IMODE(pst.st_mode):o})")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _entries(tree: Path) -> dict[str, tuple[str, int, int, str, int]]:
    """rel path -> (kind, mode, size, link target or '', owner uid); files get their hash later."""
    out: dict[str, tuple[str, int, int, str, int]] = {}
    stack = [tree]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                st = e.stat(follow_symlinks=False)
                rel = os.path.relpath(e.path, tree)
                mode = stat.S_IMODE(st.st_mode)
                if stat.S_ISLNK(st.st_mode):
                    out[rel] = ("link", mode, 0, os.readlink(e.path), st.st_uid)
                elif stat.S_ISDIR(st.st_mode):
                    out[rel] = ("dir", mode, 0, "", st.st_uid)
                    stack.append(Path(e.path))
                elif stat.S_ISREG(st.st_mode):
                    out[rel] = ("file", mode, st.st_size, "", st.st_uid)
                else:
                    out[rel] = ("other", mode, 0, "", st.st_uid)
    return out


def _hashes(tree: Path, files: list[str]) -> dict[str, str]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # hashlib releases the GIL on large reads
        return dict(zip(files, pool.map(lambda rel: _sha256(tree / rel), files)))


def write_manifest(tree: Path, manifest: Path) -> None:
    """Record every entry of ``tree`` (with file hashes) in ``manifest``."""
    entries = _entries(tree)
    hashes = _hashes(tree, [r for r, v in entries.items() if v[0] == "file"])
    data = {rel: [k, mode, size, hashes.get(rel, target)] for rel, (k, mode, size, target, _) in sorted(entries.items())}
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    os.chmod(tmp, 0o644)
    os.replace(tmp, manifest)


def verify_tree(tree: Path, manifest: Path) -> str | None:
    """None when ``tree`` is ours and matches ``manifest`` exactly; else the first mismatch."""
    me = os.geteuid()
    for p in (tree, manifest):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return f"{p} is missing"
        if st.st_uid != me or st.st_mode & 0o022:
            return f"{p} is owned by uid {st.st_uid} with mode {stat.S_IMODE(st.st_mode):o}"
    try:
        expected = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable manifest {manifest}: {exc}"
    found = _entries(tree)
    extra = sorted(set(found) - set(expected))
    if extra:
        return f"unexpected entry {extra[0]} (and {len(extra) - 1} more)"
    missing = sorted(set(expected) - set(found))
    if missing:
        return f"missing entry {missing[0]} (and {len(missing) - 1} more)"
    files = []
    for rel, (kind, mode, size, target, uid) in found.items():
        ek, emode, esize, edigest = expected[rel]
        if uid != me:
            return f"{rel} is owned by uid {uid}, not {me}"
        if (kind, mode, size) != (ek, emode, esize) or (kind == "link" and target != edigest):
            return f"{rel} changed ({kind} {mode:o} {size} vs {ek} {emode:o} {esize})"
        if mode & 0o022 and kind != "link":
            return f"{rel} is writable by others (mode {mode:o})"
        if kind == "file":
            files.append(rel)
    for rel, digest in _hashes(tree, files).items():
        if digest != expected[rel][3]:
            return f"{rel} content differs from the manifest"
    return None
