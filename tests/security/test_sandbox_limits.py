"""Class 7 (limits), sandbox side: an inode quota, and one candidate's memory cannot kill others."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from inventory.policy import PolicyError
from sandbox import fstree
from sandbox.host import SandboxHost
from sandbox.limits import Limits
from sandbox.session import SandboxShellSession
from tests.sandbox.attacks.trust import MEMORY_BOMB
from tests.security._sandbox_support import BENIGN, backend, private_workspace, small_problem

PARAMS = {"S": np.array([10.0, 20.0, 30.0])}


@pytest.mark.parametrize("name", ["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def test_empty_files_hit_the_entry_quota(name, tmp_path):
    lim = Limits(workspace_quota_entries=500)
    b = backend(name)
    b = type(b)(lim)
    ws = private_workspace(tmp_path)
    with SandboxShellSession(ws, b, timeout=120) as sh:
        res = sh.run("python3 -c \"[open('e%d' % i, 'w').close() for i in range(3000)]\"; echo made")
        assert "made" in res.output and "entry quota of 500" in res.output
        assert fstree.scan(sh.root, 100).count <= 500
        assert (sh.root / "evaluation.py").exists()  # the workspace itself is kept


def test_limits_keep_one_candidate_below_the_sandbox():
    with pytest.raises(ValueError, match="candidate_memory_bytes"):
        Limits(memory_bytes=1 << 30, candidate_memory_bytes=1 << 30)


@pytest.mark.parametrize("name", ["bwrap", pytest.param("docker", marks=pytest.mark.docker),
                                  pytest.param("degraded", marks=pytest.mark.slow)])
def test_memory_bomb_dies_alone(name):
    """The bomb fails; an open benign candidate, a later one and a concurrent host all score unchanged."""
    b = backend(name)
    host = SandboxHost(small_problem(), b)
    other = SandboxHost(small_problem(), b)
    try:
        bystander = host.open(BENIGN, "bystander")
        before = bystander.mean_costs(PARAMS)
        neighbour = other.open(BENIGN, "neighbour")
        results, stop = [], threading.Event()

        def keep_scoring() -> None:
            while not stop.is_set():
                results.append(neighbour.mean_costs(PARAMS))

        t = threading.Thread(target=keep_scoring)
        t.start()
        bomb = host.open(MEMORY_BOMB, "bomb")
        try:
            with pytest.raises(PolicyError, match="MemoryError|memory"):
                bomb.mean_costs({"r": np.array([0.5])})
        finally:
            stop.set()
            t.join(60)
        assert results and all(np.array_equal(r, before) for r in results)
        assert np.array_equal(bystander.mean_costs(PARAMS), before)
        assert np.array_equal(host.open(BENIGN, "later").mean_costs(PARAMS), before)
        assert host.recycles == 0 and other.recycles == 0
    finally:
        host.close()
        other.close()
