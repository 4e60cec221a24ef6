import math

import numpy as np
import pytest
from scipy import stats

from certify import GateConfig, compare, pairs_budget


def run(candidate, comparator, *, config, role="safety", bound=5.0, n_pairs=1, lead_time=0):
    return compare("cand", "hash-1", "ref", np.asarray(candidate, float),
                   np.asarray(comparator, float), config=config, n_pairs=n_pairs,
                   bound=bound, lead_time=lead_time, role=role)


# 400 days, gains alternate 2 and 4 (comparator - candidate): mean 3.
CAND = np.tile([1.0, 2.0], 200)
COMP = np.tile([3.0, 6.0], 200)
# Hoeffding with B=5, N_t=1, delta=0.05: r = 5*sqrt(2*ln(40)/400)
#   ln(40) = 3.6888794541139363; 2*ln(40)/400 = 0.018444397270569681
#   sqrt = 0.13581015157604...; r = 0.6790507578802...; LCB = 2.3209492421197...
R_HAND = 5.0 * math.sqrt(0.018444397270569681)
LCB_HAND = 3.0 - R_HAND


def test_compare_hoeffding_numbers_by_hand():
    cert = run(CAND, COMP, config=GateConfig(method="hoeffding"))
    assert cert.n == 400
    assert cert.mean_gain == pytest.approx(3.0, abs=1e-12)
    # sd (ddof=1) of 200 twos and 200 fours: sum of squares 400*1 / 399
    assert cert.sd_gain == pytest.approx(math.sqrt(400 / 399), abs=1e-12)
    assert cert.radius == pytest.approx(R_HAND, abs=1e-12)
    assert R_HAND == pytest.approx(0.67905076, abs=1e-8)
    assert cert.lcb == pytest.approx(LCB_HAND, abs=1e-12)
    assert cert.ucb == pytest.approx(3.0 + R_HAND, abs=1e-12)
    assert (cert.radius_kind, cert.bound, cert.block, cert.n_blocks) == ("hoeffding", 5.0, None, None)
    assert (cert.candidate_id, cert.source_hash, cert.comparator_id) == ("cand", "hash-1", "ref")
    assert cert.safety_pass is True and cert.improvement_pass is None
    assert "not independent" in cert.note


def test_gain_sign_positive_means_candidate_cheaper():
    cheaper = run([1.0, 1.0, 1.0], [2.0, 3.0, 2.5], config=GateConfig())
    dearer = run([2.0, 3.0, 2.5], [1.0, 1.0, 1.0], config=GateConfig())
    assert cheaper.mean_gain == pytest.approx(1.5) and dearer.mean_gain == pytest.approx(-1.5)


def test_safety_gate_both_sides_of_boundary():
    lcb = run(CAND, COMP, config=GateConfig()).lcb
    at = run(CAND, COMP, config=GateConfig(eps=lcb))
    above = run(CAND, COMP, config=GateConfig(eps=float(np.nextafter(lcb, np.inf))))
    assert at.safety_pass is True
    assert above.safety_pass is False
    assert at.eps == lcb and at.lcb == lcb


def test_improvement_gate_both_sides_of_boundary():
    lcb = run(CAND, COMP, config=GateConfig(), role="improvement").lcb
    eta = lcb - 0.5
    at = run(CAND, COMP, config=GateConfig(eps=0.5, eta=eta), role="improvement")
    above = run(CAND, COMP, role="improvement",
                config=GateConfig(eps=0.5, eta=float(np.nextafter(eta, np.inf))))
    assert at.improvement_pass is True and at.safety_pass is None
    assert above.improvement_pass is False


def test_negative_lcb_fails_safety_even_with_zero_eps():
    cert = run([2.0, 1.0, 2.0, 1.0], [1.0, 2.0, 1.0, 2.1], config=GateConfig())
    assert cert.lcb < 0 and cert.safety_pass is False


