"""Safety and improvement gates (SPEC §4).

:func:`compare` turns two per-day cost paths on the same days into a
:class:`~certify.certificate.Certificate`, and :func:`certify_family` does the same for k
candidates against one comparator at once (which a selection-aware method needs): gains
g_i = comparator_i - candidate_i (positive = candidate cheaper), an interval from the
configured :class:`~certify.method.Method`, LCB = m - r, UCB = m + r', and the gate for the
comparator's role:

- ``role="safety"`` (comparator = period reference): pass iff LCB - eps >= 0;
- ``role="improvement"`` (comparator = current champion): pass iff LCB - eps >= eta.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from certify._checks import check_int, check_open_unit, check_real, finite_vector
from certify.blockmax import BlockwiseMaxT
from certify.bootstrap import DEFAULT_REPS, MaxTBootstrap
from certify.certificate import EPS_ESTIMATORS, GAIN_SOURCES, RADIUS_KINDS, Certificate, certificate_note
from certify.classic import BlockwiseT, Hoeffding
from certify.eps_budget import EpsChoice, EpsEstimator
from certify.method import GainDays, GainSource, Interval, Method
from certify.radii import default_block
from certify.sequential import EmpiricalBernsteinCS

ROLES = ("safety", "improvement")
METHODS = RADIUS_KINDS


@dataclass(frozen=True)
class GateConfig:
    """How a period certifies: method, gain source, confidence budget and margins.

    ``method`` is one of :data:`METHODS`; ``gains`` the gain source a gate uses
    (``in_sample`` as in the paper, ``walk_forward``, or ``replications``); ``delta`` in
    (0, 1) the period budget shared by all N_t pairs; ``eps`` >= 0 the constant
    replay-to-deployment budget, used as is when ``eps_estimator`` is ``constant`` and as
    the fallback otherwise; ``eps_level`` the estimators' quantile level; ``eta`` >= 0 the
    improvement threshold; ``block`` the blockwise-t block length (``None``: max(7, L+1))
    and, when set, the bootstrap's mean block length (``None``: chosen from the data);
    ``reps`` and ``seed`` the bootstrap's replications and seed (so that a resumed run
    re-issues the same certificates). ``horizon`` (0: the workspace's forward days),
    ``max_folds`` and ``min_history`` (0: a third of the window) shape the walk-forward
    schedule of whoever produces walk-forward gains (``evaluation.walkforward``);
    ``replications`` (paths) and ``replication_days`` (0: the workspace's forward days) that
    of whoever produces replication gains (the formal simulation mode).
    """

    method: str = "hoeffding"
    delta: float = 0.05
    eps: float = 0.0
    eta: float = 0.0
    block: int | None = None
    gains: str = "in_sample"
    eps_estimator: str = "constant"
    eps_level: float = 0.9
    reps: int = DEFAULT_REPS
    seed: int = 0
    horizon: int = 0
    max_folds: int = 4
    min_history: int = 0
    replications: int = 40
    replication_days: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"GateConfig.method must be one of {METHODS}, got {self.method!r}")
        if self.gains not in GAIN_SOURCES:
            raise ValueError(f"GateConfig.gains must be one of {GAIN_SOURCES}, got {self.gains!r}")
        if self.eps_estimator not in EPS_ESTIMATORS:
            raise ValueError(f"GateConfig.eps_estimator must be one of {EPS_ESTIMATORS}, "
                             f"got {self.eps_estimator!r}")
        object.__setattr__(self, "delta", check_open_unit("GateConfig.delta", self.delta))
        object.__setattr__(self, "eps", check_real("GateConfig.eps", self.eps, 0.0))
        object.__setattr__(self, "eta", check_real("GateConfig.eta", self.eta, 0.0))
        object.__setattr__(self, "eps_level", check_open_unit("GateConfig.eps_level", self.eps_level))
        object.__setattr__(self, "reps", check_int("GateConfig.reps", self.reps, 99))
        object.__setattr__(self, "seed", check_int("GateConfig.seed", self.seed, 0))
        object.__setattr__(self, "horizon", check_int("GateConfig.horizon", self.horizon, 0))
        object.__setattr__(self, "max_folds", check_int("GateConfig.max_folds", self.max_folds, 1))
        object.__setattr__(self, "min_history", check_int("GateConfig.min_history", self.min_history, 0))
        object.__setattr__(self, "replications", check_int("GateConfig.replications", self.replications, 2))
        object.__setattr__(self, "replication_days", check_int("GateConfig.replication_days", self.replication_days, 0))
        if self.block is not None:
            object.__setattr__(self, "block", check_int("GateConfig.block", self.block, 1))

    @property
    def source(self) -> GainSource:
        return GainSource(self.gains)


def make_method(config: GateConfig, *, bound: float | None, lead_time: int,
                source: GainSource | None = None) -> Method:
    """The :class:`Method` for ``config``; replications are never blocked (they are independent)."""
    source = config.source if source is None else source
    lead_time = check_int("lead_time", lead_time, 0)
    independent = source is GainSource.REPLICATIONS
    if config.method in ("hoeffding", "eb_cs"):
        if bound is None:
            raise ValueError(
                f"the {config.method} method needs a gain bound B fixed before the gains are seen "
                "(see certify.gain_bound); got bound=None"
            )
        return Hoeffding(bound) if config.method == "hoeffding" else EmpiricalBernsteinCS(bound)
    if config.method in ("blockwise_t", "blockwise_maxt"):
        block = 1 if independent else (config.block or default_block(lead_time))
        return BlockwiseT(block) if config.method == "blockwise_t" else BlockwiseMaxT(block, seed=config.seed)
    return MaxTBootstrap(reps=config.reps, block=1 if independent else config.block,
                         min_block=1 if independent else lead_time + 1, seed=config.seed)


def pairs_budget(pool_size: int, rounds: int) -> int:
    """Up-front bound on N_t: |pool| + 2R.

    Before the search every pool member is compared with the reference once; each of the
    R rounds adds at most two comparisons (candidate vs reference, candidate vs champion).
    """
    pool_size = check_int("pool_size", pool_size, 0)
    rounds = check_int("rounds", rounds, 0)
    total = pool_size + 2 * rounds
    if total < 1:
        raise ValueError("pairs_budget needs pool_size + 2 * rounds >= 1, got 0")
    return total


def _check_costs(name: str, costs: np.ndarray, n: int | None) -> np.ndarray:
    arr = finite_vector(name, costs)
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} days but comparator_costs has {n}; "
                         "both must cover the same replay days")
    return arr


def certify_family(
    candidates: Sequence[tuple[str, str, np.ndarray]],
    comparator_id: str,
    comparator_costs: np.ndarray,
    *,
    config: GateConfig,
    n_pairs: int,
    bound: float | None,
    lead_time: int,
    role: str,
    days: GainDays | None = None,
    eps: EpsChoice | None = None,
) -> list[Certificate]:
    """Certify k candidates ``(id, source_hash, costs)`` against one comparator at once.

    The family spends k * delta / N_t of the period budget (so k <= N_t). A union-bound
    method gives each pair delta / N_t, exactly as :func:`compare`; a selection-aware
    method spends it on one simultaneous band over the k candidates. ``days`` records
    where the costs came from (default: in-sample days 0..n-1); ``eps`` the budget chosen
    by :func:`certify.eps_budget.choose_eps` (default: the configured constant).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    if not isinstance(config, GateConfig):
        raise ValueError(f"config must be a GateConfig, got {type(config).__name__}")
    if not isinstance(comparator_id, str) or not comparator_id:
        raise ValueError(f"comparator_id must be a non-empty string, got {comparator_id!r}")
    if not candidates:
        raise ValueError("certify_family needs at least one candidate")
    comp = finite_vector("comparator_costs", comparator_costs)
    cols = []
    for cid, source_hash, costs in candidates:
        if not isinstance(cid, str) or not cid:
            raise ValueError(f"candidate_id must be a non-empty string, got {cid!r}")
        if not isinstance(source_hash, str):
            raise ValueError(f"source_hash must be a string, got {source_hash!r}")
        cand = finite_vector("candidate_costs", costs)
        if cand.size != comp.size:
            raise ValueError(f"candidate_costs has {cand.size} days but comparator_costs has "
                             f"{comp.size}; both must cover the same replay days")
        cols.append(comp - cand)
    if comp.size < 2:
        raise ValueError(f"compare needs at least 2 days of costs, got {comp.size}")
    n_pairs = check_int("n_pairs", n_pairs, 1)
    k = len(cols)
    if k > n_pairs:
        raise ValueError(f"a family of {k} pairs exceeds the period's N_t = {n_pairs}")
    if bound is not None:
        bound = check_real("bound", bound, 0.0)
    days = days or GainDays(config.source, 0, comp.size - 1, 1)
    eps = eps or EpsChoice(EpsEstimator.CONSTANT, config.eps, 0, "configured constant")
    eps_value = check_real("eps", eps.value, 0.0)
    method = make_method(config, bound=bound, lead_time=lead_time, source=days.source)
    gains = np.column_stack(cols)
    intervals = method.intervals(gains, config.delta * k / n_pairs)
    note = _note(method, days, intervals[0], gains.shape[0])
    out = []
    for (cid, source_hash, _), iv in zip(candidates, intervals):
        margin = iv.lcb - eps_value
        out.append(Certificate(
            candidate_id=cid, source_hash=source_hash, comparator_id=comparator_id,
            n=iv.n, mean_gain=iv.mean, sd_gain=iv.sd, radius_kind=method.kind,
            radius=float(iv.radius), lcb=iv.lcb, ucb=iv.ucb, delta=config.delta,
            n_pairs=n_pairs, eps=eps_value, eta=config.eta, bound=bound,
            block=iv.block, n_blocks=iv.n_blocks,
            safety_pass=bool(margin >= 0.0) if role == "safety" else None,
            improvement_pass=bool(margin >= config.eta) if role == "improvement" else None,
            note=note, guarantee=method.guarantee(days.source).value,
            gain_source=days.source.value, first_day=days.first_day, last_day=days.last_day,
            n_segments=days.n_segments, eps_estimator=eps.estimator.value, critical=iv.critical,
        ))
    return out


def _note(method: Method, days: GainDays, first: Interval, n_days: int) -> str:
    if method.kind == "hoeffding" and days.source is not GainSource.REPLICATIONS:
        head = certificate_note("hoeffding")
    elif method.kind in ("blockwise_t", "blockwise_maxt") and days.source is not GainSource.REPLICATIONS:
        assert first.block is not None and first.n_blocks is not None
        head = certificate_note("blockwise_t", first.block, first.n_blocks, n_days - first.n)
    else:
        return method.note(days)
    return f"{head} {method.note(days)}"


def compare(
    candidate_id: str,
    source_hash: str,
    comparator_id: str,
    candidate_costs: np.ndarray,
    comparator_costs: np.ndarray,
    *,
    config: GateConfig,
    n_pairs: int,
    bound: float | None,
    lead_time: int,
    role: str,
    days: GainDays | None = None,
    eps: EpsChoice | None = None,
) -> Certificate:
    """Certify ``candidate`` against ``comparator`` on the same days (one pair, delta / N_t).

    Contracts:
    - the two cost arrays are per-day (or per-replication) costs of the two policies on
      the same days, 1-D, equal length (at least 2), all finite;
    - ``n_pairs`` is the period's N_t bound (see :func:`pairs_budget`), fixed up front;
    - Hoeffding and the confidence sequence need ``bound`` (B, see
      :func:`certify.bounds.gain_bound`), fixed before the gains are seen; a gain with
      |g| > B (beyond a 1e-9 relative tolerance for rounding) raises, because the radius
      would not hold. Other methods record ``bound`` when given but do not use it;
    - blockwise-t uses ``config.block`` or ``default_block(lead_time)`` and only the days
      in complete blocks: ``n``, mean and sd then describe those days.
    """
    return certify_family([(candidate_id, source_hash, candidate_costs)], comparator_id,
                          comparator_costs, config=config, n_pairs=n_pairs, bound=bound,
                          lead_time=lead_time, role=role, days=days, eps=eps)[0]
