"""Tune a policy on a replay window and replay it: the scoring recipe every caller shares.

The agent-facing ``evaluation.py`` of a workspace and the sandbox worker both call
:func:`tune_policy`; the trusted evaluator then re-scores the tuned parameters itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from inventory.policy import PolicyProgram, SpaceInfo
from inventory.sequence import CostModel, DemandSequence, FeatureSpec
from inventory.simulator import InitialState, simulate
from inventory.tuning import TuneResult, TuningConfig, tune


@dataclass(frozen=True)
class ReplayProblem:
    """Everything needed to replay policies on one window."""

    seq: DemandSequence
    specs: tuple[FeatureSpec, ...]
    model: CostModel
    init: InitialState

    @property
    def info(self) -> SpaceInfo:
        return SpaceInfo.from_demand(self.seq.demand, self.model.lead_time, self.model.h, self.model.p)

    def mean_costs(self, program: PolicyProgram, params: dict[str, np.ndarray]) -> np.ndarray:
        return simulate(program, self.seq, self.specs, self.model, params, init=self.init).mean_cost


def tune_policy(
    program: PolicyProgram,
    problem: ReplayProblem,
    config: TuningConfig = TuningConfig(),
    *,
    storage: str | None = None,
    study_name: str = "policy",
) -> TuneResult:
    """Optuna-tune ``program`` on ``problem``; raises PolicyError if the policy fails."""
    space = program.space(problem.info)
    return tune(lambda batch: problem.mean_costs(program, batch), space, config, storage=storage, study_name=study_name)
