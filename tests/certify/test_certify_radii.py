import math

import numpy as np
import pytest
from scipy import stats

from certify import block_means, blockwise_t_radius, default_block, hoeffding_radius


def test_hoeffding_radius_hand_computation():
    # n=100, B=10, N_t=3, delta=0.05:
    # 2*N_t/delta = 120; ln(120) = 4.787491742782046
    # 2*ln(120)/100 = 0.09574983485564092; sqrt = 0.3094347020869523; * 10
    assert hoeffding_radius(100, 10.0, 3, 0.05) == pytest.approx(3.094347020869523, abs=1e-12)


def test_hoeffding_radius_second_hand_computation():
    # n=4, B=3, N_t=2, delta=0.1: 2*N_t/delta = 40; ln(40) = 3.6888794541139363
    # 2*ln(40)/4 = 1.8444397270569681; sqrt = 1.3581015157604...; * 3 = 4.0743045...
    expected = 3.0 * math.sqrt(1.8444397270569681)
    assert hoeffding_radius(4, 3.0, 2, 0.1) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(4.07430455, abs=1e-7)


def test_hoeffding_radius_scales_as_inverse_sqrt_n_and_linearly_in_bound():
    r100 = hoeffding_radius(100, 1.0, 5, 0.05)
    assert hoeffding_radius(400, 1.0, 5, 0.05) == pytest.approx(r100 / 2, abs=1e-12)
    assert hoeffding_radius(100, 4.0, 5, 0.05) == pytest.approx(4 * r100, abs=1e-12)
    assert hoeffding_radius(100, 1.0, 10, 0.05) > r100
    assert hoeffding_radius(100, 0.0, 5, 0.05) == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0, bound=1.0, n_pairs=1, delta=0.05), "n must be >= 1"),
        (dict(n=True, bound=1.0, n_pairs=1, delta=0.05), "n must be an integer"),
        (dict(n=10, bound=-1.0, n_pairs=1, delta=0.05), "bound must be >= 0"),
        (dict(n=10, bound=float("nan"), n_pairs=1, delta=0.05), "bound must be finite"),
        (dict(n=10, bound=1.0, n_pairs=0, delta=0.05), "n_pairs must be >= 1"),
        (dict(n=10, bound=1.0, n_pairs=1, delta=0.0), "delta must lie strictly between"),
        (dict(n=10, bound=1.0, n_pairs=1, delta=1.0), "delta must lie strictly between"),
    ],
)
def test_hoeffding_radius_rejects_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hoeffding_radius(**kwargs)


def test_block_means_drops_incomplete_tail():
    gains = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], dtype=float)
    # blocks [1,2,3] [4,5,6] [7,8,9]; the lone 100 is an incomplete block and is dropped
    np.testing.assert_array_equal(block_means(gains, 3), [2.0, 5.0, 8.0])
    # block=5: (1+2+3+4+5)/5 = 3, (6+7+8+9+100)/5 = 26
    np.testing.assert_array_equal(block_means(gains, 5), [3.0, 26.0])
    assert block_means(gains, 11).size == 0


def test_block_means_rejects_bad_input():
    with pytest.raises(ValueError, match="block must be >= 1"):
        block_means(np.ones(5), 0)
    with pytest.raises(ValueError, match="finite"):
        block_means(np.array([1.0, np.nan]), 1)
    with pytest.raises(ValueError, match="one-dimensional"):
        block_means(np.ones((2, 2)), 1)


def test_blockwise_t_radius_hand_example():
    gains = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 1], dtype=float)
    # block=3: block means 2, 5, 8 (tail day dropped); M=3, mean 5
    # s_b^2 = ((2-5)^2 + 0 + (8-5)^2) / 2 = 9 -> s_b = 3
    # N_t=1, delta=0.05: t_{0.975, 2} * 3 / sqrt(3) = t * sqrt(3)
    t_crit = stats.t.ppf(0.975, 2)
    radius, m = blockwise_t_radius(gains, 3, 1, 0.05)
    assert m == 3
    assert radius == pytest.approx(t_crit * 3.0 / math.sqrt(3.0), abs=1e-12)
    assert radius == pytest.approx(4.302652729749462 * 1.7320508075688772, abs=1e-9)


def test_blockwise_t_radius_second_hand_example_with_pairs_budget():
    gains = np.array([0, 2, 1, 1, 3, 5, -1, -1], dtype=float)
    # block=2: means 1, 1, 4, -1; M=4; mean 1.25
    # deviations -0.25, -0.25, 2.75, -2.25; squares sum 12.75; /3 = 4.25
    # N_t=4, delta=0.1: level 1 - 0.1/8 = 0.9875, df 3
    t_crit = stats.t.ppf(0.9875, 3)
    radius, m = blockwise_t_radius(gains, 2, 4, 0.1)
    assert m == 4
    assert radius == pytest.approx(t_crit * math.sqrt(4.25) / 2.0, abs=1e-12)


def test_blockwise_t_radius_needs_two_blocks():
    with pytest.raises(ValueError, match="at least 2 complete blocks; 13 gains with block=7 give M=1"):
        blockwise_t_radius(np.ones(13), 7, 1, 0.05)
    radius, m = blockwise_t_radius(np.ones(14), 7, 1, 0.05)
    assert (radius, m) == (0.0, 2)


@pytest.mark.parametrize("lead_time, expected", [(0, 7), (1, 7), (6, 7), (7, 8), (10, 11)])
def test_default_block(lead_time, expected):
    assert default_block(lead_time) == expected


def test_default_block_rejects_negative_lead_time():
    with pytest.raises(ValueError, match="lead_time must be >= 0"):
        default_block(-1)
