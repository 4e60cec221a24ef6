"""Environments for sandboxed processes: empty plus an allowlist, never the host's.

Two environments matter:

* :func:`sandbox_env` is what code *inside* a sandbox sees (``env``, ``/proc/self/environ``);
* :func:`launcher_env` is what the launcher process itself (``bwrap``, ``unshare``,
  ``setpriv``) is started with. bwrap forks its own pid 1 inside the new pid namespace
  before ``--clearenv`` applies to the command, so ``/proc/1/environ`` shows the
  launcher's environment; starting the launcher with the host environment would show
  every host variable (an API key, ``DOCKER_HOST``...) to the sandbox.

Nothing here reads ``os.environ``: no host variable can reach a sandbox by accident.
"""
from __future__ import annotations

from sandbox import image as img

LAUNCHER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sandbox_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of sandboxed code (``extra`` overrides entries, for degraded paths)."""
    env = {
        "PATH": f"{img.PY_DEST}/bin:/usr/bin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONPATH": img.PROJECT_DEST, "PYTHONDONTWRITEBYTECODE": "1",
        "LD_LIBRARY_PATH": f"{img.PY_DEST}/lib",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg", "TMPDIR": "/tmp",
    }
    env.update(extra or {})
    return env


def launcher_env() -> dict[str, str]:
    """The environment of the launcher process (bwrap, unshare): a PATH and a locale only."""
    return {"PATH": LAUNCHER_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
