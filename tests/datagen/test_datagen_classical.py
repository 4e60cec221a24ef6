"""Classical testbed: scenario grid, the pilot kernel against the simulator, sample length."""
import json
import math

import numpy as np
import pytest

from datagen.classical import (DISTRIBUTIONS, ClassicalConfig, batch_means_var, build_classical, cbs_costs,
                               cbs_cost_matrix, required_length, scenarios)
from inventory.library import policy_source
from inventory.policy import compile_policy
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState, simulate
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace


def test_grid_has_96_scenarios():
    sc = scenarios()
    assert len(sc) == 96 and len({s.name for s in sc}) == 96
    assert {s.lead_time for s in sc} == {1, 2, 3, 4} and {s.p for s in sc} == {4, 9, 19, 39}
    assert len(DISTRIBUTIONS) == 6


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda d: d.name)
def test_distributions_have_mean_5_and_the_stated_cv(dist):
    x = dist.sample(np.random.default_rng(0), 400_000).astype(float)
    assert np.all(x >= 0) and np.all(x == np.round(x))
    assert x.mean() == pytest.approx(5.0, rel=0.02)
    assert x.std() / x.mean() == pytest.approx(dist.cv, rel=0.03)


@pytest.mark.parametrize("lead_time,p,S,r", [(0, 9, 8, 100), (1, 4, 12, 6), (2, 19, 20, 7), (4, 39, 33, 100)])
def test_pilot_kernel_matches_the_simulator(lead_time, p, S, r):
    rng = np.random.default_rng(lead_time)
    d = rng.poisson(5, 400).astype(float)
    ours = cbs_costs(d, lead_time, 1.0, p, S, r)
    seq = DemandSequence([str(np.datetime64("2000-01-01") + i) for i in range(len(d))], d, {})
    prog = compile_policy(policy_source("capped_base_stock"), "cbs")
    res = simulate(prog, seq, (), CostModel(1.0, p, lead_time), {"S": np.array([float(S)]), "r": np.array([float(r)])},
                   init=InitialState(float(S), ()))
    assert np.allclose(ours, res.costs[0])


def test_the_cost_matrix_is_each_policy_replayed_alone():
    d = np.random.default_rng(3).geometric(1 / 6, 700).astype(float) - 1
    S, r = np.array([20.0, 27.0, 31.0, 12.0]), np.array([np.inf, 6.0, 5.0, 3.0])
    for L in (0, 1, 3):
        m = cbs_cost_matrix(d, L, 1.0, 9.0, S, r)
        assert m.shape == (4, 700)
        for i in range(4):
            assert np.array_equal(m[i], cbs_cost_matrix(d, L, 1.0, 9.0, S[i:i + 1], r[i:i + 1])[0])


def test_the_pilot_sizes_by_the_structural_pair_when_it_varies_more():
    geo = next(s for s in scenarios() if s.name == "classical_geometric_L3_p9")
    row = required_length(geo, ClassicalConfig())
    assert row["sigma_pair"] == max(row["sigma_neighbour"], row["sigma_structural"])
    assert row["sigma_structural"] > 3 * row["sigma_neighbour"]  # CBS against base stock disagree often
    assert (row["cbs_S"], row["cbs_r"]) == (27.0, 6.0)  # the exact best CBS (inventory.dp) is what the pilot finds
    n_neighbour = (1.96 * row["sigma_neighbour"] / (0.005 * row["mean_cost"])) ** 2
    assert row["n_required"] > 20 * n_neighbour  # about 2,000 days by the neighbours alone
    binom = next(s for s in scenarios() if s.name == "classical_binomial_L1_p39")
    row = required_length(binom, ClassicalConfig())  # the cap hardly binds: the neighbours decide
    assert row["sigma_pair"] == row["sigma_neighbour"] > row["sigma_structural"]


def test_required_length_scales_with_the_resolution():
    sc = scenarios()[17]
    n1 = required_length(sc, ClassicalConfig(resolution=0.005))["n_required"]
    n2 = required_length(sc, ClassicalConfig(resolution=0.01))["n_required"]
    assert n1 / n2 == pytest.approx(4.0, rel=0.01)
    assert 500 < n1 < 500_000


def test_batch_means_inflates_for_autocorrelated_series():
    rng = np.random.default_rng(0)
    e = rng.standard_normal(100_000)
    ar = np.empty_like(e)
    ar[0] = e[0]
    for t in range(1, len(e)):
        ar[t] = 0.8 * ar[t - 1] + e[t]
    iid = batch_means_var(e, 500)
    assert iid == pytest.approx(1.0, rel=0.2)
    # long-run variance of AR(1) with rho=0.8: 1/(1-rho)^2 = 25
    assert batch_means_var(ar, 500) == pytest.approx(25.0, rel=0.25)


HAND = {  # the testbed's laws written out with numpy, as SPEC §8 states them
    "geometric": lambda r, n: r.geometric(1 / 6, n) - 1, "poisson": lambda r, n: r.poisson(5.0, n),
    "binomial": lambda r, n: r.binomial(10, 0.5, n), "gamma": lambda r, n: np.round(r.gamma(2.0, 2.5, n)),
    "halfnormal": lambda r, n: np.round(np.abs(r.normal(0.0, 5 * math.sqrt(math.pi / 2), n))),
    "uniform": lambda r, n: r.integers(0, 11, n),
}


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda d: d.name)
def test_each_declared_model_draws_exactly_the_hand_written_law(dist):
    a = dist.sample(np.random.default_rng(5), 500)
    b = HAND[dist.name](np.random.default_rng(5), 500)
    assert np.array_equal(a, b.astype(float))


def test_build_records_lengths_and_resolution(tmp_path):
    cfg = ClassicalConfig(min_days=1000, max_replay=1500, max_forward=3000, tuning=TuningConfig(n_trials=10))
    index = build_classical(tmp_path / "c", cfg, workers=2, progress=False, only=[0, 21])  # pickles into workers
    rows = {r["name"]: r for r in index["workspaces"]}
    assert set(rows) == {"classical_geometric_L1_p4", "classical_poisson_L2_p9"}
    for name, row in rows.items():
        ws = load_workspace(tmp_path / "c" / name)
        assert len(ws.replay) == row["replay_days"] <= 1500 and len(ws.load_forward()) == row["forward_days"] <= 3000
        assert ws.spec.problem.h == 1.0 and ws.spec.problem.p == row["p"] and ws.spec.features == ()
        assert ws.spec.demand_model.law.value == row["distribution"]  # the formal mode draws the data's own law
        n_res = min(max(row["n_required"], 1000), 3000)
        assert row["forward_days"] == math.ceil(n_res / 500) * 500
        expected = 1.96 * row["sigma_pair"] / (row["mean_cost"] * math.sqrt(row["forward_days"]))
        assert row["half_width_forward"] == pytest.approx(expected)
    saved = json.loads((tmp_path / "c" / "suite.json").read_text())
    assert saved["unresolved_forward"] == [r["name"] for r in index["workspaces"] if r["half_width_forward"] > 0.005]
