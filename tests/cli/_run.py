"""Run the CLIs as a user would: a subprocess with PYTHONPATH at this checkout."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Done:
    rc: int
    stdout: str
    stderr: str

    def error_lines(self, prog: str) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(f"{prog}: error:")]

    def one_error(self, prog: str) -> str:
        """The single `PROG: error: ...` line; asserts there is exactly one and no traceback."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.error_lines(prog)
        assert len(lines) == 1, self.stderr
        return lines[0]


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "DOCKER_HOST")}
    out["PYTHONPATH"] = str(ROOT)
    out.update(extra)
    return out


def run(module: str, *args: str, timeout: float = 300, cwd: Path | None = None, **extra_env: str) -> Done:
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=timeout,
                          env=env(**extra_env), cwd=cwd or ROOT)
    return Done(proc.returncode, proc.stdout, proc.stderr)


def evolve(*args: str, **kw) -> Done:
    return run("cli.evolve_cmd", *args, **kw)


def invevolve(*args: str, **kw) -> Done:
    return run("cli.main", *args, **kw)


def undocumented_files(run_dir: Path) -> list[str]:
    """Files in ``run_dir`` that docs/run-directory.md does not name (ids normalised to <id>/<episode>)."""
    doc = (ROOT / "docs" / "run-directory.md").read_text(encoding="utf-8")
    missing = []
    for p in sorted(run_dir.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(run_dir).as_posix()
        if rel.startswith("candidates/"):
            rel = "candidates/<id>.py"
        elif rel.startswith("agent/inflight/"):
            rel = "inflight/<episode>.json"
        elif rel.startswith("agent/"):
            rel = rel.split("/", 1)[1]
        if rel not in doc:
            missing.append(rel)
    return missing
