"""Class 2 (secrets): no host variable reaches a sandbox, on any backend.

A canary API key is set in this (host) process. It must not appear in ``env``,
``/proc/self/environ``, ``/proc/1/environ`` (bwrap's own pid 1) or any ``/proc/*/environ``
inside a shell sandbox, nor in the error text a hostile policy raises with its environment.
"""
from __future__ import annotations

import numpy as np
import pytest

from inventory.policy import PolicyError
from sandbox.host import SandboxHost
from sandbox.session import SandboxShellSession
from tests.sandbox.attacks.trust import ENV_DUMP_POLICY, ENV_DUMP_SHELL
from tests.security._sandbox_support import ALL_BACKENDS, backend, private_workspace, small_problem

CANARY = "sk-canary-7f3a9c1e5b2d4e6f8a0b1c2d3e4f5a6b"


@pytest.fixture
def canary(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("INVEVOLVE_TEST_SECRET", CANARY)
    return CANARY


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_shell_sees_no_host_variable(name, canary, tmp_path):
    b = backend(name)
    ws = private_workspace(tmp_path, hidden_mode=0o700)
    with SandboxShellSession(ws, b, timeout=30) as sh:
        res = sh.run(ENV_DUMP_SHELL)
    assert "PATH=" in res.output  # the dumps really ran
    assert canary not in res.output and "INVEVOLVE_TEST_SECRET" not in res.output


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_policy_error_text_carries_no_host_variable(name, canary):
    host = SandboxHost(small_problem(), backend(name))
    try:
        h = host.open(ENV_DUMP_POLICY, "env-dump")
        with pytest.raises(PolicyError) as err:
            h.mean_costs({"r": np.array([0.5])})
        text = str(err.value)
        assert "PATH" in text  # the policy did dump its environment
        assert canary not in text and "INVEVOLVE_TEST_SECRET" not in text
    finally:
        host.close()


def test_launchers_start_from_an_empty_environment(canary):
    from sandbox.environment import launcher_env, sandbox_env

    for env in (launcher_env(), sandbox_env()):
        assert canary not in env.values() and "OPENAI_API_KEY" not in env
