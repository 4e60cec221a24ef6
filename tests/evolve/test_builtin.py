import random

import numpy as np
import pytest

from evolve.builtin.canonical import canonical_source
from evolve.builtin.genome import Cap, Forecast, Genome, Position, Protection, Shape
from evolve.builtin.proposer import BuiltinProposer, ScreenConfig
from evolve.builtin.render import genome_of, render
from evolve.builtin.search import crossover, mutate, seeds
from evolve.proposer import PoolEntry, ProposalContext
from inventory.observation import Observation
from inventory.policy import compile_policy
from inventory.sequence import Availability, FeatureKind, FeatureSpec
from inventory.simulator import simulate_fn
from inventory.tuning import TuningConfig, tune_policy
from inventory.workspace import load_workspace
from tests.conftest import build_workspace
from sandbox.validator import validate_policy

FAST = TuningConfig(n_trials=16, batch_size=16, n_startup_trials=16)
MAX_LINES = 140  # the largest structure (every helper) renders to 139 lines


def test_every_combination_of_genes_renders_to_valid_source():
    import itertools
    for f, weekday, lifts, reset, prot, pos, shape, cap in itertools.product(
            list(Forecast), (False, True), (False, True), (False, True), list(Protection), list(Position),
            list(Shape), list(Cap)):
        g = Genome(f, 28, ("promo",), weekday, lifts, reset, prot, pos, 2 if pos is Position.PROJECTED else 1, shape, cap)
        src = render(g)
        assert len(src.splitlines()) <= MAX_LINES and genome_of(src) == g
        assert validate_policy(src).ok, (g, validate_policy(src).reasons)


def _namespace(src):
    ns = {}
    exec(compile(src, "<policy>", "exec"), ns)  # noqa: S102 - our own template output
    return ns


def _obs(demand, lead=1, on_hand=0.0, pipeline=(), features=None):
    t = len(demand)
    return Observation(t=t, date=str(np.datetime64("2024-01-01") + t), on_hand=np.array([on_hand]),
                       pipeline=np.array([pipeline], dtype=float).reshape(1, -1), position=np.array([on_hand + sum(pipeline)]),
                       demand=np.asarray(demand, dtype=float), features=features or {}, h=1.0, p=9.0, lead_time=lead)


def test_every_structure_renders_to_a_valid_working_readable_policy(workspace_dir):
    ws = load_workspace(workspace_dir)
    specs, lead = ws.spec.features, ws.spec.problem.lead_time
    rng = random.Random(0)
    genomes = {g.canonical(specs, lead) for g in seeds(specs, ws.replay.demand)}
    for g in sorted(genomes, key=Genome.key):
        for _ in range(4):
            genomes.add(mutate(g, specs, rng).canonical(specs, lead))
        genomes.add(crossover(g, rng.choice(sorted(genomes, key=Genome.key)), rng).canonical(specs, lead))
    for f in Forecast:
        genomes.add(Genome(f, 28, ("promo",), lifts=True, position=Position.PROJECTED).canonical(specs, lead))
    problem = ws.replay_problem()
    for g in sorted(genomes, key=Genome.key):
        src = render(g)
        assert validate_policy(src).ok, (g, validate_policy(src).reasons)
        assert genome_of(src) == g
        assert len(src.splitlines()) <= MAX_LINES
        prog = compile_policy(src)
        res = tune_policy(prog, problem, FAST)
        assert np.isfinite(res.value), g
        assert prog.vectorised, g  # built-in policies are written vectorised


def test_canonical_form_drops_what_cannot_change_the_policy():
    specs = (FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, ""),
             FeatureSpec("temp", FeatureKind.NUMERIC, Availability.SAME_DAY, 0, ""))
    dual = Genome(Forecast.MA, 28, ("temp",), position=Position.DUAL, cover=2)
    assert dual.canonical(specs, 1) == Genome(Forecast.MA, 28)
    assert dual.canonical(specs, 3).position is Position.DUAL
    assert Genome(Forecast.EWMA, lifts=True).canonical(specs, 2).features == ("promo",)
    assert Genome(Forecast.EWMA, lifts=True).canonical((), 2) == Genome(Forecast.EWMA)
    assert Genome.from_key(dual.key()) == dual
    with pytest.raises(ValueError):
        Genome.from_key('{"no_such_gene": 1}')


def test_canonical_source_ignores_comments_docstrings_and_local_names():
    a = '"""A."""\nimport numpy as np\n\ndef order(obs, params):\n    gap = params["S"] - obs.position  # c\n    return np.maximum(gap, 0)\n'
    b = 'import numpy as np\ndef order(obs, params):\n    """doc"""\n    g = params["S"] - obs.position\n    return np.maximum(g, 0)\n'
    c = a.replace('"S"', '"T"')
    assert canonical_source(a) == canonical_source(b) != canonical_source(c)


def test_intermittent_forecasts_follow_their_definitions():
    demand = np.array([0, 0, 4, 0, 0, 4, 0, 0, 4, 0, 0, 4] * 3, dtype=float)  # size 4 every 3 days
    rates = {}
    for f in (Forecast.CROSTON, Forecast.SBA, Forecast.TSB):
        ns = _namespace(render(Genome(f, 0)))
        params = {"alpha": np.array([0.2]), "beta": np.array([0.2]), "w0": np.array([0.0])}
        ahead, _ = ns["forecast"](_obs(demand), params)
        rates[f] = float(np.ravel(ahead)[0])
    assert rates[Forecast.CROSTON] == pytest.approx(4 / 3)
    assert rates[Forecast.SBA] == pytest.approx(4 / 3 * 0.9)
    assert 0.9 < rates[Forecast.TSB] < 1.8  # occurrence probability ~1/3 times size 4


