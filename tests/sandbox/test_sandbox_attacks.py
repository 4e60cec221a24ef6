"""The attack corpus: every class is contained on bwrap and on docker (policy attacks bypass the validator)."""
from __future__ import annotations

import pytest

from sandbox.attacks import ATTACKS, run_attack
from sandbox.validator import validate_policy
from tests.sandbox._support import ISOLATING, backend_or_skip


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ISOLATING)
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_contained(attack, backend_name, workspace_dir):
    backend = backend_or_skip(backend_name)
    outcome = run_attack(attack, backend, workspace_dir)
    assert outcome.contained, f"{attack.name} escaped on {backend_name}: {outcome.detail}"


def test_corpus_covers_every_class():
    names = {a.name for a in ATTACKS}
    required = {"fork_bomb", "memory_bomb", "infinite_loop", "huge_file_write", "connect_loopback",
                "connect_external", "read_root_only", "write_outside", "signal_host_pid", "tamper_evaluator"}
    assert required <= names
    assert any(n.startswith("read_hidden") for n in names)
    assert any(n.startswith("daemon") for n in names)


def test_validator_would_reject_the_policy_attacks():
    """The filter catches these too, but the tests above prove the boundary holds without it."""
    from sandbox import attacks

    for src in (attacks._DAEMON,):
        assert not validate_policy(src).ok
