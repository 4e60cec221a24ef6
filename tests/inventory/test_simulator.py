import numpy as np
import pytest

from inventory.library import BASELINES, EVOLVED, policy_source
from inventory.policy import PolicyError, compile_policy
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState, simulate, simulate_fn

from tests.conftest import make_sequence


def _seq(demand):
    return DemandSequence([f"2024-01-{i + 1:02d}" for i in range(len(demand))], np.array(demand, float), {})


def test_period_order_by_hand_lead_time_one():
    # L = 1, start with 5 on hand and 3 arriving on day 0; order-up-to S = 10 on position.
    prog = compile_policy("import numpy as np\nPARAMS={'S':(0,20)}\ndef order(obs,params):\n    return np.maximum(params['S']-obs.position,0)\n")
    seq = _seq([4, 9, 2])
    res = simulate(prog, seq, (), CostModel(1.0, 9.0, 1), {"S": np.array([10.0])}, init=InitialState(5, (3,)))
    # day 0: arrive 3 -> 8 on hand, order 2, demand 4 -> end 4, cost 4
    # day 1: arrive 2 -> 6, order 4, demand 9 -> lost 3, end 0, cost 27
    # day 2: arrive 4 -> 4, order 6, demand 2 -> end 2, cost 2
    assert res.orders[0].tolist() == [2, 4, 6]
    assert res.costs[0].tolist() == [4.0, 27.0, 2.0]
    assert res.lost[0].tolist() == [0, 3, 0]


def test_lead_time_zero_order_arrives_before_demand():
    prog = compile_policy("PARAMS={'r':(0,9)}\ndef order(obs,params):\n    return params['r']\n")
    res = simulate(prog, _seq([5, 5]), (), CostModel(1.0, 4.0, 0), {"r": np.array([3.0, 7.0])})
    assert res.costs.tolist() == [[8.0, 8.0], [2.0, 4.0]]


def test_vectorised_matches_scalar_for_every_library_policy():
    seq, specs = make_sequence(60, seed=3)
    model = CostModel(1.0, 9.0, 2)
    rng = np.random.default_rng(0)
    for name in BASELINES + EVOLVED:
        prog = compile_policy(policy_source(name), name)
        from inventory.policy import SpaceInfo
        space = prog.space(SpaceInfo.from_demand(seq.demand, 2, 1, 9))
        params = {s.name: rng.uniform(s.low, s.high, 7) for s in space}
        vec = simulate_fn(prog.order, seq, specs, model, params, init=InitialState(10, (5, 5)))
        sca = simulate_fn(prog.order, seq, specs, model, params, init=InitialState(10, (5, 5)), scalar=True)
        np.testing.assert_allclose(vec.costs, sca.costs, err_msg=name)


def test_scalar_only_policy_falls_back_automatically_and_correctly():
    src = "PARAMS={'s':(0,30),'S':(0,40)}\ndef order(obs,params):\n    if obs.position <= params['s']:\n        return max(params['S'] - obs.position, 0)\n    return 0\n"
    vec_src = "import numpy as np\nPARAMS={'s':(0,30),'S':(0,40)}\ndef order(obs,params):\n    return np.where(obs.position <= params['s'], np.maximum(params['S'] - obs.position, 0), 0)\n"
    seq, specs = make_sequence(50, seed=1)
    model = CostModel(1.0, 9.0, 1)
    params = {"s": np.array([5.0, 10.0, 15.0]), "S": np.array([20.0, 25.0, 30.0])}
    scalar_prog, vec_prog = compile_policy(src), compile_policy(vec_src)
    a = simulate(scalar_prog, seq, specs, model, params)
    b = simulate(vec_prog, seq, specs, model, params)
    assert scalar_prog.vectorised is False and vec_prog.vectorised is True
    np.testing.assert_array_equal(a.costs, b.costs)


def test_policy_that_disagrees_with_itself_uses_scalar_path():
    # Vectorised call silently broadcasts a per-batch statistic: wrong for set 0 alone.
    src = "import numpy as np\nPARAMS={'S':(0,40)}\ndef order(obs,params):\n    S = np.asarray(params['S'])\n    return np.maximum(S.mean() - obs.position, 0) + 0 * S\n"
    seq, specs = make_sequence(30, seed=2)
    prog = compile_policy(src)
    res = simulate(prog, seq, specs, CostModel(1, 9, 1), {"S": np.array([10.0, 30.0])})
    assert prog.vectorised is False
    single = simulate_fn(prog.order, seq, specs, CostModel(1, 9, 1), {"S": np.array([10.0])}, scalar=True)
    np.testing.assert_array_equal(res.costs[0], single.costs[0])


@pytest.mark.parametrize("body,msg", [
    ("return -1.0", "negative order"),
    ("return float('nan')", "NaN"),
    ("raise ZeroDivisionError('boom')", "ZeroDivisionError"),
    ("return 'ten'", "must be a number"),
])
def test_bad_orders_raise_policy_error(body, msg):
    prog = compile_policy(f"def order(obs, params):\n    {body}\n")
    with pytest.raises(PolicyError, match=msg):
        simulate(prog, _seq([1, 2, 3]), (), CostModel(1, 4, 1), {})


def test_future_demand_is_not_visible():
    peek = "def order(obs, params):\n    return obs.demand[obs.t]\n"
    with pytest.raises(PolicyError, match="IndexError"):
        simulate(compile_policy(peek), _seq([1, 2, 3]), (), CostModel(1, 4, 1), {})
    via_base = ("import numpy as np\n"
                "def order(obs, params):\n"
                "    full = obs.demand.base if obs.demand.base is not None else obs.demand\n"
                "    ahead = np.asarray(full, dtype=float)[obs.t:]\n"
                "    assert np.all(np.isnan(ahead)), 'future demand leaked'\n"
                "    return 0.0\n")
    simulate(compile_policy(via_base), _seq([1, 2, 3, 4]), (), CostModel(1, 4, 1), {})


def test_feature_availability_is_enforced():
    seq, specs = make_sequence(20, seed=0)
    seen = {}

    def spy(obs, params):
        seen[obs.t] = {k: len(v) for k, v in obs.features.items()}
        return 0.0

    simulate_fn(spy, seq, specs, CostModel(1, 4, 1), {}, scalar=True)
    assert seen[5] == {"promo": 5 + 1 + 7, "temp": 6, "note": 5}
    assert seen[19]["promo"] == 20  # clipped at the end of the window
    leak = "def order(obs, params):\n    return float(obs.features['note'][obs.t] == '')\n"
    with pytest.raises(PolicyError, match="IndexError"):
        simulate(compile_policy(leak), seq, specs, CostModel(1, 4, 1), {})


def test_observation_arrays_are_read_only():
    src = "def order(obs, params):\n    obs.demand[:] = 0\n    return 0.0\n"
    with pytest.raises(PolicyError, match="read-only"):
        simulate(compile_policy(src), _seq([1, 2, 3]), (), CostModel(1, 4, 1), {})
