"""The workspace's demand model: validation with the field named, laws that draw what they declare."""
import numpy as np
import pytest

from inventory.demand_model import DemandModelError, Law, parse_demand_model
from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState
from inventory.workspace import ProblemSpec, WorkspaceError, WorkspaceSpec, load_workspace, seal
from inventory.workspace_write import write_workspace

HISTORY = DemandSequence(["2024-01-30", "2024-01-31"], np.array([3.0, 4.0]), {})


def _draw(table, days=40_000, seed=0):
    model = parse_demand_model(table)
    return model.sampler(".", ()).continuation(np.random.default_rng(seed), HISTORY, days)


@pytest.mark.parametrize("table, mean, var", [
    ({"law": "poisson", "mean": 5.0}, 5.0, 5.0),
    ({"law": "geometric", "mean": 5.0}, 5.0, 30.0),            # p = 1/6 on {0, 1, ...}: var = (1-p)/p^2
    ({"law": "binomial", "n": 10, "prob": 0.5}, 5.0, 2.5),
    ({"law": "negative_binomial", "mean": 5.0, "shape": 2.0}, 5.0, 5.0 + 25.0 / 2.0),
    ({"law": "uniform", "low": 0, "high": 10}, 5.0, 10.0),
    ({"law": "gamma", "shape": 2.0, "scale": 2.5}, 5.0, 12.5),
])
def test_each_law_draws_its_declared_mean_and_variance(table, mean, var):
    d = _draw(table).demand
    assert abs(d.mean() - mean) < 4 * np.sqrt(var / d.size)
    assert abs(d.var() / var - 1) < 0.06


def test_geometric_is_on_zero_and_up_with_p_zero_one_sixth():
    d = _draw({"law": "geometric", "mean": 5.0}).demand
    assert d.min() == 0 and abs((d == 0).mean() - 1 / 6) < 0.01


def test_round_and_cap_apply_and_dates_continue_the_history():
    seq = _draw({"law": "halfnormal", "scale": 6.0, "round": True, "max_demand": 9}, days=5000)
    assert np.all(seq.demand == np.round(seq.demand)) and seq.demand.max() == 9
    assert seq.dates[:2] == ["2024-02-01", "2024-02-02"]


def test_same_seed_same_path():
    a = _draw({"law": "poisson", "mean": 5.0}, days=50, seed=7).demand
    b = _draw({"law": "poisson", "mean": 5.0}, days=50, seed=7).demand
    assert np.array_equal(a, b) and not np.array_equal(a, _draw({"law": "poisson", "mean": 5.0}, days=50, seed=8).demand)


@pytest.mark.parametrize("table, field, words", [
    ({"law": "weibull"}, "demand_model.law", "must be one of"),
    ({"law": "poisson"}, "demand_model.mean", "is missing"),
    ({"law": "poisson", "mean": -1.0}, "demand_model.mean", "> 0"),
    ({"law": "poisson", "mean": 5.0, "shape": 2.0}, "demand_model.shape", "is not a field"),
    ({"law": "binomial", "n": 2.5, "prob": 0.5}, "demand_model.n", "integer"),
    ({"law": "poisson", "mean": "5"}, "demand_model.mean", "finite number"),
    ({"law": "poisson", "mean": 5.0, "round": "yes"}, "demand_model.round", "true or false"),
    ({"law": "python", "file": "../outside.py"}, "demand_model.file", "inside the workspace"),
    ({"law": "python", "file": "hidden/peek.py"}, "demand_model.file", "outside hidden"),
])
def test_malformed_models_name_the_field(table, field, words):
    with pytest.raises(DemandModelError, match=words) as info:
        parse_demand_model(table)
    assert info.value.field == field


def test_a_law_refuses_a_workspace_with_features():
    model = parse_demand_model({"law": "poisson", "mean": 5.0})
    feat = FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7)
    with pytest.raises(DemandModelError, match="python"):
        model.sampler(".", (feat,))


SAMPLER = '''
import numpy as np
SEEN = []

def sample(rng, history, days):
    SEEN.append(len(history))
    promo = (rng.random(days) < 0.5).astype(float)
    return {"demand": rng.poisson(3 + 4 * promo), "features": {"promo": promo}}
'''


