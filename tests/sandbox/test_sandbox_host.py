"""SandboxHost: bit-identical to InProcessHost for benign policies; failures stay contained."""
from __future__ import annotations

import numpy as np
import pytest

from inventory.host import InProcessHost
from inventory.library import policy_source
from inventory.policy import PolicyError
from inventory.simulator import InitialState, simulate_fn
from inventory.workspace import load_workspace
from sandbox import open_host
from sandbox.host import Deadlines, SandboxHost
from tests.sandbox._support import WORKSPACE

SCALAR_POLICY = '''
PARAMS = {"S": (0.0, 60.0, "int"), "r": (0.0, 20.0)}

def order(obs, params):
    gap = params["S"] - obs.position
    if gap <= 0:
        return 0.0
    return min(gap, params["r"]) + 0.0 * len(obs.demand)
'''

FEATURE_POLICY = '''
import numpy as np
def search_space(info):
    return {"S": (0.0, 3 * info.mean_demand * (info.lead_time + 2)), "k": (0.0, 2.0)}

def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    level = past[-7:].mean() if len(past) else 0.0
    bump = 0.0
    for name, values in obs.features.items():
        if len(values) > obs.t and not isinstance(values[obs.t], str):
            bump += float(values[obs.t]) * 0.01
    return np.maximum(params["S"] + params["k"] * level + bump - obs.position, 0.0)
'''


@pytest.fixture(scope="module")
def problem():
    return load_workspace(WORKSPACE).replay_problem()


def _pair(problem, backend):
    return SandboxHost(problem, backend), InProcessHost(problem)


@pytest.mark.parametrize("name", ["base_stock", "capped_base_stock", "newsvendor", "s_S", "tilted_pic", "constant_order"])
def test_mean_costs_bit_identical(problem, backend, name):
    src = policy_source(name)
    sandboxed, inproc = _pair(problem, backend)
    try:
        a, b = sandboxed.open(src, name), inproc.open(src, name)
        assert a.space() == b.space()
        rng = np.random.default_rng(3)
        params = {s.name: rng.uniform(s.low, s.high, 16) for s in a.space()}
        for _ in range(2):  # second call: after the vectorised/scalar mode was learnt
            ca, cb = a.mean_costs(params), b.mean_costs(params)
            assert ca.dtype == cb.dtype and np.array_equal(ca, cb)
        a.close()
    finally:
        sandboxed.close()


@pytest.mark.parametrize("src", [SCALAR_POLICY, FEATURE_POLICY], ids=["scalar", "features"])
def test_decide_replay_bit_identical(problem, backend, src):
    """The trusted step-by-step replay through decide() matches in-process decisions exactly."""
    sandboxed, inproc = _pair(problem, backend)
    try:
        a, b = sandboxed.open(src, "p"), inproc.open(src, "p")
        rng = np.random.default_rng(5)
        params = {s.name: rng.uniform(s.low, s.high, 4) for s in b.space()}
        assert np.array_equal(a.mean_costs(params), b.mean_costs(params))
        row = {k: float(v[0]) for k, v in params.items()}
        for handle in (a, b):
            handle.trace = []

            def fn(obs, _p, handle=handle):
                q = handle.decide(obs, row)
                handle.trace.append(q)
                return q
            res = simulate_fn(fn, problem.seq, problem.specs, problem.model, {k: np.array([v]) for k, v in row.items()},
                              init=problem.init, scalar=True)
            handle.cost = res.mean_cost[0]
        assert a.trace == b.trace and a.cost == b.cost
        # a second replay (reset of the incremental observation stream) gives the same again
        again = [a.decide(o, row) for o in _observations(problem, a.trace)]
        assert again[:5] == a.trace[:5]
    finally:
        sandboxed.close()


def _observations(problem, orders):
    out = []

    def fn(obs, _p):
        out.append(obs)
        return orders[obs.t]
    simulate_fn(fn, problem.seq, problem.specs, problem.model, {}, init=problem.init, scalar=True)
    return out[:5]


def test_policy_errors_are_policy_errors(problem, bwrap):
    host = SandboxHost(problem, bwrap)
    try:
        with pytest.raises(PolicyError, match="syntax error"):
            host.open("def order(obs, params:\n", "bad")
        with pytest.raises(PolicyError, match="must define a function"):
            host.open("PARAMS = {}\n", "noentry")
        h = host.open("PARAMS = {'r': (0, 1)}\ndef order(obs, params):\n    return -1.0 + 0 * params['r']\n", "neg")
        with pytest.raises(PolicyError, match="negative order"):
            h.mean_costs({"r": np.array([0.5])})
        h = host.open("def search_space(info):\n    raise ValueError('nope')\ndef order(obs, params):\n    return 0\n", "sp")
        with pytest.raises(PolicyError, match="nope"):
            h.space()
        # the host is still healthy
        ok = host.open(policy_source("base_stock"), "ok")
        assert ok.mean_costs({"S": np.array([10.0])}).shape == (1,)
        assert host.recycles == 0
    finally:
        host.close()


def test_deadline_kills_candidate_not_worker(problem, bwrap):
    host = SandboxHost(problem, bwrap, deadlines=Deadlines(mean_costs=1.0, grace=5.0))
    try:
        h = host.open("PARAMS={'r': (0, 1)}\ndef order(obs, params):\n    while True:\n        pass\n", "loop")
        with pytest.raises(PolicyError, match="deadline"):
            h.mean_costs({"r": np.array([0.5])})
        with pytest.raises(PolicyError):
            h.mean_costs({"r": np.array([0.5])})  # that candidate is gone
        assert host.recycles == 0
        assert host.open(policy_source("base_stock"), "ok").mean_costs({"S": np.array([5.0])}).shape == (1,)
    finally:
        host.close()


def test_worker_killed_is_recycled(problem, bwrap):
    """A policy that kills its own worker is an anomaly: the sandbox is recycled, old handles die."""
    host = SandboxHost(problem, bwrap)
    try:
        first = host.open(policy_source("base_stock"), "a")
        worker_pid = host.ping()["pid"]
        killer = host.open(f"import os, signal\nPARAMS={{'r': (0, 1)}}\ndef order(obs, params):\n"
                           f"    os.kill({worker_pid}, signal.SIGKILL)\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                           f"    return 0.0\n", "killer")
        with pytest.raises(PolicyError):
            killer.mean_costs({"r": np.array([0.5])})
            host.ping()
        with pytest.raises(PolicyError):
            first.mean_costs({"S": np.array([5.0])})
        fresh = host.open(policy_source("base_stock"), "b")
        assert fresh.mean_costs({"S": np.array([5.0])}).shape == (1,)
        assert host.recycles >= 1
    finally:
        host.close()


def test_open_host_none_is_in_process(problem):
    assert isinstance(open_host(problem, "none"), InProcessHost)
    with pytest.raises(ValueError):
        open_host(problem, "chroot")


def test_worker_only_gets_the_replay_problem(problem, bwrap):
    """The init message carries the replay window only: as many days as the replay file."""
    host = SandboxHost(problem, bwrap)
    enc = host._encoded_problem
    assert len(enc["dates"]) == len(problem.seq) == load_workspace(WORKSPACE).spec.problem.replay_days
    host.close()
