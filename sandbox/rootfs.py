"""What goes into the sandbox runtime tree, and how it is copied from the host.

:mod:`sandbox.image` decides *when* a tree is built, where it lives and how it is verified;
this module decides *what* is in it (see that module's docstring for the layout): the
interpreter and standard library, the site-packages that :data:`RUNTIME_IMPORTS` load, the
shell tools and the shared-library closure of every binary, and a minimal ``/etc``. The
image key hashes this file too, so a changed recipe is a new tree.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

SANDBOX_UID = 65534
SANDBOX_GID = 65534
PY_DEST = "/opt/python"
PROJECT_DEST = "/opt/invevolve"
PROJECT_PACKAGES = ("inventory", "evaluation", "sandbox")

# Modules whose import closure defines the site-packages the sandbox needs.
RUNTIME_IMPORTS = (
    "numpy", "optuna", "tomli_w",
    "inventory.workspace_eval", "inventory.replay", "inventory.simulator", "inventory.workspace",
    "sandbox.worker",
)
STDLIB_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages",
               "pydoc_data", "__phello__"}
TOOLS = ("sh", "dash", "bash", "ls", "cat", "head", "tail", "wc", "grep", "sed", "awk", "mawk", "sort",
         "uniq", "cut", "tr", "find", "diff", "mkdir", "rm", "cp", "mv", "echo", "env", "timeout",
         "sleep", "touch", "printf", "true", "false", "test", "[", "pwd", "id", "stat", "du", "basename",
         "dirname", "xargs", "tee", "cmp", "md5sum", "sha256sum", "readlink", "ln", "chmod", "date", "seq",
         "nl", "paste", "expr", "yes", "kill", "uname")


def project_root() -> Path:
    """The checkout whose packages are bound into every sandbox."""
    return Path(__file__).resolve().parent.parent


def _site_dirs() -> list[Path]:
    paths = sysconfig.get_paths()
    out = []
    for key in ("purelib", "platlib"):
        p = Path(paths[key]).resolve()
        if p not in out:
            out.append(p)
    return out


def runtime_site_entries() -> list[str]:
    """Top-level site-packages entries loaded by :data:`RUNTIME_IMPORTS`, found in a child."""
    code = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(project_root())!r})\n"
        f"for m in {list(RUNTIME_IMPORTS)!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())})))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    files = json.loads(out.stdout.strip().splitlines()[-1])
    entries: set[str] = set()
    for site in _site_dirs():
        prefix = str(site) + os.sep
        for f in files:
            if f.startswith(prefix):
                top = f[len(prefix):].split(os.sep)[0]
                if top.endswith(".pth") or top.startswith("__editable__") or top.startswith("_distutils_hack"):
                    continue
                entries.add(top)
    # Bundled shared libraries (numpy.libs, ...) and metadata of the selected packages.
    extra = set()
    for site in _site_dirs():
        for child in site.iterdir():
            stem = child.name.split("-")[0].lower()
            for e in entries:
                base = e[:-3] if e.endswith(".py") else e.split(".")[0]
                if child.name == f"{base}.libs" or (child.name.endswith(".dist-info") and stem == base.lower()):
                    extra.add(child.name)
    return sorted(entries | extra)


def _ldd_deps(binary: Path) -> list[Path]:
    try:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    deps = []
    for line in out.stdout.splitlines():
        for tok in line.split():
            if tok.startswith("/") and Path(tok).exists():
                deps.append(Path(tok))
    return deps


def _copy_file(src: Path, dest_root: Path, dest_rel: str) -> None:
    dest = dest_root / dest_rel.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() or dest.is_symlink():
        return
    shutil.copy2(src, dest, follow_symlinks=True)


def _copytree(src: Path, dest: Path, skip: set[str] = frozenset()) -> None:
    def ignore(d: str, names: list[str]) -> set[str]:
        return {n for n in names if Path(d) == src and n in skip}
    shutil.copytree(src, dest, symlinks=True, ignore=ignore, dirs_exist_ok=True)


def populate(tree: Path, site_entries: list[str]) -> None:
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    prefix = Path(sys.base_prefix).resolve()
    py_root = tree / PY_DEST.lstrip("/")
    (py_root / "bin").mkdir(parents=True)
    real_py = Path(sys.executable).resolve()
    shutil.copy2(real_py, py_root / "bin" / ver)
    for alias in ("python3", "python"):
        (py_root / "bin" / alias).symlink_to(ver)
    libdir = prefix / "lib"
    (py_root / "lib").mkdir(parents=True)
    for so in libdir.glob("libpython*.so*"):
        shutil.copy2(so, py_root / "lib" / so.name, follow_symlinks=True)
    std_src = libdir / ver
    _copytree(std_src, py_root / "lib" / ver, skip=STDLIB_SKIP | {n for n in os.listdir(std_src) if n.startswith("config-")})
    site_dest = py_root / "lib" / ver / "site-packages"
    site_dest.mkdir(parents=True, exist_ok=True)
    for entry in site_entries:
        for site in _site_dirs():
            src = site / entry
            if src.is_dir():
                _copytree(src, site_dest / entry)
                break
            if src.is_file():
                shutil.copy2(src, site_dest / entry)
                break
    # Binaries: the interpreter, the shell tools; then the shared-library closure.
    binaries: list[Path] = [py_root / "bin" / ver]
    for tool in TOOLS:
        found = shutil.which(tool, path="/usr/bin:/bin")
        if not found:
            continue
        src = Path(found)
        _copy_file(src.resolve(), tree, f"/usr/bin/{tool}")
        binaries.append(tree / "usr/bin" / tool)
    if not (tree / "usr/bin/sh").exists() and (tree / "usr/bin/dash").exists():
        (tree / "usr/bin/sh").symlink_to("dash")
    for so in site_dest.rglob("*.so*"):
        binaries.append(so)
    for so in (py_root / "lib" / ver / "lib-dynload").glob("*.so"):
        binaries.append(so)
    seen: set[Path] = set()
    for b in binaries:
        for dep in _ldd_deps(b):
            if dep in seen or str(dep).startswith(str(tree)):
                continue
            seen.add(dep)
            rel = str(dep)
            if rel.startswith(str(prefix)):
                continue  # libpython, copied above
            _copy_file(dep, tree, rel)
            if dep.is_symlink():
                _copy_file(dep.resolve(), tree, str(dep.resolve()))
    # The interpreter's RUNPATH names the host prefix; make libpython findable by default too.
    lib64 = tree / "usr/lib64"
    lib64.mkdir(parents=True, exist_ok=True)
    for so in (py_root / "lib").glob("libpython*.so*"):
        if not (lib64 / so.name).exists():
            (lib64 / so.name).symlink_to(f"{PY_DEST}/lib/{so.name}")
    for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"), ("sbin", "usr/bin")):
        if not (tree / link).exists():
            if (tree / target).exists():
                (tree / link).symlink_to(target)
    # /lib64/ld-linux must exist under the symlinked layout.
    for d in ("tmp", "workspace", "proc", "dev", "sys", "run", PROJECT_DEST.lstrip("/")):
        (tree / d).mkdir(parents=True, exist_ok=True)
    for pkg in PROJECT_PACKAGES:
        (tree / PROJECT_DEST.lstrip("/") / pkg).mkdir(parents=True, exist_ok=True)
    os.chmod(tree / "tmp", 0o755)  # only a mount point: every backend mounts a private tmpfs there
    etc = tree / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                f"sandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:sandbox:/workspace:/bin/sh\n")
    (etc / "group").write_text(f"root:x:0:\nsandbox:x:{SANDBOX_GID}:\n")
    (etc / "hostname").write_text("sandbox\n")
    shadow = etc / "shadow"
    shadow.write_text("root:*:19000:0:99999:7:::\nsandbox:!:19000:0:99999:7:::\n")
    os.chmod(shadow, 0o600)
    if Path("/etc/ld.so.cache").exists():
        shutil.copy2("/etc/ld.so.cache", etc / "ld.so.cache")
    (tree / "MANIFEST.json").write_text(json.dumps({"site_entries": site_entries, "python": sys.version}, indent=1))
