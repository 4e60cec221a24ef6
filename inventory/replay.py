"""A replay problem: one window, its features, costs and start state.

Kept free of Optuna and SciPy so that sandbox workers can import it cheaply; tuning a
policy on a problem is :func:`inventory.tuning.tune_policy`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inventory.policy import PolicyProgram, SpaceInfo
from inventory.sequence import CostModel, DemandSequence, FeatureSpec
from inventory.simulator import InitialState, simulate


@dataclass(frozen=True)
class ReplayProblem:
    """Everything needed to replay policies on one window."""

    seq: DemandSequence
    specs: tuple[FeatureSpec, ...]
    model: CostModel
    init: InitialState

    @property
    def info(self) -> SpaceInfo:
        return SpaceInfo.from_demand(self.seq.demand, self.model.lead_time, self.model.h, self.model.p,
                                     integer=self.model.integer_orders)

    def mean_costs(self, program: PolicyProgram, params: dict[str, np.ndarray]) -> np.ndarray:
        return simulate(program, self.seq, self.specs, self.model, params, init=self.init).mean_cost
