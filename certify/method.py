"""The certification-method extension point: how a family of gain paths becomes intervals.

A :class:`Method` turns a gain matrix (days or replications x candidates, every column
compared with the same comparator) and the family's confidence budget into one
:class:`Interval` per column. Union-bound methods (Hoeffding, blockwise-t, the
empirical-Bernstein confidence sequence) split the budget evenly over the columns;
selection-aware methods (the max-t bootstrap) spend it on one simultaneous band, which is
what makes "pick the best of k" safe on one dependent series.

What an interval is worth depends on where its gains came from (:class:`GainSource`):
the same Hoeffding radius is a screen on tuned-and-selected replay days, and a formal
finite-sample bound on independent simulation replications. :meth:`Method.guarantee`
states that, and every certificate records it with the days its gains came from
(:class:`GainDays`), as SPEC §4's out-of-sample rule asks.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

import numpy as np

from certify._checks import check_int, check_open_unit


class GainSource(str, Enum):
    """Where a certificate's gains came from."""

    IN_SAMPLE = "in_sample"          # days the policies were tuned and selected on (the paper)
    WALK_FORWARD = "walk_forward"    # frozen-policy days after each tuning origin
    REPLICATIONS = "replications"    # independent simulated paths, one mean gain per path


class Guarantee(str, Enum):
    """What an interval promises, in the words a certificate prints."""

    SCREEN = "screen"          # no error-rate claim: a practical filter
    ASYMPTOTIC = "asymptotic"  # error rate <= delta as n grows, under stationarity and mixing
    FORMAL = "formal"          # finite-sample error rate <= delta under assumptions made true


@dataclass(frozen=True)
class GainDays:
    """Provenance of a gain path: its source and the replay days (0-based, inclusive).

    ``first_day``/``last_day`` are ``None`` for replications (no replay day is used);
    ``n_segments`` counts walk-forward segments, or replications.
    """

    source: GainSource
    first_day: int | None = None
    last_day: int | None = None
    n_segments: int | None = None

    def describe(self) -> str:
        if self.source is GainSource.REPLICATIONS:
            return f"{self.n_segments} independent simulated replications (no replay day used)"
        span = f"replay days {self.first_day}-{self.last_day}"
        if self.source is GainSource.WALK_FORWARD:
            return (f"walk-forward {span} in {self.n_segments} segment(s); each segment scored by "
                    "a policy tuned only on the days before it")
        return f"in-sample {span} (the same days the policies were tuned and selected on)"


@dataclass(frozen=True)
class Interval:
    """A confidence interval for one column's mean gain.

    ``lcb = mean - radius``; ``ucb = mean + upper_radius`` (``upper_radius`` defaults to
    ``radius``: a symmetric interval). ``n`` counts the observations that entered (days in
    complete blocks, replications);
    ``critical`` is the multiplier the radius was built from where one exists (t or
    bootstrap quantile); ``block``/``n_blocks`` describe blocking where the method blocks.
    """

    mean: float
    sd: float
    n: int
    radius: float
    critical: float | None = None
    block: int | None = None
    n_blocks: int | None = None
    upper_radius: float | None = None

    @property
    def lcb(self) -> float:
        return self.mean - self.radius

    @property
    def ucb(self) -> float:
        return self.mean + (self.radius if self.upper_radius is None else self.upper_radius)


class Method(ABC):
    """One way of bounding mean gains. Implementations live beside this module.

    Contract of :meth:`intervals`: ``gains`` is a finite (n, k) array, column j the gains
    of candidate j against the family's comparator on the same n observations;
    ``alpha`` in (0, 1) is the family's share of the period budget delta. The returned
    intervals hold simultaneously for all k columns with probability >= 1 - alpha when
    :meth:`guarantee` is not ``SCREEN`` and its assumptions hold.
    """

    kind: ClassVar[str]
    selection_aware: ClassVar[bool] = False
    two_sided: ClassVar[bool] = True

    @abstractmethod
    def intervals(self, gains: np.ndarray, alpha: float) -> list[Interval]:
        """One interval per column of ``gains``."""

    @abstractmethod
    def guarantee(self, source: GainSource) -> Guarantee:
        """What the intervals promise when the gains come from ``source``."""

    @abstractmethod
    def assumptions(self) -> str:
        """The assumptions behind the guarantee, in one sentence for a certificate note."""

    def min_observations(self) -> int:
        """Fewest rows ``intervals`` accepts."""
        return 2

    def _matrix(self, gains: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
        arr = np.asarray(gains, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] < 1:
            raise ValueError(f"gains must be a (n, k) array with k >= 1, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("gains must be finite")
        need = self.min_observations()
        if arr.shape[0] < need:
            raise ValueError(f"{self.kind} needs at least {need} observations, got {arr.shape[0]}")
        return arr, check_open_unit("alpha", alpha)

    def note(self, days: GainDays) -> str:
        """Caveat text for a certificate built by this method on gains from ``days``."""
        g = self.guarantee(days.source)
        head = {
            Guarantee.SCREEN: "SCREEN, not a guarantee",
            Guarantee.ASYMPTOTIC: "asymptotic guarantee",
            Guarantee.FORMAL: "formal finite-sample guarantee",
        }[g]
        extra = ""
        if days.source is GainSource.IN_SAMPLE:
            extra = (" In-sample: the gains come from the days the policy was tuned and selected "
                     "on, so they overstate what it gains forward.")
        elif days.source is GainSource.WALK_FORWARD:
            extra = (" Covers the policy's structure with its tuning rule (re-tuned on the whole "
                     "window for deployment), not one frozen parameter set.")
        return f"{self.kind}: {head}. {self.assumptions()}{extra} Gains: {days.describe()}."


def per_column_alpha(alpha: float, k: int) -> float:
    """Bonferroni share of a family budget: alpha / k."""
    return check_open_unit("alpha", alpha) / check_int("k", k, 1)
