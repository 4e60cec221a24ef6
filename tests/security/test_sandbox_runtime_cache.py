"""Class 4 (untrusted caches): the runtime tree is used only when private to us and unchanged."""
from __future__ import annotations

import os

import pytest

from sandbox import image as img
from sandbox.backends import SandboxUnavailable
from sandbox.treecheck import UntrustedCache, check_private_dir, verify_tree, write_manifest


def _tree(tmp_path):
    base = tmp_path / "cache"
    tree = base / "rootfs-x"
    (tree / "opt" / "site-packages").mkdir(parents=True)
    (tree / "opt" / "site-packages" / "numpy.py").write_text("x = 1\n")
    (tree / "bin").mkdir()
    (tree / "bin" / "sh").write_text("#!\n")
    os.symlink("sh", tree / "bin" / "dash")
    for d in (tmp_path, base):
        os.chmod(d, 0o755)
    manifest = base / "rootfs-x.manifest.json"
    write_manifest(tree, manifest)
    assert verify_tree(tree, manifest) is None
    return tree, manifest


def test_planted_file_is_detected(tmp_path):
    tree, manifest = _tree(tmp_path)
    (tree / "opt" / "site-packages" / "sitecustomize.py").write_text("import os\n")
    assert "unexpected entry" in verify_tree(tree, manifest)


def test_same_size_content_change_is_detected(tmp_path):
    tree, manifest = _tree(tmp_path)
    (tree / "opt" / "site-packages" / "numpy.py").write_text("x = 2\n")
    assert "content differs" in verify_tree(tree, manifest)


def test_mode_owner_and_link_changes_are_detected(tmp_path):
    tree, manifest = _tree(tmp_path)
    os.chmod(tree / "bin" / "sh", 0o666)
    assert "changed" in verify_tree(tree, manifest) or "writable" in verify_tree(tree, manifest)
    os.chmod(tree / "bin" / "sh", 0o644)
    assert verify_tree(tree, manifest) is None
    os.unlink(tree / "bin" / "dash")
    os.symlink("/tmp/evil", tree / "bin" / "dash")
    assert "changed" in verify_tree(tree, manifest)
    if os.geteuid() == 0:
        os.unlink(tree / "bin" / "dash")
        os.symlink("sh", tree / "bin" / "dash")
        os.chown(tree / "bin" / "sh", 65534, 65534)
        assert "owned by uid 65534" in verify_tree(tree, manifest)


def test_world_writable_or_foreign_cache_is_refused(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    d.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o777)
    with pytest.raises(UntrustedCache, match="writable only by it"):
        check_private_dir(d)
    os.chmod(d, 0o755)
    check_private_dir(d)
    if os.geteuid() == 0:
        os.chown(d, 65534, 65534)  # pre-created by another user
        with pytest.raises(UntrustedCache, match="owned by uid 65534"):
            check_private_dir(d)
        monkeypatch.setenv("INVEVOLVE_SANDBOX_CACHE", str(d))
        from sandbox.backends import BwrapBackend
        with pytest.raises(SandboxUnavailable, match="owned by uid 65534"):
            _ = BwrapBackend().root


def test_default_cache_is_not_under_a_world_writable_directory(monkeypatch):
    monkeypatch.delenv("INVEVOLVE_SANDBOX_CACHE", raising=False)
    path = img.cache_dir()
    for parent in path.parents:
        if parent.exists():
            assert not parent.stat().st_mode & 0o002, parent
            break
