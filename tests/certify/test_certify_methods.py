"""Each certification method against a hand computation or a library reference."""
import math

import numpy as np
import pytest
from arch.bootstrap import SPA
from scipy import stats

from certify import (
    BlockwiseMaxT,
    BlockwiseT,
    EmpiricalBernsteinCS,
    GainDays,
    GainSource,
    GateConfig,
    Guarantee,
    Hoeffding,
    MaxTBootstrap,
    alpha_spending,
    auto_block,
    blockwise_t_radius,
    certify_family,
    compare,
    eb_confidence_sequence,
    hoeffding_radius,
    make_method,
    max_t_quantile,
)


def ar1(rng, n, k, phi, mean=0.0):
    e = rng.normal(0, 1, (n + 50, k))
    x = np.zeros_like(e)
    for t in range(1, len(e)):
        x[t] = phi * x[t - 1] + e[t]
    return x[50:] + mean


# ---------------------------------------------------------------- paper methods, unchanged

def test_hoeffding_method_is_the_paper_radius_per_pair():
    gains = np.tile([1.0, -0.5, 2.0], 40)[:, None] * np.array([1.0, 0.5])
    ivs = Hoeffding(3.0).intervals(gains, alpha=0.1)  # family of 2 -> 0.05 each
    assert ivs[0].radius == pytest.approx(hoeffding_radius(120, 3.0, 2, 0.1), abs=1e-14)
    assert ivs[0].radius == pytest.approx(3.0 * math.sqrt(2 * math.log(2 / 0.05) / 120), abs=1e-14)
    assert ivs[1].mean == pytest.approx(gains[:, 1].mean())


def test_blockwise_method_is_the_paper_radius_per_pair():
    rng = np.random.default_rng(3)
    g = rng.normal(0.5, 2.0, (100, 3))
    ivs = BlockwiseT(7).intervals(g, alpha=0.15)   # 0.05 per pair
    r, m = blockwise_t_radius(g[:, 1], 7, 3, 0.15)
    assert (ivs[1].radius, ivs[1].n_blocks, ivs[1].n) == (pytest.approx(r, abs=1e-14), m, 98)


def test_guarantees_follow_the_gain_source():
    for method in (Hoeffding(1.0), EmpiricalBernsteinCS(1.0)):
        assert method.guarantee(GainSource.IN_SAMPLE) is Guarantee.SCREEN
        assert method.guarantee(GainSource.REPLICATIONS) is Guarantee.FORMAL
    assert BlockwiseT(7).guarantee(GainSource.WALK_FORWARD) is Guarantee.SCREEN
    assert MaxTBootstrap().guarantee(GainSource.WALK_FORWARD) is Guarantee.ASYMPTOTIC
    assert MaxTBootstrap().guarantee(GainSource.IN_SAMPLE) is Guarantee.SCREEN


def test_replications_are_never_blocked():
    cfg = GateConfig(method="blockwise_t")
    assert make_method(cfg, bound=None, lead_time=3, source=GainSource.REPLICATIONS).block == 1
    assert make_method(cfg, bound=None, lead_time=3, source=GainSource.WALK_FORWARD).block == 7


# ---------------------------------------------------------------- max-t bootstrap

def test_unstudentised_maxt_critical_value_is_arch_spa_upper():
    rng = np.random.default_rng(0)
    ref = rng.gamma(2.0, 3.0, 150)
    models = ref[:, None] - ar1(rng, 150, 4, 0.5, mean=np.array([0.1, -0.2, 0.3, 0.0]))
    gains = ref[:, None] - models
    spa = SPA(ref, models, block_size=5, reps=499, bootstrap="stationary", seed=11)
    spa.compute()
    for alpha in (0.05, 0.2):
        arch_crit = float(spa.critical_values(alpha)["upper"])
        ours = MaxTBootstrap(reps=499, block=5, seed=11, studentize=False).intervals(gains, alpha)
        assert ours[0].critical == pytest.approx(arch_crit, rel=1e-12)
        assert ours[2].lcb == pytest.approx(gains[:, 2].mean() - arch_crit, rel=1e-12)


