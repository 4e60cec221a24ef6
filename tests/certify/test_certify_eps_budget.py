"""eps from window and period gaps: which gaps feed which source, and what is recorded."""
import numpy as np
import pytest

from certify import EpsChoice, EpsEstimator, EpsInputs, GainSource, choose_eps, window_gaps


def test_window_gaps_by_hand():
    # 10 replay days, 2 candidates; walk-forward scored days 4..9 in segments 4-6 and 7-9
    ins = np.column_stack([np.arange(10.0), np.full(10, 2.0)])
    wf = np.column_stack([np.arange(4.0, 10.0) - 1.0, np.full(6, 0.5)])
    gaps = window_gaps(ins, wf, [slice(4, 7), slice(7, 10)], first_day=4)
    # candidate 0: in-sample minus walk-forward is 1 on every day; candidate 1: 1.5
    assert gaps.tolist() == [1.0, 1.5, 1.0, 1.5]


def test_in_sample_uses_window_and_period_gaps_walk_forward_only_period():
    inputs = EpsInputs(window_gaps=np.arange(10.0), period_gaps=np.array([0.5, 0.25]))
    assert inputs.gaps_for(GainSource.IN_SAMPLE).size == 12
    assert inputs.gaps_for(GainSource.WALK_FORWARD).tolist() == [0.5, 0.25]


def test_historical_quantile_from_window_gaps_is_recorded():
    gaps = np.arange(1, 11) / 10
    got = choose_eps(EpsEstimator.HISTORICAL_QUANTILE, EpsInputs(window_gaps=gaps), GainSource.IN_SAMPLE)
    assert got == EpsChoice(EpsEstimator.HISTORICAL_QUANTILE, 1.0, 10, "level 0.9 on 10 gap(s)")


def test_too_few_gaps_fall_back_to_the_constant_and_say_so():
    got = choose_eps("historical_quantile", EpsInputs(period_gaps=np.ones(3)), GainSource.WALK_FORWARD,
                     constant=0.2)
    assert got.estimator is EpsEstimator.CONSTANT and got.value == 0.2
    assert "needs 10 gaps, has 3" in got.detail


def test_conservative_takes_the_max_of_what_is_available():
    rng = np.random.default_rng(0)
    inputs = EpsInputs(period_gaps=rng.normal(0.1, 0.05, 30), replay_sample=np.array([1.0, 2.0, 3.0]),
                       recent_sample=np.array([2.0, 3.0, 4.0]), lipschitz=0.5)
    got = choose_eps(EpsEstimator.CONSERVATIVE, inputs, GainSource.WALK_FORWARD)
    assert got.estimator is EpsEstimator.CONSERVATIVE
    assert got.value == pytest.approx(max(0.5, float(np.quantile(inputs.period_gaps, 0.9, method="higher"))))
    assert "ipm=0.5" in got.detail


def test_shift_conditioned_from_period_gaps():
    x = np.linspace(0, 1, 20)
    inputs = EpsInputs(period_gaps=2.0 * x, period_shift=x, shift_now=np.array([0.5]))
    got = choose_eps(EpsEstimator.SHIFT_CONDITIONED, inputs, GainSource.WALK_FORWARD)
    assert got.value == pytest.approx(1.0, abs=1e-6)
