import numpy as np
import pytest
from scipy import stats

from certify import conservative_eps, historical_quantile_eps, ipm_eps, shift_conditioned_eps


def test_historical_quantile_takes_order_statistic_at_or_above_level():
    # 10 gaps 0.1..1.0, level 0.9: position (10-1)*0.9 = 8.1 -> next order statistic,
    # index 9 -> 1.0 (linear interpolation would give 0.91)
    gaps = np.arange(1, 11) / 10
    assert historical_quantile_eps(gaps, 0.9) == pytest.approx(1.0, abs=1e-12)
    # 20 gaps 1..20, level 0.9: position 19*0.9 = 17.1 -> index 18 -> 19
    assert historical_quantile_eps(np.arange(1.0, 21.0), 0.9) == 19.0
    # level 0.5 on 1..4: position 1.5 -> index 2 -> 3
    assert historical_quantile_eps(np.array([4.0, 1.0, 3.0, 2.0]), 0.5) == 3.0


def test_historical_quantile_floors_at_zero():
    assert historical_quantile_eps(-np.arange(1.0, 11.0), 0.9) == 0.0


def test_historical_quantile_needs_enough_gaps():
    with pytest.raises(ValueError, match="needs at least 10 past gaps, got 9"):
        historical_quantile_eps(np.ones(9), 0.9)
    with pytest.raises(ValueError, match="needs at least 2 past gaps, got 1"):
        historical_quantile_eps(np.ones(1), 0.5)
    with pytest.raises(ValueError, match="level must lie strictly between"):
        historical_quantile_eps(np.ones(20), 1.0)
    with pytest.raises(ValueError, match="past_gaps must be finite"):
        historical_quantile_eps(np.array([1.0] * 10 + [np.nan]), 0.9)


def test_shift_conditioned_exact_line_is_recovered():
    x = np.linspace(0.0, 3.0, 15)
    y = 1.0 + 2.0 * x
    assert shift_conditioned_eps(x, y, 4.0, 0.9) == pytest.approx(9.0, abs=1e-7)
    assert shift_conditioned_eps(x[:, None], y, np.array([0.5]), 0.9) == pytest.approx(2.0, abs=1e-7)


def test_shift_conditioned_recovers_heteroscedastic_linear_quantile():
    rng = np.random.default_rng(123)
    n = 3000
    x = rng.uniform(0.0, 2.0, n)
    y = 1.0 + 2.0 * x + (0.5 + 0.5 * x) * rng.standard_normal(n)
    # true 0.9 quantile at x: 1 + 2x + (0.5 + 0.5x) * z_0.9, z_0.9 = 1.2815515655446004
    z = stats.norm.ppf(0.9)
    truth = 1.0 + 2.0 * 1.5 + (0.5 + 0.5 * 1.5) * z
    assert truth == pytest.approx(5.6019394569, abs=1e-9)
    assert shift_conditioned_eps(x, y, 1.5, 0.9) == pytest.approx(truth, abs=0.15)


def test_shift_conditioned_two_features_uniform_noise():
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = 0.5 + x[:, 0] - 2.0 * x[:, 1] + rng.uniform(0.0, 1.0, n)
    # 0.8 quantile of U(0,1) is 0.8: at (1.0, 0.2) -> 0.5 + 1.0 - 0.4 + 0.8 = 1.9
    assert shift_conditioned_eps(x, y, np.array([1.0, 0.2]), 0.8) == pytest.approx(1.9, abs=0.05)


def test_shift_conditioned_floors_at_zero():
    x = np.linspace(0.0, 3.0, 12)
    assert shift_conditioned_eps(x, -5.0 - x, 1.0, 0.9) == 0.0


def test_shift_conditioned_validation():
    x = np.linspace(0.0, 1.0, 12)
    with pytest.raises(ValueError, match="needs at least 10 past periods, got 9"):
        shift_conditioned_eps(x[:9], x[:9], 0.5, 0.9)
    with pytest.raises(ValueError, match="needs at least 5 past periods, got 4"):
        shift_conditioned_eps(np.ones((4, 3)), np.ones(4), np.ones(3), 0.5)
    with pytest.raises(ValueError, match="collinear"):
        shift_conditioned_eps(np.ones(12), x, 1.0, 0.9)
    with pytest.raises(ValueError, match="collinear"):
        shift_conditioned_eps(np.column_stack([x, 2 * x]), x, np.ones(2), 0.9)
    with pytest.raises(ValueError, match="gaps_past has 11 values but shift_features_past has 12 rows"):
        shift_conditioned_eps(x, x[:11], 0.5, 0.9)
    with pytest.raises(ValueError, match="must hold 1 value"):
        shift_conditioned_eps(x, x, np.ones(2), 0.9)


def test_ipm_eps_hand_examples():
    # shift by 0.5 -> W1 = 0.5; times L=3 -> 1.5
    assert ipm_eps(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.5, 2.5]), 3.0) == pytest.approx(1.5, abs=1e-12)
    # sorted matching 0->1, 0->3: W1 = (1 + 3)/2 = 2
    assert ipm_eps(np.array([0.0, 0.0]), np.array([3.0, 1.0]), 1.0) == pytest.approx(2.0, abs=1e-12)
    assert ipm_eps(np.array([0.0, 1.0]), np.array([5.0, 6.0]), 0.0) == 0.0


def test_ipm_eps_validation():
    with pytest.raises(ValueError, match="at least 2 values in recent_sample, got 1"):
        ipm_eps(np.array([0.0, 1.0]), np.array([1.0]), 1.0)
    with pytest.raises(ValueError, match="lipschitz must be >= 0"):
        ipm_eps(np.array([0.0, 1.0]), np.array([1.0, 2.0]), -1.0)
    with pytest.raises(ValueError, match="replay_sample must be finite"):
        ipm_eps(np.array([0.0, np.inf]), np.array([1.0, 2.0]), 1.0)


def test_conservative_eps():
    assert conservative_eps(0.1, None, 0.3, 0.2) == 0.3
    assert conservative_eps(None, 0.0) == 0.0
    with pytest.raises(ValueError, match="at least one estimate"):
        conservative_eps(None, None)
    with pytest.raises(ValueError, match="at least one estimate"):
        conservative_eps()
    with pytest.raises(ValueError, match="eps value #1 must be >= 0"):
        conservative_eps(0.2, -0.1)
    with pytest.raises(ValueError, match="must be finite"):
        conservative_eps(float("nan"))
