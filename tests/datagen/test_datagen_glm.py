"""Censored Poisson GLM: recovery of known coefficients, conditional mean, imputation."""
import numpy as np
import pytest
from scipy import stats

from datagen.censored_glm import conditional_mean_ge, fit_censored_poisson, impute

THETA = np.array([1.2, 0.35, -0.5, 0.8, 0.25])
NAMES = ["intercept", "x", "weekend", "display", "dept"]


def _simulate(seed, n=30_000):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n), rng.uniform(0, 1, n),
                         rng.integers(0, 2, n)])
    demand = rng.poisson(np.exp(x @ THETA))
    stock = np.where(rng.random(n) < 0.3, rng.poisson(np.exp(x @ THETA) * 0.8), 10**6)
    sales = np.minimum(demand, stock)
    return x, demand, sales, demand >= stock


@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_known_coefficients_under_censoring(seed):
    x, demand, sales, cens = _simulate(seed)
    assert 0.15 < cens.mean() < 0.35
    fit = fit_censored_poisson(x, sales, cens, NAMES)
    assert fit.converged and fit.n_censored == cens.sum()
    assert np.all(np.abs(fit.coef - THETA) < 4 * fit.se + 1e-3)
    assert np.max(np.abs(fit.coef - THETA)) < 0.05
    # Ignoring the censoring biases the intercept: the test can tell the two apart.
    naive = fit_censored_poisson(x, sales, np.zeros_like(cens), NAMES)
    assert abs(naive.coef[0] - THETA[0]) > 5 * fit.se[0]


def test_standard_errors_match_the_sampling_spread():
    fits = [fit_censored_poisson(*(lambda s: (s[0], s[2], s[3]))(_simulate(seed, 8000)), NAMES) for seed in range(8)]
    coefs = np.array([f.coef for f in fits])
    se = np.mean([f.se for f in fits], axis=0)
    ratio = coefs.std(axis=0, ddof=1) / se
    assert np.all((ratio > 0.35) & (ratio < 2.2))


def test_conditional_mean_matches_direct_sum():
    for lam in (0.5, 3.0, 12.0):
        for c in (0, 1, 4, 15):
            k = np.arange(c, 400)
            pmf = stats.poisson.pmf(k, lam)
            direct = (k * pmf).sum() / pmf.sum()
            assert conditional_mean_ge(np.array([lam]), np.array([c]))[0] == pytest.approx(direct, rel=1e-7)


def test_impute_only_raises_censored_days():
    obs = np.array([0.0, 2.0, 5.0, 5.0])
    cens = np.array([True, True, False, True])
    lam = np.array([4.0, 4.0, 4.0, 1.0])
    out = impute(obs, cens, lam)
    assert out[2] == 5.0 and np.all(out >= obs)
    assert out[0] == 4.0 and out[1] == np.round(conditional_mean_ge(np.array([4.0]), np.array([2.0]))[0])
    assert out[3] >= 5.0 and out[3] == np.round(out[3])


def test_input_validation():
    with pytest.raises(ValueError):
        fit_censored_poisson(np.ones((3, 2)), np.array([1.0, 2.0, 3.0]), np.zeros(3, bool), ["a"])
    with pytest.raises(ValueError):
        fit_censored_poisson(np.ones((3, 1)), np.array([1.0, -2.0, 3.0]), np.zeros(3, bool), ["a"])
