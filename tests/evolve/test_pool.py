import numpy as np

from certify import GateConfig
from evaluation.trusted import EvalRecord
from evolve.pool import Member, Pool


def _member(cid, costs, origin="builtin"):
    costs = np.asarray(costs, dtype=float)
    rec = EvalRecord(cid, cid, "h" + cid, "ok", replay_cost=float(costs.mean()), replay_costs=costs.tolist())
    return Member(rec, "src", origin, 0)


def _pool():
    return Pool(GateConfig(method="blockwise_t", delta=0.1), n_pairs=5, bound=100.0, lead_time=1)


def test_champion_reference_and_promotion():
    rng = np.random.default_rng(0)
    base = 10 + rng.normal(0, 1, 98)
    pool = _pool()
    pool.add_initial(_member("ref", base, "baseline"))
    pool.add_initial(_member("worse", base + 1.0, "baseline"))
    pool.certify_initial("ref")
    assert pool.champion_id == "ref"  # 'worse' fails safety
    clearly_better = pool.admit(_member("good", base - 2.0 + rng.normal(0, 0.1, 98)))
    assert clearly_better.status == "promoted" and pool.champion_id == "good"
    noisy = pool.admit(_member("noisy", base - 0.05 + rng.normal(0, 3, 98)))
    assert noisy.status == "pooled" and pool.champion_id == "good"
    assert "noisy" in pool.members  # every valid candidate joins the pool
    dep = pool.deployment()
    assert dep.deployed_id == "good" and dep.certificate.safety_pass


def test_reference_deployed_when_nothing_is_safe():
    base = np.full(98, 10.0) + np.random.default_rng(1).normal(0, 1, 98)
    pool = _pool()
    pool.add_initial(_member("ref", base, "baseline"))
    pool.certify_initial("ref")
    pool.admit(_member("bad", base + 0.5))
    assert pool.deployment().deployed_id == "ref"


def test_hoeffding_bound_violation_refuses_certificate():
    base = np.full(98, 10.0)
    pool = Pool(GateConfig(method="hoeffding", delta=0.1), n_pairs=3, bound=1.0, lead_time=1)
    pool.add_initial(_member("ref", base, "baseline"))
    pool.certify_initial("ref")
    res = pool.admit(_member("wild", base - 5.0))
    assert res.safety is None and "exceeds the bound" in res.message and res.status == "pooled"
