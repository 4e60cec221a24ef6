"""Where eps_t comes from: gap data for the three estimators of :mod:`certify.epsilon`.

A *gap* is a certified gain minus the gain later realised on days the certificate did not
see (positive = the certificate was optimistic). Two kinds are measured:

- **window gaps**, inside one replay window: for each candidate and walk-forward segment,
  the candidate's in-sample gain on the segment's days (tuned on the whole window) minus
  its walk-forward gain there (tuned only on the days before). This is the optimism of
  tuning and scoring on the same days, which is what eps must cover when a gate uses
  in-sample gains (the paper's modes);
- **period gaps**, across periods (``evolve --periods``): the mean gain a period certified
  for the deployed policy minus the gain it realised in the next period. This is the
  replay-to-deployment discrepancy itself, whatever the gain source.

:func:`choose_eps` applies the configured estimator to the gaps that fit the gain source
and returns an :class:`EpsChoice`, which every certificate records. With too few gaps for
the estimator it falls back to the configured constant and says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import numpy as np

from certify._checks import check_open_unit, check_real, min_sample_for_level
from certify.epsilon import conservative_eps, historical_quantile_eps, ipm_eps, shift_conditioned_eps
from certify.method import GainSource


class EpsEstimator(str, Enum):
    CONSTANT = "constant"
    HISTORICAL_QUANTILE = "historical_quantile"
    SHIFT_CONDITIONED = "shift_conditioned"
    IPM = "ipm"
    CONSERVATIVE = "conservative"     # max of those that have enough data


@dataclass(frozen=True)
class EpsChoice:
    """The eps a gate used, which estimator set it, and on how many gaps."""

    estimator: EpsEstimator
    value: float
    n_gaps: int = 0
    detail: str = ""


@dataclass(frozen=True)
class EpsInputs:
    """Everything eps may be estimated from; every field is optional.

    ``period_shift`` has one row of observable shift features per past period (aligned
    with ``period_gaps``) and ``shift_now`` the same features for the current period.
    ``replay_sample``/``recent_sample`` (e.g. daily demand of the replay window and of the
    most recent days) and ``lipschitz`` feed the IPM plug-in.
    """

    window_gaps: np.ndarray | None = None
    period_gaps: np.ndarray | None = None
    period_shift: np.ndarray | None = None
    shift_now: np.ndarray | None = None
    replay_sample: np.ndarray | None = None
    recent_sample: np.ndarray | None = None
    lipschitz: float | None = None

    def gaps_for(self, source: GainSource) -> np.ndarray:
        """Gaps that measure the optimism of gains from ``source``.

        In-sample gains are optimistic by the window gaps and by the period gaps;
        walk-forward and replication gains are not tuned on their own days, so only the
        period gaps (the real replay-to-deployment record) apply to them.
        """
        parts = [] if self.period_gaps is None else [np.asarray(self.period_gaps, float).ravel()]
        if source is GainSource.IN_SAMPLE and self.window_gaps is not None:
            parts.append(np.asarray(self.window_gaps, float).ravel())
        return np.concatenate(parts) if parts else np.empty(0)


def window_gaps(in_sample: np.ndarray, walk_forward: np.ndarray, segments: Sequence[slice],
                first_day: int) -> np.ndarray:
    """Per candidate and segment: mean in-sample gain minus mean walk-forward gain.

    ``in_sample`` is (n_days, k) over the whole replay window; ``walk_forward`` is
    (n_wf, k) over the concatenated segments, which start at replay day ``first_day``;
    ``segments`` are replay-day slices. Returns a (n_segments * k,) array.
    """
    ins = np.atleast_2d(np.asarray(in_sample, float).T).T
    wf = np.atleast_2d(np.asarray(walk_forward, float).T).T
    out = []
    for seg in segments:
        a = ins[seg.start:seg.stop].mean(axis=0)
        b = wf[seg.start - first_day:seg.stop - first_day].mean(axis=0)
        out.append(a - b)
    return np.concatenate(out) if out else np.empty(0)


def choose_eps(estimator: EpsEstimator | str, inputs: EpsInputs, source: GainSource, *,
               level: float = 0.9, constant: float = 0.0) -> EpsChoice:
    """Apply ``estimator`` to the gaps that fit ``source`` (see :meth:`EpsInputs.gaps_for`).

    ``constant`` is used as is for ``CONSTANT`` and as the fallback when an estimator lacks
    data; the returned choice then names ``CONSTANT`` and says what was missing.
    """
    est = EpsEstimator(estimator)
    level = check_open_unit("level", level)
    constant = check_real("constant", constant, 0.0)
    if est is EpsEstimator.CONSTANT:
        return EpsChoice(est, constant, 0, "configured constant")
    gaps = inputs.gaps_for(source)
    values: dict[EpsEstimator, float] = {}
    missing: list[str] = []
    if est in (EpsEstimator.HISTORICAL_QUANTILE, EpsEstimator.CONSERVATIVE):
        need = min_sample_for_level(level)
        if gaps.size >= need:
            values[EpsEstimator.HISTORICAL_QUANTILE] = historical_quantile_eps(gaps, level)
        else:
            missing.append(f"historical quantile needs {need} gaps, has {gaps.size}")
    if est in (EpsEstimator.SHIFT_CONDITIONED, EpsEstimator.CONSERVATIVE):
        if inputs.period_shift is not None and inputs.shift_now is not None and inputs.period_gaps is not None:
            try:
                values[EpsEstimator.SHIFT_CONDITIONED] = shift_conditioned_eps(
                    inputs.period_shift, inputs.period_gaps, inputs.shift_now, level)
            except ValueError as exc:
                missing.append(f"shift-conditioned: {exc}")
        else:
            missing.append("shift-conditioned needs past periods with shift features")
    if est in (EpsEstimator.IPM, EpsEstimator.CONSERVATIVE):
        if inputs.replay_sample is not None and inputs.recent_sample is not None and inputs.lipschitz is not None:
            try:
                values[EpsEstimator.IPM] = ipm_eps(inputs.replay_sample, inputs.recent_sample, inputs.lipschitz)
            except ValueError as exc:
                missing.append(f"ipm: {exc}")
        else:
            missing.append("ipm needs a replay sample, a recent sample and a Lipschitz constant")
    if not values:
        return EpsChoice(EpsEstimator.CONSTANT, constant, int(gaps.size),
                         f"{est.value} unavailable ({'; '.join(missing)}); configured constant used")
    if est is EpsEstimator.CONSERVATIVE:
        value = conservative_eps(*values.values())
        used = ", ".join(f"{k.value}={v:.4g}" for k, v in values.items())
        return EpsChoice(est, value, int(gaps.size), f"max of {used}")
    return EpsChoice(est, values[est], int(gaps.size), f"level {level:g} on {gaps.size} gap(s)")
