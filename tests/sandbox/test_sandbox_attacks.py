"""The attack corpus: every class is contained on bwrap and on docker (policy attacks bypass the validator)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sandbox.validator import validate_policy
from tests.sandbox._support import ISOLATING, REPO, backend_or_skip
from tests.sandbox.attacks import ATTACKS, run_attack
from tests.sandbox.attacks import containment


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ISOLATING)
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_contained(attack, backend_name, workspace_dir):
    backend = backend_or_skip(backend_name)
    if attack.kind == "host" and backend_name == "docker":
        pytest.skip("host-side attack: backend-independent, run on bwrap")
    outcome = run_attack(attack, backend, workspace_dir)
    assert outcome.contained, f"{attack.name} escaped on {backend_name}: {outcome.detail}"


def test_corpus_covers_every_class():
    names = {a.name for a in ATTACKS}
    required = {"fork_bomb", "memory_bomb", "infinite_loop", "huge_file_write", "connect_loopback",
                "connect_external", "read_root_only", "write_outside", "signal_host_pid", "tamper_evaluator",
                "env_canary_shell", "env_canary_policy", "partial_frame", "handle_leak", "deep_directory",
                "inode_quota", "memory_isolation", "validator_bypass", "runtime_tree_tamper"}
    assert required <= names
    assert any(n.startswith("read_hidden") for n in names)
    assert any(n.startswith("daemon") for n in names)


def test_validator_would_reject_the_policy_attacks():
    """The filter catches these too, but the tests above prove the boundary holds without it."""
    assert not validate_policy(containment._DAEMON).ok


def test_corpus_is_not_installed():
    """The corpus lives under tests/, and the matrix refuses a missing corpus with one line."""
    assert not (REPO / "sandbox" / "attacks.py").exists()
    res = subprocess.run([sys.executable, "-m", "sandbox.matrix", "--corpus", str(REPO / "nowhere")],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 2 and "no attack corpus" in res.stderr and "Traceback" not in res.stderr
