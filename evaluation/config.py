"""Configuration of the trusted evaluator (the ``[evaluation]`` table of an evolve config)."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EvaluatorConfig:
    """Limits the trusted evaluator enforces per candidate.

    ``candidate_budget_s``: total wall-clock seconds one candidate may take, tuning and
    trusted replay together (forward replays get a budget of their own). It is checked
    between host requests, so the overshoot is at most one request's deadline (the
    sandbox's per-request deadlines: a decision, a batch of tuning replays). A candidate
    over budget is recorded as failed with the reason. 120 s is roughly 50x what a
    365-day workspace needs with the default 50 trials.
    ``tuning_hosts``: tuning hosts kept warm, one per distinct tuning window (walk-forward
    tunes on several windows); the least recently used one is closed beyond that.
    """

    candidate_budget_s: float = 120.0
    tuning_hosts: int = 4

    def __post_init__(self) -> None:
        if not (math.isfinite(self.candidate_budget_s) and self.candidate_budget_s > 0):
            raise ValueError(f"evaluation.candidate_budget_s must be a positive number, got {self.candidate_budget_s}")
        if self.tuning_hosts < 1:
            raise ValueError(f"evaluation.tuning_hosts must be >= 1, got {self.tuning_hosts}")
