"""The sandbox runtime root: a minimal root filesystem built from the host's Python.

Both isolating backends run untrusted code on the same small tree, never on the host's
``/``: bubblewrap binds it read-only as ``/``; docker imports it (``docker import``, no
registry involved) as the image ``invevolve-sandbox:<key>``. The tree holds

* the host's Python interpreter and standard library (tests, tkinter, idle left out),
  at ``/opt/python``;
* only the site-packages the worker and the agent's ``evaluation.py`` import at run time
  (found by importing them in a child interpreter and recording what was loaded), with
  their ``.libs`` folders and dist-info;
* a POSIX shell and a few text tools for agent shell sessions, plus the shared libraries
  every binary in the tree needs (``ldd`` closure);
* an ``/etc`` with ``passwd``/``group`` (uid 65534 is the sandbox user), the loader cache,
  and a root-only ``/etc/shadow`` decoy (so "reading root-only files" is a meaningful test).

The project packages (``inventory``, ``evaluation``, ``sandbox``) are *not* baked in: the
backends bind the live source read-only at ``/opt/invevolve``, so editing the project does
not require a rebuild. The tree is keyed by the interpreter, the selected packages'
versions and this file's recipe; a changed key means a new tree and a new image tag.

CLI::

    python -m sandbox.image build [--no-docker] [--force]   # build tree (+ docker image)
    python -m sandbox.image path                            # print the tree's path
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import logging
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sandbox import rootfs
from sandbox.rootfs import (  # noqa: F401 - the layout constants are re-exported for the backends
    PROJECT_DEST, PROJECT_PACKAGES, PY_DEST, SANDBOX_GID, SANDBOX_UID, populate, project_root, runtime_site_entries)
from sandbox.treecheck import UntrustedCache, check_private_dir, verify_tree, write_manifest

log = logging.getLogger(__name__)

IMAGE_REPO = "invevolve-sandbox"
RECIPE_VERSION = 4


def cache_dir() -> Path:
    """Where runtime trees live: ``$INVEVOLVE_SANDBOX_CACHE``, else a directory that no other
    user can write into or pre-create: ``/var/cache/invevolve-sandbox`` for root,
    ``$XDG_CACHE_HOME/invevolve-sandbox`` (``~/.cache/...``) otherwise.

    As root the tree must be readable by the unprivileged sandbox uid, which home
    directories (``/root``) usually are not; ``/var/cache`` is root-owned and not
    world-writable (``/var/tmp`` is, which let another user plant a tree). Whatever the
    location, :func:`ensure_runtime_root` refuses a directory that is not private to us.
    """
    env = os.environ.get("INVEVOLVE_SANDBOX_CACHE")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/cache/invevolve-sandbox")
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "invevolve-sandbox"


def _package_versions(entries: list[str]) -> list[str]:
    return sorted(e for e in entries if e.endswith(".dist-info"))


@dataclass(frozen=True)
class RuntimeRoot:
    """A built runtime tree and the docker tag that corresponds to it."""

    path: Path
    key: str

    @property
    def image_tag(self) -> str:
        return f"{IMAGE_REPO}:{self.key}"

    @property
    def python(self) -> str:
        """The interpreter's path *inside* the sandbox."""
        return f"{PY_DEST}/bin/python3"

    @property
    def site_packages(self) -> str:
        return f"{PY_DEST}/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


_KEY: tuple[str, list[str]] | None = None


def runtime_key() -> tuple[str, list[str]]:
    """(key, site entries): key hashes the interpreter, selected packages and the recipe.

    Computed once per process (it imports the runtime modules in a child interpreter).
    """
    global _KEY
    if _KEY is None:
        _KEY = _compute_key()
    return _KEY[0], list(_KEY[1])


def _compute_key() -> tuple[str, list[str]]:
    entries = runtime_site_entries()
    h = hashlib.sha256()
    h.update(f"{RECIPE_VERSION}|{sys.version}|{sys.prefix}|{sys.platform}".encode())
    for e in entries:
        h.update(e.encode() + b"\0")
    for recipe in (Path(__file__), Path(rootfs.__file__)):  # the recipe is both files
        h.update(recipe.read_bytes())
    return h.hexdigest()[:12], entries


_VERIFIED: dict[Path, float] = {}  # tree -> manifest mtime, verified in this process


def _make_private_dir(base: Path) -> None:
    if not base.exists():
        old = os.umask(0o022)
        try:
            base.mkdir(parents=True, mode=0o755, exist_ok=True)
        finally:
            os.umask(old)
    check_private_dir(base)


