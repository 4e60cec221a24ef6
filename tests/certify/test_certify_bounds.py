import numpy as np
import pytest

from certify import gain_bound


def test_gain_bound_hand_computation():
    # h=1, p=9, max inventory 40, max daily demand 20: 1*40 + 9*20 = 220
    assert gain_bound(1.0, 9.0, 40.0, 20.0) == 220.0
    assert gain_bound(0.5, 4, 10, 3) == 17.0


def test_gain_bound_caps_cost_differences_of_model_days():
    h, p, inv_max, dem_max = 1.0, 19.0, 30.0, 12.0
    bound = gain_bound(h, p, inv_max, dem_max)
    rng = np.random.default_rng(0)
    on_hand = rng.uniform(0, inv_max, size=(2, 5000))
    lost = rng.uniform(0, dem_max, size=(2, 5000))
    costs = h * on_hand + p * lost
    assert np.max(np.abs(costs[0] - costs[1])) <= bound


@pytest.mark.parametrize(
    "args, name",
    [
        ((-1.0, 1.0, 1.0, 1.0), "h"),
        ((1.0, -1.0, 1.0, 1.0), "p"),
        ((1.0, 1.0, -1.0, 1.0), "max_inventory"),
        ((1.0, 1.0, 1.0, float("inf")), "max_daily_demand"),
        ((float("nan"), 1.0, 1.0, 1.0), "h"),
    ],
)
def test_gain_bound_rejects_negative_or_non_finite(args, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        gain_bound(*args)