def test_compare_blockwise_t_hand_example_with_tail_dropped():
    # gains 1..6 plus a dropped 7th day; block 3 -> means 2 and 5, M=2
    # mean 3.5; s_b = sqrt(((2-3.5)^2 + (5-3.5)^2)/1) = sqrt(4.5)
    # r = t_{1-0.05/(2*2), 1} * sqrt(4.5) / sqrt(2) = t * 1.5
    gains = np.array([1, 2, 3, 4, 5, 6, 50], dtype=float)
    cand = np.full(7, 10.0)
    cert = run(cand, cand + gains, config=GateConfig(method="blockwise_t", block=3),
               n_pairs=2, bound=None)
    t_crit = stats.t.ppf(1 - 0.05 / 4, 1)
    assert cert.radius == pytest.approx(t_crit * 1.5, abs=1e-12)
    assert (cert.n, cert.block, cert.n_blocks) == (6, 3, 2)
    assert cert.mean_gain == pytest.approx(3.5, abs=1e-12)
    assert cert.sd_gain == pytest.approx(np.std([1, 2, 3, 4, 5, 6], ddof=1), abs=1e-12)
    assert cert.lcb == pytest.approx(3.5 - t_crit * 1.5, abs=1e-12)
    assert cert.bound is None
    assert "1 trailing day(s)" in cert.note and "practical screen" in cert.note


def test_compare_blockwise_default_block_from_lead_time():
    rng = np.random.default_rng(1)
    cand = rng.uniform(0, 5, 100)
    comp = cand + rng.normal(1.0, 0.5, 100)
    short = run(cand, comp, config=GateConfig(method="blockwise_t"), lead_time=2, bound=None)
    long = run(cand, comp, config=GateConfig(method="blockwise_t"), lead_time=9, bound=None)
    assert (short.block, short.n_blocks, short.n) == (7, 14, 98)
    assert (long.block, long.n_blocks, long.n) == (10, 10, 100)


def test_compare_blockwise_records_bound_but_does_not_use_it():
    cert = run(CAND, COMP, config=GateConfig(method="blockwise_t", block=2), bound=0.5)
    assert cert.bound == 0.5


def test_hoeffding_requires_bound():
    with pytest.raises(ValueError, match="needs a gain bound B"):
        run(CAND, COMP, config=GateConfig(), bound=None)


def test_hoeffding_rejects_gains_beyond_bound():
    with pytest.raises(ValueError, match="magnitude 4.0 exceeds the bound B=3.5"):
        run(CAND, COMP, config=GateConfig(), bound=3.5)
    assert run(CAND, COMP, config=GateConfig(), bound=4.0).radius > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(candidate=[1.0, 2.0, 3.0], comparator=[1.0, 2.0]), "3 days but comparator_costs has 2"),
        (dict(candidate=[1.0, np.nan], comparator=[1.0, 2.0]), "candidate_costs must be finite"),
        (dict(candidate=[1.0, 2.0], comparator=[1.0, np.inf]), "comparator_costs must be finite"),
        (dict(candidate=[1.0], comparator=[1.0]), "at least 2 days"),
        (dict(role="champion"), "role must be one of"),
        (dict(n_pairs=0), "n_pairs must be >= 1"),
        (dict(lead_time=-1), "lead_time must be >= 0"),
        (dict(bound=-1.0), "bound must be >= 0"),
    ],
)
def test_compare_validation(kwargs, match):
    args = dict(candidate=CAND, comparator=COMP, config=GateConfig())
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run(args.pop("candidate"), args.pop("comparator"), **args)


def test_compare_rejects_empty_ids():
    with pytest.raises(ValueError, match="candidate_id must be a non-empty string"):
        compare("", "h", "ref", CAND, COMP, config=GateConfig(), n_pairs=1, bound=5.0,
                lead_time=0, role="safety")


def test_gate_config_defaults_and_validation():
    cfg = GateConfig()
    assert (cfg.method, cfg.delta, cfg.eps, cfg.eta, cfg.block) == ("hoeffding", 0.05, 0.0, 0.0, None)
    for kwargs, match in [
        (dict(method="bootstrap"), "method must be one of"),
        (dict(delta=0.0), "delta must lie strictly between 0 and 1"),
        (dict(delta=1.5), "delta must lie strictly between 0 and 1"),
        (dict(eps=-0.01), "eps must be >= 0"),
        (dict(eps=float("nan")), "eps must be finite"),
        (dict(eta=-1.0), "eta must be >= 0"),
        (dict(block=0), "block must be >= 1"),
        (dict(block=2.5), "block must be an integer"),
    ]:
        with pytest.raises(ValueError, match=match):
            GateConfig(**kwargs)


def test_pairs_budget():
    # |pool| + 2R: 6 baselines+incumbent, 10 rounds -> 6 + 20
    assert pairs_budget(6, 10) == 26
    assert pairs_budget(1, 0) == 1
    assert pairs_budget(0, 1) == 2
    with pytest.raises(ValueError, match=">= 1, got 0"):
        pairs_budget(0, 0)
    with pytest.raises(ValueError, match="rounds must be >= 0"):
        pairs_budget(3, -1)