def test_studentised_maxt_by_hand_from_its_own_draws():
    rng = np.random.default_rng(1)
    gains = ar1(rng, 120, 3, 0.3) * np.array([1.0, 3.0, 0.5]) + np.array([0.2, 0.0, 0.1])
    method = MaxTBootstrap(reps=299, block=4, seed=5)
    ivs = method.intervals(gains, 0.1)
    dev = method.bootstrap_deviations(gains, 4)
    se = dev.std(axis=0, ddof=1)
    crit = np.percentile((dev / se).max(axis=1), 90.0)
    crit = stats.t.ppf(stats.norm.cdf(crit), 120 // 4 - 1)   # the small-sample correction
    for j in range(3):
        assert ivs[j].lcb == pytest.approx(gains[:, j].mean() - crit * se[j], rel=1e-12)
        assert ivs[j].block == 4 and ivs[j].critical == pytest.approx(crit)


def test_maxt_is_selection_aware_wider_for_more_columns():
    rng = np.random.default_rng(2)
    gains = ar1(rng, 200, 10, 0.2)
    one = MaxTBootstrap(reps=499, block=3, seed=0).intervals(gains[:, :1], 0.05)[0].critical
    ten = MaxTBootstrap(reps=499, block=3, seed=0).intervals(gains, 0.05)[0].critical
    assert ten > one + 0.4   # roughly the one-sided z quantile 1.64 vs the max of 10 ~ 2.6


def test_maxt_simultaneous_coverage_on_dependent_gains():
    rng = np.random.default_rng(7)
    misses = 0
    sims = 120
    true = np.array([0.3, -0.1, 0.0, 0.2])
    for _ in range(sims):
        g = ar1(rng, 240, 4, 0.3, mean=true)
        ivs = MaxTBootstrap(reps=199, seed=int(rng.integers(1 << 30)), min_block=2).intervals(g, 0.1)
        misses += any(iv.lcb > mu for iv, mu in zip(ivs, true))
    # one-sided simultaneous level 0.9; the MC standard error at 120 sims is ~0.03
    assert misses / sims <= 0.1 + 0.08


def test_blockwise_maxt_single_column_is_the_one_sided_t_bound():
    rng = np.random.default_rng(3)
    g = rng.normal(0.4, 1.0, 70)
    iv = BlockwiseMaxT(7).intervals(g, 0.05)[0]
    means = g.reshape(10, 7).mean(axis=1)
    hand = means.mean() - stats.t.ppf(0.95, 9) * means.std(ddof=1) / math.sqrt(10)
    assert iv.lcb == pytest.approx(hand, abs=1e-12) and (iv.n_blocks, iv.n) == (10, 70)


def test_blockwise_maxt_critical_value_matches_scipy_multivariate_t_cdf():
    rng = np.random.default_rng(4)
    base = rng.normal(0, 1, (84, 1))
    g = base + rng.normal(0, [0.5, 1.0, 2.0], (84, 3))          # correlated columns
    method = BlockwiseMaxT(7, draws=200_000, seed=1)
    crit = method.intervals(g, 0.1)[0].critical
    means = np.column_stack([g[:, j].reshape(12, 7).mean(axis=1) for j in range(3)])
    corr = np.corrcoef(means.T)
    level = stats.multivariate_t(loc=np.zeros(3), shape=corr, df=11).cdf(
        np.full(3, crit), random_state=np.random.default_rng(0))
    assert level == pytest.approx(0.9, abs=0.005)
    # never wider than Bonferroni's one-sided t at alpha / 3
    assert crit < stats.t.ppf(1 - 0.1 / 3, 11)
    assert max_t_quantile(np.ones((2, 2)), 11, 0.9) == pytest.approx(stats.t.ppf(0.9, 11), abs=0.02)


def test_blockwise_maxt_family_in_a_certificate():
    rng = np.random.default_rng(5)
    ref = rng.uniform(5, 10, 70)
    fam = certify_family([("a", "ha", ref - 1 + rng.normal(0, 0.3, 70)), ("b", "hb", ref + 0.1)],
                         "ref", ref, config=GateConfig(method="blockwise_maxt"), n_pairs=4,
                         bound=None, lead_time=1, role="safety")
    assert [c.safety_pass for c in fam] == [True, False]
    assert fam[0].radius_kind == "blockwise_maxt" and fam[0].block == 7 and fam[0].critical > 0


def test_auto_block_grows_with_dependence():
    rng = np.random.default_rng(4)
    assert auto_block(rng.normal(size=(300, 3))) <= 3
    assert auto_block(ar1(rng, 300, 3, 0.9)) >= 6
    assert auto_block(np.zeros((50, 2)), minimum=3) == 3   # constant columns: the floor


# ---------------------------------------------------------------- confidence sequence

def test_eb_sequence_hand_example():
    x = [0.2, 0.9, 0.5]
    a = 0.1
    log_term = math.log(2 / a)
    mu_prev, s2_prev = 0.5, 0.25
    s_lam = s_lamx = s_vpsi = 0.0
    s_x = s_sq = 0.0
    lows, highs = [], []
    for t, xi in enumerate(x, start=1):
        lam = min(math.sqrt(2 * log_term / (s2_prev * t * math.log(1 + t))), 0.5)
        v = 4 * (xi - mu_prev) ** 2
        psi = (-math.log(1 - lam) - lam) / 4
        s_lam += lam; s_lamx += lam * xi; s_vpsi += v * psi
        centre, margin = s_lamx / s_lam, (log_term + s_vpsi) / s_lam
        lows.append(max(centre - margin, 0.0)); highs.append(min(centre + margin, 1.0))
        s_x += xi
        mu = (0.5 + s_x) / (t + 1)
        s_sq += (xi - mu) ** 2
        mu_prev, s2_prev = mu, (0.25 + s_sq) / (t + 1)
    lo, hi = eb_confidence_sequence(np.array(x), a)
    assert lo == pytest.approx(lows, abs=1e-14) and hi == pytest.approx(highs, abs=1e-14)
    # with lam capped at 1/2 from the first day, the first margin is (log 20 + psi) / 0.5
    assert lows[0] == 0.0 and highs[0] == 1.0


def test_eb_sequence_covers_under_optional_stopping():
    """Time-uniform: the fraction of runs whose sequence *ever* misses the mean is <= alpha."""
    rng = np.random.default_rng(0)
    runs, n, alpha, mu = 1500, 400, 0.1, 0.3
    ever = 0
    for _ in range(runs):
        x = rng.binomial(1, mu, n).astype(float)
        lo, hi = eb_confidence_sequence(x, alpha)
        ever += bool(np.any((lo > mu) | (hi < mu)))
    assert ever / runs <= alpha   # typically far below: the bound is conservative


def test_eb_method_maps_gains_through_the_bound_and_shrinks_with_n():
    rng = np.random.default_rng(5)
    g = rng.uniform(-1, 3, (2000, 1))
    iv_short = EmpiricalBernsteinCS(4.0).intervals(g[:100], 0.05)[0]
    iv_long = EmpiricalBernsteinCS(4.0).intervals(g, 0.05)[0]
    assert iv_long.lcb > iv_short.lcb and iv_long.lcb > 0.5 and iv_long.lcb < 1.0 < iv_long.ucb
    with pytest.raises(ValueError, match="exceeds the bound"):
        EmpiricalBernsteinCS(2.0).intervals(g, 0.05)


def test_alpha_spending_sums_within_budget():
    shares = [alpha_spending(0.05, j) for j in range(1, 10_001)]
    assert shares[0] == pytest.approx(0.025) and sum(shares) < 0.05
    assert sum(shares) == pytest.approx(0.05, rel=1e-3)


# ---------------------------------------------------------------- formal simulation mode

@pytest.mark.parametrize("method", ["hoeffding", "eb_cs", "blockwise_t"])
def test_replication_mode_false_pass_rate_at_most_delta(method):
    """Independent replications of a truly equal pair: the safety gate passes <= delta."""
    rng = np.random.default_rng(9)
    cfg = GateConfig(method=method, delta=0.2, gains="replications")
    passes, trials = 0, 400
    for _ in range(trials):
        ref = rng.uniform(0, 1, 30)
        cand = ref + rng.uniform(-0.5, 0.5, 30)    # true mean gain 0
        cert = compare("c", "h", "ref", cand, ref, config=cfg, n_pairs=1, bound=1.0,
                       lead_time=2, role="safety",
                       days=GainDays(GainSource.REPLICATIONS, n_segments=30))
        passes += cert.safety_pass
        assert cert.guarantee in ("formal", "asymptotic") and cert.first_day is None
    assert passes / trials <= 0.2 / 2 + 0.04   # two-sided intervals: one side gets delta/2


# ---------------------------------------------------------------- families

def test_union_family_equals_pairwise_compare():
    rng = np.random.default_rng(6)
    ref = rng.uniform(5, 10, 98)
    cands = [("a", "ha", ref - rng.normal(0.5, 1, 98)), ("b", "hb", ref + rng.normal(0, 1, 98))]
    cfg = GateConfig(method="blockwise_t")
    fam = certify_family(cands, "ref", ref, config=cfg, n_pairs=7, bound=None, lead_time=1,
                         role="safety")
    for (cid, h, costs), cert in zip(cands, fam):
        single = compare(cid, h, "ref", costs, ref, config=cfg, n_pairs=7, bound=None,
                         lead_time=1, role="safety")
        assert cert == single


def test_family_larger_than_budget_is_refused():
    ref = np.ones(20)
    with pytest.raises(ValueError, match="exceeds the period's N_t = 1"):
        certify_family([("a", "h", ref), ("b", "h", ref)], "ref", ref,
                       config=GateConfig(method="blockwise_t", block=2), n_pairs=1,
                       bound=None, lead_time=0, role="safety")


def test_certificate_records_days_and_eps_source():
    from certify import EpsChoice, EpsEstimator
    rng = np.random.default_rng(8)
    ref = rng.uniform(5, 10, 60)
    cert = compare("a", "h", "ref", ref - 1.0 + rng.normal(0, 0.1, 60), ref,
                   config=GateConfig(method="maxt_bootstrap", gains="walk_forward", reps=199),
                   n_pairs=3, bound=None, lead_time=1, role="safety",
                   days=GainDays(GainSource.WALK_FORWARD, 40, 99, 2),
                   eps=EpsChoice(EpsEstimator.HISTORICAL_QUANTILE, 0.25, 12))
    assert (cert.gain_source, cert.first_day, cert.last_day, cert.n_segments) == ("walk_forward", 40, 99, 2)
    assert (cert.eps, cert.eps_estimator, cert.guarantee) == (0.25, "historical_quantile", "asymptotic")
    assert cert.safety_pass and "walk-forward replay days 40-99" in cert.note
