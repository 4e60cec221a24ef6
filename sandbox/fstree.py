"""Walking and deleting directory trees a sandbox wrote, without recursion or long paths.

An agent shell can build a tree 1,200 directories deep (``RecursionError`` in ``os.walk``
and ``shutil.rmtree`` on Python 3.11) whose full paths exceed ``PATH_MAX``. Everything here
works on directory file descriptors (``openat``/``unlinkat`` through ``dir_fd``), never
follows a symlink, keeps an explicit stack instead of recursing, and bounds the number of
descriptors it holds: :func:`remove_tree` moves any subtree deeper than ``max_fds`` into a
trash directory at depth one and deletes it from there, so the depth of the tree does not
matter. These functions run while no sandboxed process is alive (between commands).
"""
from __future__ import annotations

import itertools
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass
class Entry:
    """One entry of a scanned tree: path components from the root, and its subtree totals."""

    parts: tuple[str, ...]
    is_dir: bool
    size: int
    mtime: float
    subtree_entries: int = 1
    subtree_bytes: int = 0


@dataclass
class Usage:
    entries: list[Entry] = field(default_factory=list)
    total_bytes: int = 0
    too_deep: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.entries)


def _open_dir(name: str, dir_fd: int | None) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=dir_fd)  # a directory the sandbox made unreadable (mode 000)
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


def _list(fd: int) -> list[tuple[str, os.stat_result]]:
    out = []
    with os.scandir(fd) as it:
        for e in it:
            try:
                out.append((e.name, os.stat(e.name, dir_fd=fd, follow_symlinks=False)))
            except OSError:
                continue
    return out


def scan(root: Path, max_depth: int, on_too_deep: Callable[[int, str], None] | None = None) -> Usage:
    """Every entry under ``root`` (not ``root`` itself), depth-first, without recursion.

    A directory at depth ``max_depth`` that has a subdirectory hands that subdirectory to
    ``on_too_deep(parent_fd, name)`` (which typically removes it) instead of descending,
    and records it in ``Usage.too_deep``. Subtree totals are filled in post-order.
    """
    usage = Usage()
    root_fd = _open_dir(str(root), None)
    # stack items: (fd, parts, listing, index, entry of this dir or None for the root)
    stack: list[list] = [[root_fd, (), _list(root_fd), 0, None]]
    try:
        while stack:
            top = stack[-1]
            fd, parts, listing, i, me = top
            if i >= len(listing):
                os.close(fd)
                stack.pop()
                if me is not None and stack and stack[-1][4] is not None:
                    parent = stack[-1][4]
                    parent.subtree_entries += me.subtree_entries
                    parent.subtree_bytes += me.subtree_bytes
                continue
            top[3] = i + 1
            name, st = listing[i]
            child_parts = parts + (name,)
            is_dir = stat.S_ISDIR(st.st_mode)
            size = 0 if is_dir else st.st_size
            entry = Entry(child_parts, is_dir, size, st.st_mtime, 1, size)
            if is_dir and len(child_parts) > max_depth:
                usage.too_deep.append(child_parts)
                if on_too_deep is not None:
                    on_too_deep(fd, name)
                continue
            usage.entries.append(entry)
            usage.total_bytes += size
            if me is not None and not is_dir:
                me.subtree_entries += 1
                me.subtree_bytes += size
            if is_dir:
                try:
                    cfd = _open_dir(name, fd)
                except OSError:
                    continue
                stack.append([cfd, child_parts, _list(cfd), 0, entry])
    finally:
        for item in stack:
            try:
                os.close(item[0])
            except OSError:
                pass
    return usage


def remove_at(parent_fd: int, name: str, trash_parent: Path, max_fds: int = 32) -> None:
    """Delete ``name`` (file, link or whole directory tree) in the directory ``parent_fd``.

    Subtrees deeper than ``max_fds`` are renamed into a private trash directory under
    ``trash_parent`` (same filesystem) and deleted from there, so at most ``max_fds``
    descriptors are held however deep the tree is.
    """
    st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=parent_fd)
        return
    trash = tempfile.mkdtemp(prefix=".invevolve-rm-", dir=trash_parent)
    trash_fd = _open_dir(trash, None)
    names = (str(i) for i in itertools.count())
    try:
        first = next(names)
        os.rename(name, first, src_dir_fd=parent_fd, dst_dir_fd=trash_fd)
        queue = [first]
        while queue:
            top_name = queue.pop()
            stack = [[trash_fd, top_name, _open_dir(top_name, trash_fd), None, 0]]
            while stack:
                item = stack[-1]
                pfd, nm, fd, listing, i = item
                if listing is None:
                    item[3] = listing = _list(fd)
                if i >= len(listing):
                    os.close(fd)
                    os.rmdir(nm, dir_fd=pfd)
                    stack.pop()
                    continue
                item[4] = i + 1
                child, cst = listing[i]
                if not stat.S_ISDIR(cst.st_mode):
                    os.unlink(child, dir_fd=fd)
                elif len(stack) >= max_fds:
                    moved = next(names)
                    os.rename(child, moved, src_dir_fd=fd, dst_dir_fd=trash_fd)
                    queue.append(moved)
                else:
                    stack.append([fd, child, _open_dir(child, fd), None, 0])
    finally:
        os.close(trash_fd)
        try:
            os.rmdir(trash)
        except OSError:
            pass


def remove_tree(path: Path, max_fds: int = 32) -> None:
    """``shutil.rmtree`` without recursion or path-length limits; a missing path is fine."""
    path = Path(path)
    try:
        parent_fd = _open_dir(str(path.parent), None)
    except FileNotFoundError:
        return
    try:
        remove_at(parent_fd, path.name, path.parent, max_fds)
    except FileNotFoundError:
        pass
    finally:
        os.close(parent_fd)


def open_parts(root_fd: int, parts: tuple[str, ...]) -> int:
    """The directory fd of ``root/parts[0]/.../parts[-1]``, never following a symlink."""
    fd = os.dup(root_fd)
    for p in parts:
        nfd = _open_dir(p, fd)
        os.close(fd)
        fd = nfd
    return fd


def remove_parts(root: Path, parts: tuple[str, ...], trash_parent: Path) -> None:
    """Delete the entry ``root/parts...`` (any depth, any path length)."""
    root_fd = _open_dir(str(root), None)
    try:
        parent = open_parts(root_fd, parts[:-1])
        try:
            remove_at(parent, parts[-1], trash_parent)
        finally:
            os.close(parent)
    finally:
        os.close(root_fd)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """chown (root) every entry of ``root``, no recursion, no symlink followed."""
    os.chown(root, uid, gid, follow_symlinks=False)
    usage = scan(root, max_depth=10_000)
    root_fd = _open_dir(str(root), None)
    try:
        for e in usage.entries:
            parent = open_parts(root_fd, e.parts[:-1])
            try:
                os.chown(e.parts[-1], uid, gid, dir_fd=parent, follow_symlinks=False)
            finally:
                os.close(parent)
    finally:
        os.close(root_fd)
