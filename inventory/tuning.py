"""Optuna tuning of a policy's declared parameters (TPE, fixed seed, equal trial budget).

Trials are asked in batches so that one vectorised replay scores a whole batch. With a
SQLite ``storage`` the study lives in the run directory and a resumed run only asks for the
trials that were not completed (trials left RUNNING by a killed process are ignored).
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import optuna
from scipy.stats import qmc

from inventory.policy import ParamSpec, PolicyProgram
from inventory.replay import ReplayProblem

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

BatchObjective = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class TuningConfig:
    """Same budget for every policy, so that comparisons are fair."""

    n_trials: int = 50
    seed: int = 0
    batch_size: int = 10
    n_startup_trials: int = 10

    def __post_init__(self) -> None:
        if self.n_trials < 1 or self.batch_size < 1 or self.n_startup_trials < 0:
            raise ValueError("n_trials and batch_size must be >= 1, n_startup_trials >= 0")


@dataclass(frozen=True)
class TuneResult:
    params: dict[str, float]
    value: float
    n_trials: int


def _suggest(trial: optuna.Trial, spec: ParamSpec) -> float:
    if spec.low == spec.high:
        return float(spec.low)
    if spec.integer:
        return float(trial.suggest_int(spec.name, int(np.ceil(spec.low)), int(np.floor(spec.high))))
    return trial.suggest_float(spec.name, spec.low, spec.high, log=spec.log)


def _sobol_start(space: Sequence[ParamSpec], n: int, seed: int) -> list[dict[str, float]]:
    """Scrambled Sobol points for the start-up trials: even coverage where TPE has no model yet.

    Order quantities are rounded, so costs are flat in places; random start-up points leave
    gaps that TPE may never revisit, a low-discrepancy design does not.
    """
    if n <= 0:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # n need not be a power of two here
        unit = qmc.Sobol(d=len(space), scramble=True, seed=seed).random(n)
    points = []
    for row in unit:
        point = {}
        for u, s in zip(row, space):
            if s.log:
                value = float(np.exp(np.log(s.low) + u * (np.log(s.high) - np.log(s.low))))
            else:
                value = float(s.low + u * (s.high - s.low))
            point[s.name] = float(np.clip(round(value), np.ceil(s.low), np.floor(s.high))) if s.integer else value
        points.append(point)
    return points


def tune(
    objective: BatchObjective,
    space: Sequence[ParamSpec],
    config: TuningConfig = TuningConfig(),
    *,
    storage: "str | optuna.storages.BaseStorage | None" = None,
    study_name: str = "policy",
) -> TuneResult:
    """Minimise ``objective`` (mean cost per parameter set) over ``space``."""
    if not space:
        value = float(np.asarray(objective({}))[0])
        return TuneResult({}, value, 1)
    sampler = optuna.samplers.TPESampler(
        seed=config.seed, n_startup_trials=config.n_startup_trials, multivariate=True, constant_liar=True,
    )
    study = optuna.create_study(
        study_name=study_name, storage=storage, sampler=sampler, direction="minimize", load_if_exists=True,
    )
    trials_so_far = study.get_trials(deepcopy=False)
    done = sum(1 for t in trials_so_far if t.state == optuna.trial.TrialState.COMPLETE)
    if not trials_so_far:
        for point in _sobol_start(space, min(config.n_startup_trials, config.n_trials), config.seed):
            study.enqueue_trial(point)
    remaining = config.n_trials - done
    while remaining > 0:
        size = min(config.batch_size, remaining)
        trials = [study.ask() for _ in range(size)]
        batch = {s.name: np.array([_suggest(t, s) for t in trials]) for s in space}
        values = np.asarray(objective(batch), dtype=float)
        for trial, value in zip(trials, values):
            if np.isfinite(value):
                study.tell(trial, float(value))
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        remaining -= size
    try:
        best = study.best_trial
    except ValueError as exc:
        raise RuntimeError(f"study {study_name!r}: no trial finished with a finite cost") from exc
    params = {s.name: float(best.params.get(s.name, s.low)) for s in space}
    return TuneResult(params, float(best.value), config.n_trials)


def tune_policy(
    program: "PolicyProgram",
    problem: "ReplayProblem",
    config: TuningConfig = TuningConfig(),
    *,
    storage: "str | optuna.storages.BaseStorage | None" = None,
    study_name: str = "policy",
) -> TuneResult:
    """Optuna-tune ``program`` on ``problem``; raises PolicyError if the policy fails."""
    space = program.space(problem.info)
    return tune(lambda batch: problem.mean_costs(program, batch), space, config, storage=storage, study_name=study_name)
