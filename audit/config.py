"""Settings of one audit. Every field is used; the CLI flags set the ones a user changes."""
from __future__ import annotations

import math
from dataclasses import dataclass

from evolve.config import SANDBOX_BACKENDS, ConfigError


@dataclass(frozen=True)
class AuditConfig:
    """Sizes of the probe grid and replays, thresholds of the verdicts, and the sandbox.

    ``max_order``: the stated cap on a single order; None derives it from the workspace as
    ``I_max = (L + 2) * D_max`` (the inventory level the Hoeffding bound B of the run
    assumes is never exceeded, see ``evolve.controller.gain_bound_for``).
    """

    sandbox: str = "auto"
    seed: int = 0
    trials: int = 50                 # Optuna trials when auditing a policy file (tuned here)
    max_order: float | None = None
    grid_positions: int = 25         # inventory positions per probe day
    grid_days: int = 3               # probe days spread over the replay window
    long_days: int = 1000            # length of the long-horizon replay
    drift_ratio: float = 3.0         # late/early mean level that counts as drift or explosion
    perturbation: float = 0.10       # relative size of the parameter perturbations
    sensitivity_warn: float = 0.10   # cost increase (relative) under a perturbation that warns
    stress_tolerance: float = 0.0    # stress cost above reference x (1 + tol) warns
    reproduce_tol: float = 1e-6      # relative tolerance when re-running a recorded replay

    def __post_init__(self) -> None:
        if self.sandbox not in SANDBOX_BACKENDS:
            raise ConfigError(f"audit: sandbox must be one of {SANDBOX_BACKENDS}, got {self.sandbox!r}")
        if self.trials < 1:
            raise ConfigError(f"audit: trials must be >= 1, got {self.trials}")
        if self.max_order is not None and not (math.isfinite(self.max_order) and self.max_order > 0):
            raise ConfigError(f"audit: max_order must be a finite number > 0, got {self.max_order}")
        if self.grid_positions < 3 or self.grid_days < 1:
            raise ConfigError("audit: grid_positions must be >= 3 and grid_days >= 1")
        if self.long_days < 28:
            raise ConfigError(f"audit: long_days must be >= 28, got {self.long_days}")
        if not self.drift_ratio > 1:
            raise ConfigError(f"audit: drift_ratio must be > 1, got {self.drift_ratio}")
        if not 0 < self.perturbation < 1:
            raise ConfigError(f"audit: perturbation must be in (0, 1), got {self.perturbation}")
        for name in ("sensitivity_warn", "stress_tolerance", "reproduce_tol"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"audit: {name} must be a finite number >= 0, got {value}")
