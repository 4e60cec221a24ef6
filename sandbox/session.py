"""``SandboxShellSession``: the agent's shell (:class:`sandbox.shell.ShellSession`) on a backend.

The session copies only :func:`inventory.workspace.agent_visible_files` (never ``hidden/``)
into a private temporary directory, and every command runs in a fresh sandbox that sees
that copy at ``/workspace`` (its cwd), the runtime tree, and the project packages
read-only, so ``python evaluation.py my_policy.py`` works inside. When a command ends, its
sandbox is torn down, so nothing it started keeps running between commands. The copy is
deleted on :meth:`close`; only bytes read out with :meth:`read_file` leave it.

After each command the copy is checked against three quotas (:class:`sandbox.limits.Limits`):
directory depth (deeper subtrees are deleted), entries (files, directories and links, so
a flood of empty files counts; the newest entries the commands created are deleted) and
bytes (the largest files are deleted); the output says what was removed. The walk and the
deletion use :mod:`sandbox.fstree` (no recursion, no path-length limit), so a 1,200-deep
tree cannot crash the session or its cleanup.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from inventory.workspace import HIDDEN_DIR, agent_visible_files
from sandbox import fstree
from sandbox.backends.base import SandboxBackend
from sandbox.shell import CommandResult, ShellSession

log = logging.getLogger(__name__)


class SandboxShellSession(ShellSession):
    def __init__(self, workspace_root: Path, backend: SandboxBackend, *, timeout: float = 30, max_output: int = 8000):
        self.backend = backend
        self.timeout = float(timeout)
        self.max_output = int(max_output)
        self._tmp = Path(tempfile.mkdtemp(prefix="invevolve-shell-"))
        os.chmod(self._tmp, 0o711)
        self.root = self._tmp / "ws"
        self.root.mkdir()
        src = Path(workspace_root)
        self._closed = False
        try:
            backend.guard_hidden([src / HIDDEN_DIR])
            self._original: set[tuple[str, ...]] = set()
            for rel in agent_visible_files(src):
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src / rel, target)
                parts = Path(rel).parts
                self._original.update(parts[:i] for i in range(1, len(parts) + 1))
            self.backend.prepare_workdir(self.root)
        except BaseException:
            self.close()
            raise
        log.debug("shell session on %s: copy of %s at %s", backend.name, src, self.root)

    # ------------------------------------------------------------ paths

    def _resolve(self, rel_path: str) -> Path:
        if not isinstance(rel_path, str) or not rel_path or "\0" in rel_path:
            raise ValueError(f"invalid path {rel_path!r}")
        if os.path.isabs(rel_path):
            raise ValueError(f"path {rel_path!r} must be relative to the workspace")
        target = (self.root / rel_path)
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(target)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise ValueError(f"path {rel_path!r} escapes the workspace")
        return Path(real)

    # ------------------------------------------------------------ ShellSession

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        if self._closed:
            raise RuntimeError("shell session is closed")
        res = self.backend.run_command(self.root, command, float(timeout or self.timeout), self.max_output)
        note = self._enforce_quota()
        if note:
            out = (res.output + "\n" + note)
            return CommandResult(res.exit_code, out, res.timed_out, res.truncated)
        return res

    def _enforce_quota(self) -> str:
        """Apply the depth, entry and byte quotas to the copy; a note for the output if anything went."""
        lim = self.backend.limits
        notes = []
        usage = fstree.scan(self.root, lim.workspace_max_depth,
                            on_too_deep=lambda fd, name: fstree.remove_at(fd, name, self._tmp))
        if usage.too_deep:
            notes.append(f"[workspace depth limit of {lim.workspace_max_depth} directories exceeded; removed "
                         f"{len(usage.too_deep)} subtree(s) under {'/'.join(usage.too_deep[0][:3])}/...]")
        count = usage.count
        if count > lim.workspace_quota_entries:
            removed, gone = 0, []
            created = [e for e in usage.entries if e.parts not in self._original]
            created.sort(key=lambda e: (e.mtime, len(e.parts)), reverse=True)
            dead: set[tuple[str, ...]] = set()
            for e in created:
                if count <= lim.workspace_quota_entries:
                    break
                if any(e.parts[:i] in dead for i in range(1, len(e.parts))):
                    continue
                try:
                    fstree.remove_parts(self.root, e.parts, self._tmp)
                except OSError:
                    continue
                dead.add(e.parts)
                count -= e.subtree_entries
                usage.total_bytes -= e.subtree_bytes
                removed += e.subtree_entries
                if len(gone) < 3:
                    gone.append("/".join(e.parts))
            notes.append(f"[workspace entry quota of {lim.workspace_quota_entries} files/directories exceeded "
                         f"({usage.count}); removed {removed} of the newest, e.g. {', '.join(gone)}]")
            usage = fstree.scan(self.root, lim.workspace_max_depth)
        quota = lim.workspace_quota_bytes
        total = usage.total_bytes
        if total > quota:
            removed_files = []
            for e in sorted((e for e in usage.entries if not e.is_dir), key=lambda e: e.size, reverse=True):
                if total <= quota:
                    break
                try:
                    fstree.remove_parts(self.root, e.parts, self._tmp)
                except OSError:
                    continue
                total -= e.size
                removed_files.append("/".join(e.parts))
            notes.append(f"[workspace quota of {quota} bytes exceeded; removed: {', '.join(removed_files)}]")
        if notes:
            log.warning("shell session quotas: %s", " ".join(notes))
        return "\n".join(notes)

    def read_file(self, rel_path: str, max_bytes: int = 200_000) -> bytes | None:
        try:
            path = self._resolve(rel_path)
        except ValueError:
            raise
        if not path.is_file():
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            if not os.path.samestat(os.fstat(fd), os.stat(path)) or not os.path.isfile(path):
                return None
            return os.read(fd, max_bytes)
        finally:
            os.close(fd)

    def write_file(self, rel_path: str, data: bytes) -> None:
        path = self._resolve(rel_path)
        if path.is_dir():
            raise ValueError(f"{rel_path!r} is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".invevolve-tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(data))
        os.replace(tmp, path)
        rel = Path(os.path.relpath(path, os.path.realpath(self.root))).parts
        self._original.update(rel[:i] for i in range(1, len(rel) + 1))  # the tool's own writes are kept
        # Hand the new file and any new parents to the sandbox user.
        p = path
        while True:
            if os.geteuid() == 0:
                os.chown(p, *_sandbox_ids(), follow_symlinks=False)
            else:
                os.chmod(p, 0o777 if p.is_dir() else 0o666)
            if p.parent == Path(os.path.realpath(self.root)) or p == p.parent:
                break
            p = p.parent

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            fstree.remove_tree(self._tmp)
        except OSError as exc:
            log.warning("could not delete shell session copy %s: %s", self._tmp, exc)


def _sandbox_ids() -> tuple[int, int]:
    from sandbox.image import SANDBOX_GID, SANDBOX_UID
    return SANDBOX_UID, SANDBOX_GID