def process_state() -> dict:
    """What this process learnt about runtime trees, for the local processes it spawns.

    They run the same interpreter, so this process's runtime key is theirs too, and a tree
    verified here whose manifest has not changed since is not re-hashed there: the same
    memo a single process keeps (:data:`_VERIFIED`), not a weaker one.
    """
    return {"key": None if _KEY is None else [_KEY[0], list(_KEY[1])],
            "verified": {str(tree): stamp for tree, stamp in _VERIFIED.items()}}


def adopt_process_state(state: dict) -> None:
    """Take over :func:`process_state` from the process that spawned this one."""
    global _KEY
    if _KEY is None and state.get("key"):
        _KEY = (str(state["key"][0]), [str(e) for e in state["key"][1]])
    for tree, stamp in dict(state.get("verified", {})).items():
        _VERIFIED.setdefault(Path(tree), float(stamp))


def ensure_runtime_root(force: bool = False) -> RuntimeRoot:
    """The verified runtime tree for this interpreter and recipe, built or rebuilt if needed.

    The cache directory must be private to us (:func:`sandbox.treecheck.check_private_dir`,
    else :class:`UntrustedCache`). A cached tree is used only if it matches its manifest
    (owner, modes, the exact set of entries, SHA-256 of every file); a tree that does not
    is logged and rebuilt. Verification runs once per tree per process (about a second).
    """
    key, entries = runtime_key()
    base = cache_dir()
    _make_private_dir(base)
    final = base / f"rootfs-{key}"
    manifest = base / f"rootfs-{key}.manifest.json"
    with open(base / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if final.exists() and not force:
            stamp = manifest.stat().st_mtime if manifest.exists() else -1.0
            if _VERIFIED.get(final) == stamp:
                return RuntimeRoot(final, key)
            problem = verify_tree(final, manifest)
            if problem is None:
                _VERIFIED[final] = stamp
                return RuntimeRoot(final, key)
            log.warning("sandbox runtime tree %s failed verification (%s); rebuilding it", final, problem)
        log.info("building sandbox runtime root %s (%d site-packages entries)", final, len(entries))
        tmp = Path(tempfile.mkdtemp(prefix="build-", dir=base))
        try:
            os.chmod(tmp, 0o755)
            populate(tmp, entries)
            _strip_write_bits(tmp)
            if final.exists() or final.is_symlink():
                _discard(final)
            tmp.rename(final)
            write_manifest(final, manifest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        problem = verify_tree(final, manifest)
        if problem is not None:
            raise UntrustedCache(f"freshly built runtime tree {final} does not verify: {problem}")
        _VERIFIED[final] = manifest.stat().st_mtime
    log.info("sandbox runtime root ready: %s", final)
    _prune(base, keep=final)
    return RuntimeRoot(final, key)


def _discard(path: Path) -> None:
    """Remove a tree that failed verification (ours: the cache directory is private)."""
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:  # a planted tree may hold directories we cannot enter
            try:
                os.chmod(os.path.join(dirpath, d), 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
    shutil.rmtree(path)


def _strip_write_bits(tree: Path) -> None:
    """No entry of the tree may be writable by group or others (the verifier insists)."""
    for dirpath, dirnames, filenames in os.walk(tree):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if not os.path.islink(p) and st.st_mode & 0o022:
                os.chmod(p, stat.S_IMODE(st.st_mode) & ~0o022)


def _prune(base: Path, keep: Path, max_age_s: float = 86_400) -> None:
    """Delete runtime trees of older keys that nobody touched for a day."""
    import time

    for old in base.glob("rootfs-*"):
        if old == keep or old.name == keep.name + ".manifest.json":
            continue
        try:
            if time.time() - old.stat().st_mtime > max_age_s:
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink()
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sandbox.image", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the runtime tree and, when an engine answers, the docker image")
    b.add_argument("--no-docker", action="store_true", help="build only the tree (bubblewrap needs no more)")
    b.add_argument("--force", action="store_true", help="rebuild even if present")
    sub.add_parser("path", help="print the runtime tree's path (building it if needed)")
    sub.add_parser("verify", help="check the cached tree against its manifest (owner, modes, hashes)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.cmd == "verify":
            key, _ = runtime_key()
            base = cache_dir()
            check_private_dir(base)
            problem = verify_tree(base / f"rootfs-{key}", base / f"rootfs-{key}.manifest.json")
            sys.stdout.write(f"{base / f'rootfs-{key}'}: {problem or 'ok'}\n")
            return 0 if problem is None else 1
        root = ensure_runtime_root(force=getattr(args, "force", False))
        if args.cmd == "path":
            sys.stdout.write(f"{root.path}\n")
            return 0
        if args.no_docker:
            return 0
        from sandbox.dockerimage import build_docker_image

        tag = build_docker_image(root, force=args.force)
    except (UntrustedCache, RuntimeError, OSError) as exc:  # DockerUnavailable is a RuntimeError
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(f"{tag}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
