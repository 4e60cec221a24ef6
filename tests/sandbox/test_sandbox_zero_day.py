"""A data-free (zero-day) host, as the trusted replay uses it: decisions only, identical to in-process."""
from __future__ import annotations

import numpy as np

from inventory.host import InProcessHost
from inventory.replay import ReplayProblem
from inventory.sequence import DemandSequence
from inventory.simulator import simulate_fn
from inventory.workspace import load_workspace
from sandbox.host import SandboxHost
from tests.sandbox._support import WORKSPACE

POLICY = '''
import numpy as np
def search_space(info):
    return {"S": (0.0, 60.0), "k": (0.0, 2.0)}

def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    level = past[-7:].mean() if len(past) else 0.0
    return max(params["S"] + params["k"] * level - obs.position, 0.0)
'''


def _zero_day(problem: ReplayProblem) -> ReplayProblem:
    seq = problem.seq
    empty = DemandSequence([], np.empty(0), {k: v[:0].copy() for k, v in seq.features.items()})
    return ReplayProblem(empty, problem.specs, problem.model, problem.init)


def test_zero_day_host_replays_like_in_process(bwrap):
    full = load_workspace(WORKSPACE).replay_problem()
    host = SandboxHost(_zero_day(full), bwrap)
    assert host._encoded_problem["dates"] == []  # nothing of the window travels
    try:
        sandboxed, inproc = host.open(POLICY, "p"), InProcessHost(full).open(POLICY, "p")
        assert [s.name for s in sandboxed.space()] == ["S", "k"]
        row = {"S": 25.0, "k": 1.2}
        costs = []
        for handle in (sandboxed, inproc):
            res = simulate_fn(lambda obs, _p, h=handle: h.decide(obs, row), full.seq, full.specs, full.model, {},
                              init=full.init, scalar=True)
            costs.append(res.costs[0])
        assert np.array_equal(costs[0], costs[1])
    finally:
        host.close()
