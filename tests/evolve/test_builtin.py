import random

import numpy as np

from evolve.builtin.genome import Genome, mutate, seeds
from evolve.builtin.proposer import BuiltinProposer
from evolve.builtin.render import genome_of, render
from evolve.proposer import PoolEntry, ProposalContext
from inventory.policy import compile_policy
from inventory.tuning import tune_policy
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace


def test_every_structure_renders_to_a_working_readable_policy(workspace_dir):
    ws = load_workspace(workspace_dir)
    specs = ws.spec.features
    rng = random.Random(0)
    genomes = set(seeds(specs))
    for g in list(genomes):
        for _ in range(6):
            genomes.add(mutate(g, specs, rng))
    problem = ws.replay_problem()
    for g in sorted(genomes, key=Genome.key):
        src = render(g)
        assert genome_of(src) == g
        assert len(src.splitlines()) < 80
        prog = compile_policy(src)
        res = tune_policy(prog, problem, TuningConfig(n_trials=10))
        assert np.isfinite(res.value)
        assert prog.vectorised, g  # built-in policies are written vectorised


def test_regression_structure_beats_best_baseline_on_feature_driven_demand(workspace_dir):
    ws = load_workspace(workspace_dir)
    best = min(r.replay_cost for r in ws.baselines.values())
    g = Genome("regression", 0, ("promo",), False, "none", False)
    res = tune_policy(compile_policy(render(g)), ws.replay_problem(), TuningConfig(n_trials=50))
    assert res.value < best * 0.95


def test_proposer_is_deterministic_and_does_not_repeat(workspace_dir):
    ws = load_workspace(workspace_dir)
    first = BuiltinProposer(per_round=3)
    ctx = ProposalContext(ws, 1, 4, 0, (), "baseline-x", "baseline-x")
    props = first.propose(ctx)
    assert [p.source for p in props] == [p.source for p in BuiltinProposer(per_round=3).propose(ctx)]
    pool = tuple(PoolEntry(f"c{i}", p.name, p.source, 10.0 + i, {}, "builtin") for i, p in enumerate(props))
    later = first.propose(ProposalContext(ws, 2, 4, 0, pool, "c0", "c0"))
    assert not {p.source for p in later} & {p.source for p in props}
    assert len(later) == 3
