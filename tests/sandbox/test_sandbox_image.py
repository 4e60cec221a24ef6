"""`python -m sandbox.image`: a clean one-line error without docker."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.sandbox._support import REPO


def test_build_without_docker_is_one_clean_line(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock", "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", "sandbox.image", "build"], capture_output=True, text=True, env=env,
                         cwd=REPO, timeout=300)
    assert res.returncode == 1
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no docker engine" in errors[0] and "--no-docker" in errors[0]
    assert "Traceback" not in res.stderr
