"""``SandboxShellSession``: the agent's shell (:class:`sandbox.shell.ShellSession`) on a backend.

The session copies only :func:`inventory.workspace.agent_visible_files` (never ``hidden/``)
into a private temporary directory, and every command runs in a fresh sandbox that sees
that copy at ``/workspace`` (its cwd), the runtime tree, and the project packages
read-only, so ``python evaluation.py my_policy.py`` works inside. When a command ends, its
sandbox is torn down, so nothing it started keeps running between commands. The copy is
deleted on :meth:`close`; only bytes read out with :meth:`read_file` leave it.

After each command the copy's total size is checked against the quota; if a command blew
it, the largest files are deleted and the output says so.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from inventory.workspace import agent_visible_files
from sandbox.backends import SandboxBackend
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
        for rel in agent_visible_files(src):
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, target)
        self.backend.prepare_workdir(self.root)
        self._closed = False
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
        quota = self.backend.limits.workspace_quota_bytes
        files = []
        total = 0
        for dirpath, _, names in os.walk(self.root):
            for n in names:
                p = os.path.join(dirpath, n)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                files.append((st.st_size, p))
                total += st.st_size
        if total <= quota:
            return ""
        removed = []
        for size, p in sorted(files, reverse=True):
            if total <= quota:
                break
            try:
                os.unlink(p)
            except OSError:
                continue
            total -= size
            removed.append(os.path.relpath(p, self.root))
        log.warning("shell session exceeded its %d-byte quota; removed %s", quota, removed)
        return f"[workspace quota of {quota} bytes exceeded; removed: {', '.join(removed)}]"

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
        shutil.rmtree(self._tmp, ignore_errors=True)


def _sandbox_ids() -> tuple[int, int]:
    from sandbox.image import SANDBOX_GID, SANDBOX_UID
    return SANDBOX_UID, SANDBOX_GID
