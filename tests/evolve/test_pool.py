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


def _wf_member(cid, costs, oos_costs, origin="builtin"):
    from evaluation.walkforward import Fold, OutOfSample, Plan, Scheme
    m = _member(cid, costs, origin)
    n = len(costs)
    plan = Plan(Scheme.WALK_FORWARD, n, (Fold(slice(0, n - len(oos_costs)), slice(n - len(oos_costs), n)),))
    m.oos = OutOfSample(plan, np.asarray(oos_costs, float), ({},))
    return m


def test_walk_forward_gates_ignore_in_sample_optimism():
    rng = np.random.default_rng(2)
    base = 10 + rng.normal(0, 1, 98)
    pool = Pool(GateConfig(method="blockwise_maxt", gains="walk_forward", delta=0.1), n_pairs=6, bound=100.0,
                lead_time=1)
    pool.add_initial(_wf_member("ref", base, base[28:], "baseline"))
    pool.certify_initial("ref")
    # looks 2/day cheaper in-sample, but out of sample it is no better than the reference
    overfit = pool.admit(_wf_member("overfit", base - 2.0, base[28:] + rng.normal(0, 0.5, 70)))
    honest = pool.admit(_wf_member("honest", base - 1.0, base[28:] - 1.0 + rng.normal(0, 0.1, 70)))
    assert overfit.status == "pooled" and honest.status == "promoted"
    assert pool.members["honest"].safety.gain_source == "walk_forward"
    assert (pool.members["honest"].safety.first_day, pool.members["honest"].safety.last_day) == (28, 97)
    assert pool.deployment().deployed_id == "honest"


def test_selection_aware_family_is_reissued_over_the_whole_pool():
    rng = np.random.default_rng(3)
    base = 10 + rng.normal(0, 1, 98)
    pool = Pool(GateConfig(method="blockwise_maxt", delta=0.1), n_pairs=8, bound=100.0, lead_time=1)
    pool.add_initial(_member("ref", base, "baseline"))
    pool.certify_initial("ref")
    pool.admit(_member("a", base - 0.3 + rng.normal(0, 1, 98)))
    first = pool.members["a"].safety
    for j in range(4):
        pool.admit(_member(f"n{j}", base + rng.normal(0, 1, 98)))
    again = pool.members["a"].safety
    assert again is not first and abs(again.mean_gain - first.mean_gain) < 1e-12
    crits = {pool.members[c].safety.critical for c in pool.members if c != "ref"}
    assert len(crits) == 1                      # one simultaneous band over all five members
    # the family spends 5 * delta / N_t on one band: tighter than Bonferroni's per-pair t
    from scipy import stats
    assert again.critical < stats.t.ppf(1 - 0.1 / 8, again.n_blocks - 1)


def test_refined_member_is_a_real_comparator():
    rng = np.random.default_rng(4)
    base = 10 + rng.normal(0, 1, 98)
    pool = _pool()
    pool.add_initial(_member("ref", base, "baseline"))
    pool.certify_initial("ref")
    pool.admit(_member("strong", base - 1.0 + rng.normal(0, 5.0, 98)))   # too noisy to be promoted
    assert pool.champion_id == "ref"
    pool.refined.append("strong")
    assert pool.improvement_comparator().id == "strong"
    res = pool.admit(_member("modest", base - 0.5 + rng.normal(0, 0.05, 98)))
    # safe against the reference, but not better than the refined member: not promoted
    assert res.safety.safety_pass and res.improvement.comparator_id == "strong"
    assert res.status == "pooled"
