"""Optuna tuning of a policy's declared parameters: exact where it can be, cheap everywhere.

The budget rule (the same for every policy, baselines and candidates alike):

1. **Exact.** When every parameter is an integer (or fixed) and the grid of all their
   values has at most ``grid_limit`` points, every point is scored: the grid is replayed in
   vectorised chunks of ``max_batch`` parameter sets and the minimum is exact on the replay
   window (ties go to the first point in lexicographic order). Optuna's ``GridSampler`` /
   ``BruteForceSampler`` would enumerate the same points, but their bookkeeping is quadratic
   in the number of trials (a 16 x 16 grid: 89 s in ``benchmarks/tuning_speed.py`` on a
   loaded machine, where a 4,096-point replay of 100 days takes about 20 ms), so the points
   are generated here and, when a ``storage`` is given, recorded in the Optuna study with
   ``Study.add_trials`` (a resumed study is not re-scored).
2. **Model-based** otherwise: ``n_startup_trials`` scrambled-Sobol points, then
   multivariate TPE (Optuna's ``TPESampler``, constant liar) up to ``n_trials`` trials, asked
   ``batch_size`` at a time so that one vectorised replay scores a whole batch. The default
   budget (16 Sobol points, then 48 TPE trials in batches of 8) is the one
   ``benchmarks/tuning_speed.py`` measures against larger budgets. Optuna's own per-trial
   cost (TPE's grows with the trials already told) dominates a 100-day replay, so trials
   are few; batches stay small because sequential rounds are what make TPE adaptive.

Deterministic for a given ``TuningConfig.seed``. With a SQLite (or any Optuna) ``storage``
the study is resumable: a resumed model-based study only asks for the trials that were not
completed (trials left RUNNING by a killed process are ignored).
"""
from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass
from enum import Enum
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
    """One budget rule for every policy, so that comparisons are fair (see the module docstring)."""

    n_trials: int = 64
    seed: int = 0
    batch_size: int = 8
    n_startup_trials: int = 16
    grid_limit: int = 65536
    max_batch: int = 512

    def __post_init__(self) -> None:
        if self.n_trials < 1 or self.batch_size < 1 or self.n_startup_trials < 0:
            raise ValueError("n_trials and batch_size must be >= 1, n_startup_trials >= 0")
        if self.grid_limit < 0 or self.max_batch < 1:
            raise ValueError("grid_limit must be >= 0 and max_batch >= 1")


class Method(str, Enum):
    """How a space was tuned (recorded in :class:`TuneResult`)."""

    EXACT = "exact"   # every point of an integer grid scored
    TPE = "tpe"       # Sobol start-up + multivariate TPE
    FIXED = "fixed"   # nothing to tune


@dataclass(frozen=True)
class TuneResult:
    params: dict[str, float]
    value: float
    n_trials: int
    method: Method = Method.TPE


def grid_points(space: Sequence[ParamSpec], limit: int) -> list[tuple[float, ...]] | None:
    """Every point of an all-integer space in lexicographic order, or None (not integer, or too big)."""
    axes = []
    size = 1
    for s in space:
        if s.low == s.high:
            axes.append((float(s.low),))
            continue
        if not s.integer:
            return None
        lo, hi = int(np.ceil(s.low)), int(np.floor(s.high))
        axes.append(tuple(float(v) for v in range(lo, hi + 1)))
        size *= len(axes[-1])
        if size > limit:
            return None
    return list(itertools.product(*axes))


def _distribution(spec: ParamSpec) -> optuna.distributions.BaseDistribution:
    if spec.low == spec.high:
        return optuna.distributions.FloatDistribution(spec.low, spec.high)
    if spec.integer:
        return optuna.distributions.IntDistribution(int(np.ceil(spec.low)), int(np.floor(spec.high)))
    return optuna.distributions.FloatDistribution(spec.low, spec.high, log=spec.log)


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


def _score_chunks(objective: BatchObjective, names: list[str], points: Sequence[tuple[float, ...]],
                  chunk: int) -> np.ndarray:
    values = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = np.asarray(points[start:start + chunk], dtype=float).reshape(-1, len(names))
        batch = {n: block[:, i].copy() for i, n in enumerate(names)}
        values[start:start + len(block)] = np.asarray(objective(batch), dtype=float)
    return values


def _tune_exact(objective: BatchObjective, space: Sequence[ParamSpec], points: list[tuple[float, ...]],
                config: TuningConfig, storage, study_name: str) -> TuneResult:
    names = [s.name for s in space]
    values = None
    study = None
    if storage is not None:
        study = optuna.create_study(study_name=study_name, storage=storage, direction="minimize", load_if_exists=True)
        done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
        if len(done) == len(points):  # recorded by an interrupted run: read, do not re-score
            by_point = {tuple(float(t.params[n]) for n in names): t.value for t in done}
            values = np.array([by_point.get(p, np.nan) for p in points], dtype=float)
    if values is None:
        values = _score_chunks(objective, names, points, config.max_batch)
        if study is not None:
            dists = {s.name: _distribution(s) for s in space}
            study.add_trials([
                optuna.trial.create_trial(
                    params={n: (int(v) if isinstance(dists[n], optuna.distributions.IntDistribution) else v)
                            for n, v in zip(names, p)},
                    distributions=dists, value=float(v) if np.isfinite(v) else None,
                    state=optuna.trial.TrialState.COMPLETE if np.isfinite(v) else optuna.trial.TrialState.FAIL)
                for p, v in zip(points, values)
            ])
    finite = np.isfinite(values)
    if not finite.any():
        raise RuntimeError(f"study {study_name!r}: no trial finished with a finite cost")
    best = int(np.argmin(np.where(finite, values, np.inf)))
    return TuneResult(dict(zip(names, points[best])), float(values[best]), len(points), Method.EXACT)


def _tune_tpe(objective: BatchObjective, space: Sequence[ParamSpec], config: TuningConfig,
              storage, study_name: str) -> TuneResult:
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
        size = min(config.batch_size, remaining, config.max_batch)
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
    return TuneResult(params, float(best.value), config.n_trials, Method.TPE)


def tune(
    objective: BatchObjective,
    space: Sequence[ParamSpec],
    config: TuningConfig = TuningConfig(),
    *,
    storage: "str | optuna.storages.BaseStorage | None" = None,
    study_name: str = "policy",
) -> TuneResult:
    """Minimise ``objective`` (mean cost per parameter set) over ``space`` by the budget rule."""
    if not space:
        value = float(np.asarray(objective({}))[0])
        return TuneResult({}, value, 1, Method.FIXED)
    points = grid_points(space, config.grid_limit)
    if points is not None:
        return _tune_exact(objective, space, points, config, storage, study_name)
    return _tune_tpe(objective, space, config, storage, study_name)


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
