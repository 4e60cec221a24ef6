"""Class 5 (crashes), sandbox side: partial frames, leaked handles, a killed worker, deep trees."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from inventory.policy import PolicyError
from sandbox import fstree
from sandbox.channel import PipeChannel
from sandbox.errors import SandboxFailure
from sandbox.host import Deadlines, SandboxHost
from sandbox.limits import Limits
from sandbox.session import SandboxShellSession
from tests.sandbox.attacks.trust import DEEP_DIR, PARTIAL_FRAME
from tests.security._sandbox_support import BENIGN, backend, private_workspace, small_problem

PARAMS = {"S": np.array([12.0])}


def test_host_channel_gives_up_on_a_partial_frame():
    """A worker that writes half a frame and goes quiet costs the host its deadline, not a thread."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.stdout.buffer.write(b'\\x00\\x00\\x01\\x00{\"ok'); "
                             "sys.stdout.flush(); time.sleep(60)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    ch = PipeChannel(proc)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="partial frame"):
        ch.recv(1.0)
    assert time.monotonic() - t0 < 5
    ch.kill()
    assert not ch.alive()


def test_worker_kills_only_the_candidate_that_sent_a_partial_frame():
    host = SandboxHost(small_problem(), backend("bwrap"), deadlines=Deadlines(mean_costs=1.5, grace=30.0))
    try:
        bystander = host.open(BENIGN, "bystander")
        before = bystander.mean_costs(PARAMS)
        h = host.open(PARTIAL_FRAME, "partial")
        t0 = time.monotonic()
        with pytest.raises(PolicyError, match="deadline") as err:
            h.mean_costs({"r": np.array([0.5])})
        assert not isinstance(err.value, SandboxFailure)  # the policy's fault, not the infrastructure's
        assert time.monotonic() - t0 < 1.5 + 5  # well before the host's own grace period
        assert host.recycles == 0
        assert np.array_equal(bystander.mean_costs(PARAMS), before)
    finally:
        host.close()


def test_unclosed_handles_do_not_exhaust_the_pid_limit():
    """With a small pid limit, 3x more candidates than fit are opened and never closed."""
    limits = Limits(pids=24, max_live_candidates=6)
    host = SandboxHost(small_problem(), backend("bwrap"), limits=limits)
    try:
        kept = []
        for i in range(40):
            h = host.open(BENIGN, f"c{i}")
            assert h.mean_costs(PARAMS).shape == (1,)
            if i % 2:
                kept.append(h)  # half kept alive (evicted LRU), half dropped (reaped on GC)
        assert host.live_candidates <= 6 and host.recycles == 0
        assert len(host.ping()["procs"]) <= 6 + 6
        with pytest.raises(SandboxFailure, match="reopen"):
            kept[0].mean_costs(PARAMS)
        assert kept[-1].mean_costs(PARAMS).shape == (1,)
    finally:
        host.close()


def test_killed_worker_raises_sandbox_failure_and_a_retry_works():
    host = SandboxHost(small_problem(), backend("bwrap"))
    try:
        first = host.open(BENIGN, "a")
        first.mean_costs(PARAMS)
        host._worker.channel.kill()  # the worker dies mid-run (recycled, OOM-killed, ...)
        with pytest.raises(SandboxFailure) as err:
            first.mean_costs(PARAMS)
        assert isinstance(err.value, PolicyError)  # callers that only know PolicyError still record it
        with pytest.raises(SandboxFailure, match="recycled"):
            first.mean_costs(PARAMS)  # a stale handle keeps saying so, it does not hang
        retry = host.open(BENIGN, "a")  # the evaluator's one retry, on a fresh worker
        assert retry.mean_costs(PARAMS).shape == (1,) and host.recycles == 1
    finally:
        host.close()


def test_deep_tree_walk_and_removal_need_no_recursion(tmp_path):
    root = tmp_path / "root"
    p = root
    p.mkdir()
    for _ in range(1200):  # deeper than the recursion limit, longer than PATH_MAX
        p = p / ("d" * 40)
        p.mkdir() if len(str(p)) < 4000 else None
        if len(str(p)) >= 4000:
            break
    usage = fstree.scan(root, max_depth=48, on_too_deep=lambda fd, name: fstree.remove_at(fd, name, tmp_path))
    assert usage.too_deep and max(len(e.parts) for e in usage.entries) <= 48
    fstree.remove_tree(root)
    assert not root.exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def test_shell_survives_a_1200_deep_directory(name, tmp_path):
    ws = private_workspace(tmp_path)
    with SandboxShellSession(ws, backend(name), timeout=120) as sh:
        res = sh.run(DEEP_DIR)
        assert "depth=1200" in res.output and "depth limit" in res.output
        assert sh.run("echo alive").output.strip() == "alive"
        copy = sh._tmp
    assert not copy.exists()
