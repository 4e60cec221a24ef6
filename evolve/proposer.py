"""The ``Proposer`` extension point: whoever writes candidate policies.

Implementations: the built-in structural search (:mod:`evolve.builtin`) and the LLM agent
(:mod:`agent.proposer`). A proposer sees the workspace (agent-visible part only), the pool
with trusted replay scores, the certificates and the accept/reject decisions of earlier
rounds. It returns policy *source*; it never scores anything that decides.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from inventory.workspace import Workspace


@dataclass(frozen=True)
class PoolEntry:
    """A pool member as the proposer sees it (trusted numbers only)."""

    candidate_id: str
    name: str
    source: str
    replay_cost: float
    params: dict[str, float]
    origin: str                      # "baseline", "refined", or the proposer's name
    safety_lcb: float | None = None  # LCB of gain vs the reference, when certified


@dataclass(frozen=True)
class Feedback:
    """What happened to one earlier proposal."""

    round: int
    candidate_id: str
    name: str
    status: str                      # "promoted", "pooled", "rejected", "failed"
    replay_cost: float | None
    message: str                     # gate outcomes with numbers, or the failure reason


@dataclass(frozen=True)
class ProposalContext:
    workspace: Workspace
    round: int
    rounds: int
    seed: int
    pool: tuple[PoolEntry, ...]
    champion_id: str
    reference_id: str
    feedback: tuple[Feedback, ...] = ()

    def entry(self, candidate_id: str) -> PoolEntry:
        return next(e for e in self.pool if e.candidate_id == candidate_id)


@dataclass(frozen=True)
class Proposal:
    source: str
    name: str
    rationale: str = ""
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The trusted verdict on one proposal, reported back to its proposer.

    Replay-window numbers only: the forward window never flows back into the search.
    """

    candidate_id: str
    status: str                      # "promoted", "pooled", "rejected", "failed"
    valid: bool                      # structurally valid and replayed without error
    replay_cost: float | None
    best_baseline_cost: float
    beats_best_baseline: bool        # replay cost strictly below the best tuned baseline
    message: str


class ProposerUnavailable(RuntimeError):
    """The proposer can produce no more candidates (e.g. its LLM endpoint is down); the loop
    stops asking it and finishes the run with what the pool holds."""


class Proposer(ABC):
    """Produces candidate policies for one round."""

    name: str = "proposer"

    @abstractmethod
    def propose(self, ctx: ProposalContext) -> list[Proposal]:
        """Candidates for this round (possibly none, e.g. when an LLM endpoint is down)."""

    def observe(self, proposal: Proposal, outcome: Outcome) -> None:
        """Learn the trusted outcome of an earlier proposal (e.g. to log a trajectory)."""

    def close(self) -> None:
        """Release clients, sandboxes, engines."""
