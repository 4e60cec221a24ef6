"""Built-in proposer: seeds structures, then mutates the best ones found so far.

Stateless between calls: what to propose is derived from the context (the pool's sources
carry their genomes) and ``(seed, round)``, so a resumed run proposes exactly what the
interrupted run would have.
"""
from __future__ import annotations

import logging
import random

from evolve.builtin.genome import Genome, mutate, seeds
from evolve.builtin.render import genome_of, render
from evolve.proposer import Proposal, ProposalContext, Proposer

log = logging.getLogger(__name__)


class BuiltinProposer(Proposer):
    name = "builtin"

    def __init__(self, per_round: int = 3, parents: int = 3):
        self.per_round, self.parents = per_round, parents

    def propose(self, ctx: ProposalContext) -> list[Proposal]:
        specs = ctx.workspace.spec.features
        tried: set[Genome] = set()
        scored: list[tuple[float, Genome]] = []
        for entry in ctx.pool:
            g = genome_of(entry.source)
            if g is not None:
                tried.add(g)
                scored.append((entry.replay_cost, g))
        for fb in ctx.feedback:
            g = genome_of_name(fb.name)
            if g is not None:
                tried.add(g)
        picks: list[Genome] = [g for g in seeds(specs) if g not in tried][: self.per_round]
        rng = random.Random(f"{ctx.seed}-{ctx.round}")
        parents = [g for _, g in sorted(scored, key=lambda s: s[0])][: self.parents]
        attempts = 0
        while len(picks) < self.per_round and parents and attempts < 200:
            attempts += 1
            child = mutate(rng.choice(parents), specs, rng)
            if child not in tried and child not in picks:
                picks.append(child)
        return [Proposal(render(g), name_of(g), rationale=g.describe()) for g in picks]


def name_of(g: Genome) -> str:
    return "builtin:" + g.key()


def genome_of_name(name: str) -> Genome | None:
    if not name.startswith("builtin:"):
        return None
    try:
        return Genome.from_key(name[len("builtin:"):])
    except (ValueError, TypeError, KeyError):
        return None
