"""Built-in proposer: seeds structures, then mutates and crosses the best ones found so far.

Each round it (1) generates structures (round 1: every seed for the workspace; later
rounds: up to ``per_round * breadth`` mutations and crossovers of the best built-in pool
members), (2) rejects
near-duplicates by canonical form (the genome's :meth:`~Genome.canonical` and the source's
:func:`canonical_source`, against the pool, earlier feedback and each other) before anything
is tuned, (3) screens the rest with a cheap first pass (cascade): a small tuning budget on
the last ``screen.days`` replay days, and (4) proposes the ``per_round`` best of the screen.

The screen runs the proposer's own template code in this process (like the library
baselines, it is generated from enums and the workspace's declared feature names, never
from untrusted text) on the agent-visible replay window only. It only steers which
structures are proposed; every proposal is scored again by the trusted evaluator.

Stateless between calls: what to propose is derived from the context (the pool's sources
carry their genomes) and ``(seed, round)``, so a resumed run proposes exactly what the
interrupted run would have.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import numpy as np

from evolve.builtin.canonical import canonical_source
from evolve.builtin.genome import Genome
from evolve.builtin.render import genome_of, render
from evolve.builtin.search import crossover, mutate, seeds
from evolve.proposer import Proposal, ProposalContext, Proposer
from inventory.policy import PolicyError, compile_policy
from inventory.replay import ReplayProblem
from inventory.tuning import TuningConfig, tune_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreenConfig:
    """The cascade's first pass: a small budget on a short window (by default 16 Sobol points
    scored in one replay of at most the last 1,000 replay days)."""

    days: int = 1000
    n_trials: int = 16
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.days < 14 or self.n_trials < 1 or self.batch_size < 1:
            raise ValueError("screen.days must be >= 14, n_trials and batch_size >= 1")


@dataclass
class ProposerStats:
    """Counts over the proposer's life (reported in logs and proposal metadata)."""

    generated: int = 0
    duplicates_rejected: int = 0
    screened: int = 0
    screen_failed: int = 0
    proposed: int = 0


class BuiltinProposer(Proposer):
    name = "builtin"

    def __init__(self, per_round: int = 3, parents: int = 4, breadth: int = 3, screen: ScreenConfig = ScreenConfig()):
        if per_round < 1 or parents < 1 or breadth < 1:
            raise ValueError("per_round, parents and breadth must be >= 1")
        self.per_round, self.parents, self.breadth, self.screen = per_round, parents, breadth, screen
        self.stats = ProposerStats()

    def propose(self, ctx: ProposalContext) -> list[Proposal]:
        specs = ctx.workspace.spec.features
        lead = ctx.workspace.spec.problem.lead_time
        days = len(ctx.workspace.replay)
        canon = lambda g: g.canonical(specs, lead, days)  # noqa: E731
        tried: set[Genome] = set()
        forms: set[str] = set()
        scored: list[tuple[float, str, Genome]] = []
        for entry in ctx.pool:
            forms.add(canonical_source(entry.source))
            g = genome_of(entry.source)
            if g is not None:
                tried.add(canon(g))
                scored.append((entry.replay_cost, entry.candidate_id, canon(g)))
        for fb in ctx.feedback:
            g = genome_of_name(fb.name)
            if g is not None:
                tried.add(canon(g))
        rng = random.Random(f"{ctx.seed}-{ctx.round}")
        parents = [g for _, _, g in sorted(scored, key=lambda s: (s[0], s[1]))][: self.parents]
        want = self.per_round * self.breadth
        pool_seeds = seeds(specs, ctx.workspace.replay.demand)
        fresh = [g for g in pool_seeds if canon(g) not in tried] if not parents else []
        picks: list[Genome] = []
        duplicates = 0

        def offer(g: Genome) -> None:
            nonlocal duplicates
            c = canon(g)
            self.stats.generated += 1
            if c in tried or c in picks or canonical_source(render(c)) in forms:
                duplicates += 1
                return
            picks.append(c)

        for g in fresh:
            offer(g)
        attempts = 0
        while len(picks) < want and parents and attempts < 50 * want:
            attempts += 1
            if len(parents) > 1 and rng.random() < 0.3:
                a, b = rng.sample(parents, 2)
                child = crossover(a, b, rng)
                if rng.random() < 0.5:
                    child = mutate(child, specs, rng)
            else:
                child = mutate(rng.choice(parents), specs, rng)
            offer(child)
        self.stats.duplicates_rejected += duplicates
        chosen = self._screen(ctx, picks)
        self.stats.proposed += len(chosen)
        log.info("builtin round %d: %d structures, %d near-duplicates rejected, %d screened, %d proposed",
                 ctx.round, len(picks) + duplicates, duplicates, len(picks), len(chosen))
        return [Proposal(render(g), name_of(g), rationale=g.describe(),
                         meta={"screen_cost": f"{cost:.6g}", "duplicates_rejected": str(duplicates)})
                for cost, g in chosen]

    def _screen(self, ctx: ProposalContext, picks: list[Genome]) -> list[tuple[float, Genome]]:
        """Cheap first pass: tune each pick on a short window with a small budget; keep the best."""
        if len(picks) <= self.per_round:
            return [(float("nan"), g) for g in picks]
        ws = ctx.workspace
        seq = ws.replay
        start = max(0, len(seq) - self.screen.days)
        problem = ReplayProblem(seq.slice(start, len(seq)) if start else seq, ws.spec.features, ws.spec.model,
                                ws.spec.initial)
        config = TuningConfig(n_trials=self.screen.n_trials, seed=ctx.seed, batch_size=self.screen.batch_size,
                              n_startup_trials=self.screen.batch_size)
        costs = []
        for g in picks:
            self.stats.screened += 1
            try:
                cost = tune_policy(compile_policy(render(g), "screen"), problem, config).value
            except (PolicyError, RuntimeError) as exc:
                self.stats.screen_failed += 1
                log.debug("screen: %s failed: %s", g.describe(), exc)
                cost = float("inf")
            costs.append(cost)
        order = sorted(range(len(picks)), key=lambda i: (costs[i], i))
        return [(costs[i], picks[i]) for i in order[: self.per_round] if np.isfinite(costs[i])] or \
            [(costs[i], picks[i]) for i in order[: self.per_round]]


def name_of(g: Genome) -> str:
    return "builtin:" + g.key()


def genome_of_name(name: str) -> Genome | None:
    if not name.startswith("builtin:"):
        return None
    try:
        return Genome.from_key(name[len("builtin:"):])
    except (ValueError, TypeError, KeyError):
        return None
