"""The README opens with the two commands a fresh machine needs, and CI runs the second verbatim."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _opening_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and text.index("```bash") < text.index("\n## "), "the README must open with its commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    install_and_run, tests = _opening_commands()
    assert "pip install -e ." in install_and_run and "evolve --workspace workspaces/" in install_and_run
    workspace = re.search(r"evolve --workspace (\S+)", install_and_run).group(1)
    assert (ROOT / workspace / "manifest.json").is_file(), workspace
    assert "--llm" not in install_and_run  # the built-in proposer: no API key
    assert tests.endswith("python3 -m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = _opening_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1].strip() == tests