def test_projected_on_hand_draws_down_with_lost_sales():
    ns = _namespace(render(Genome(Forecast.MA, 0, position=Position.PROJECTED)))
    obs = _obs([5.0] * 60, lead=3, on_hand=3.0, pipeline=(2.0, 20.0))
    # day t: 3 - 5 -> 0 (2 lost), + 2 arrives; day t+1: 2 - 5 -> 0, + 20 arrives; day t+2: 20 - 5 = 15
    assert ns["projected_on_hand"](obs, np.full(4, 5.0))[0] == pytest.approx(15.0)


def test_lifts_raise_announced_days():
    promo = np.zeros(80)
    promo[::10] = 1.0
    demand = np.where(promo[:70] > 0, 30.0, 10.0)
    ns = _namespace(render(Genome(Forecast.MA, 0, ("promo",), lifts=True)))
    obs = _obs(demand, lead=2, features={"promo": promo[:75]})
    ahead, _ = ns["forecast"](obs, {"a": np.array([1.0]), "z": np.array([0.0]), "w0": np.array([0.0])})
    assert ahead[0] > 2.5 * ahead[1]  # day 70 is a promotion day, 71 and 72 are not


def test_regression_structure_beats_best_baseline_on_feature_driven_demand(workspace_dir):
    ws = load_workspace(workspace_dir)
    best = min(r.replay_cost for r in ws.baselines.values())
    g = Genome(Forecast.REGRESSION, 0, ("promo",))
    res = tune_policy(compile_policy(render(g)), ws.replay_problem(), TuningConfig(n_trials=60, batch_size=30))
    assert res.value < best * 0.95


def test_proposer_screens_dedups_and_is_deterministic(workspace_dir):
    ws = load_workspace(workspace_dir)
    screen = ScreenConfig(days=60, n_trials=8, batch_size=8)
    first = BuiltinProposer(per_round=2, breadth=3, screen=screen)
    ctx = ProposalContext(ws, 1, 4, 0, (), "baseline-x", "baseline-x")
    props = first.propose(ctx)
    assert len(props) == 2 and first.stats.screened > 2
    assert [p.source for p in props] == [p.source for p in BuiltinProposer(per_round=2, breadth=3, screen=screen).propose(ctx)]
    costs = [float(p.meta["screen_cost"]) for p in props]
    assert costs == sorted(costs)
    pool = tuple(PoolEntry(f"c{i}", p.name, p.source, 10.0 + i, {}, "builtin") for i, p in enumerate(props))
    later = first.propose(ProposalContext(ws, 2, 4, 0, pool, "c0", "c0"))
    assert len(later) == 2
    assert not {canonical_source(p.source) for p in later} & {canonical_source(p.source) for p in props}
    assert first.stats.duplicates_rejected >= 0 and first.stats.generated >= first.stats.screened


def test_duplicates_of_pool_members_are_rejected_and_counted(workspace_dir):
    ws = load_workspace(workspace_dir)
    specs, lead = ws.spec.features, ws.spec.problem.lead_time
    first_seed = seeds(specs, ws.replay.demand)[0].canonical(specs, lead)
    # an LLM's copy of the first seed: other docstring, no genome tag, a comment changed
    src = render(first_seed)
    twin = src[src.index('import numpy'):].replace("days of history used", "history length")
    assert genome_of(twin) is None
    pool = (PoolEntry("q", "llm-1", twin, 6.0, {}, "llm"),)
    proposer = BuiltinProposer(per_round=2, breadth=2, screen=ScreenConfig(days=30, n_trials=4, batch_size=4))
    props = proposer.propose(ProposalContext(ws, 1, 6, 0, pool, "q", "q"))
    assert proposer.stats.duplicates_rejected == 1
    assert all(canonical_source(p.source) != canonical_source(twin) for p in props)
    assert props[0].meta["duplicates_rejected"] == "1"


def test_built_in_policies_replay_the_same_one_row_at_a_time(tmp_path):
    """The trusted replay asks for one decision at a time (a batch of one): same costs as the batch."""
    ws = load_workspace(build_workspace(tmp_path / "ws", lead=3))
    problem = ws.replay_problem()
    g = Genome(Forecast.EWMA, 56, position=Position.DUAL, shape=Shape.SMOOTHED, cap=Cap.TILTED)
    prog = compile_policy(render(g.canonical(ws.spec.features, 3)))
    space = prog.space(problem.info)
    rng = np.random.default_rng(0)
    batch = {s.name: rng.uniform(s.low, s.high, 4) if not s.integer else np.full(4, s.low) for s in space}
    full = simulate_fn(prog.order, problem.seq, problem.specs, problem.model, batch, init=problem.init)
    one = simulate_fn(prog.order, problem.seq, problem.specs, problem.model, {k: v[2:3] for k, v in batch.items()},
                      init=problem.init)
    assert np.allclose(full.costs[2], one.costs[0])
