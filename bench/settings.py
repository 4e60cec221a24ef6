"""What a sweep runs with: the evolve configuration and the proposer, as picklable values.

A sweep directory records :meth:`BenchSettings.identity`; re-running into it with other
settings is refused, so a table never mixes workspaces run under different budgets.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evolve.config import EvolveConfig
from evolve.proposer import Proposer


@dataclass(frozen=True)
class ProposerSpec:
    """``--llm`` and its options, exactly as ``evolve`` takes them; ``llm`` None = built-in proposer."""

    llm: str | None = None
    base_url: str | None = None
    agent_config: str | None = None
    budget: int | None = None
    concurrency: int | None = None

    @property
    def label(self) -> str:
        return f"LLM {self.llm}" if self.llm else "built-in proposer"

    def make(self, config: EvolveConfig, workspace: Any, run_dir: Path) -> Proposer:
        """A fresh proposer for one workspace's run (what ``evolve`` builds from the same flags)."""
        if self.llm:
            from agent import make_proposer_from_cli
            return make_proposer_from_cli(self.llm, self.base_url,
                                          Path(self.agent_config) if self.agent_config else None, config, run_dir,
                                          budget=self.budget, concurrency=self.concurrency)
        from evolve.builtin import BuiltinProposer
        return BuiltinProposer(per_round=config.search.candidates_per_round)


@dataclass(frozen=True)
class BenchSettings:
    """Settings shared by every workspace of a sweep (all of them decide results).

    ``evolve`` (exp3 only): False skips the evolve run of each scenario, leaving the
    baselines, the library variants and the exact DP (Tables 5-7 in minutes, not hours).
    """

    config: EvolveConfig = field(default_factory=EvolveConfig)
    proposer: ProposerSpec = field(default_factory=ProposerSpec)
    evolve: bool = True

    def identity(self) -> dict[str, Any]:
        """The settings that decide results (a sweep directory must be reused only with these).

        A field added after sweeps were written appears only when it differs from its
        default, so those sweeps stay readable.
        """
        out: dict[str, Any] = {"config": self.config.to_dict(), "proposer": asdict(self.proposer)}
        if not self.evolve:
            out["evolve"] = False
        return out