def _python_workspace(tmp_path, source=SAMPLER):
    promo = FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 3, "promotion")
    rng = np.random.default_rng(0)
    p = (rng.random(70) < 0.5).astype(float)
    seq = DemandSequence([str(np.datetime64("2024-01-01") + i) for i in range(70)], rng.poisson(3 + 4 * p), {"promo": p})
    root = tmp_path / "ws"
    spec = WorkspaceSpec(ProblemSpec("py", "test", "item", 1.0, 9.0, 1, 60, 10), InitialState(5.0, (3.0,)), (promo,))
    write_workspace(root, spec, seq.slice(0, 60), seq.slice(60, 70))
    # the user's path: add the sampler and its [demand_model] table, then seal
    (root / "demand_model.py").write_text(source)
    with open(root / "workspace.toml", "a") as fh:
        fh.write('\n[demand_model]\nlaw = "python"\nfile = "demand_model.py"\n')
    seal(root)
    return root


def test_python_sampler_draws_features_and_sees_only_the_history(tmp_path):
    ws = load_workspace(_python_workspace(tmp_path))
    assert ws.spec.demand_model.law is Law.PYTHON
    sampler = ws.spec.demand_model.sampler(ws.root, ws.spec.features)
    seq = sampler.continuation(np.random.default_rng(1), ws.replay, 200)
    assert len(seq) == 200 and set(seq.features) == {"promo"}
    hi, lo = seq.demand[seq.features["promo"] == 1].mean(), seq.demand[seq.features["promo"] == 0].mean()
    assert hi > lo + 2
    ws.replay.concat(seq)  # a continuation the simulator can append to the window
    assert sampler._sample.__globals__["SEEN"] == [len(ws.replay)]   # the replay window, never the forward one


@pytest.mark.parametrize("body, words", [
    ("def sample(rng, history, days):\n    return [1.0] * (days - 1)\n", "must return"),
    ("def sample(rng, history, days):\n    return {'demand': [1.0] * days, 'features': {}}\n", "features"),
    ("def sample(rng, history, days):\n    raise KeyError('x')\n", "raised KeyError"),
    ("def draw(rng, history, days):\n    return []\n", "defines no function sample"),
])
def test_a_broken_python_sampler_is_named(tmp_path, body, words):
    root = _python_workspace(tmp_path)
    (root / "demand_model.py").write_text(body)
    seal(root)
    ws = load_workspace(root)
    with pytest.raises(DemandModelError, match=words) as info:
        ws.spec.demand_model.sampler(ws.root, ws.spec.features).continuation(np.random.default_rng(0), ws.replay, 5)
    assert "demand_model.py" in str(info.value)


def test_workspace_round_trip_and_errors_name_file_and_field(tmp_path):
    from tests.conftest import make_sequence
    seq, _ = make_sequence(80)
    plain = DemandSequence(seq.dates, seq.demand, {})
    spec = WorkspaceSpec(ProblemSpec("m", "test", "item", 1.0, 9.0, 1, 60, 20), InitialState(5.0, (3.0,)), (),
                         parse_demand_model({"law": "negative_binomial", "mean": 6.0, "shape": 3.0, "max_demand": 60}))
    ws = write_workspace(tmp_path / "m", spec, plain.slice(0, 60), plain.slice(60, 80))
    assert ws.spec.demand_model == spec.demand_model
    text = (ws.root / "problem_description.md").read_text()
    assert "Declared demand model" in text and "negative_binomial (mean = 6, shape = 3), capped at 60" in text
    toml = ws.root / "workspace.toml"
    toml.write_text(toml.read_text().replace('law = "negative_binomial"', 'law = "negbin"'))
    with pytest.raises(WorkspaceError, match=r"workspace.toml: field 'demand_model.law': must be one of"):
        seal(ws.root)
    toml.write_text(toml.read_text().replace('law = "negbin"', 'law = "python"\nfile = "nowhere.py"')
                    .replace("mean = 6.0\n", "").replace("shape = 3.0\n", ""))
    with pytest.raises(WorkspaceError, match=r"field 'demand_model.file': names 'nowhere.py'"):
        seal(ws.root)
