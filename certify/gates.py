"""Safety and improvement gates on one policy-comparator pair (SPEC §4).

:func:`compare` turns two per-day cost paths on the same replay days into a
:class:`~certify.certificate.Certificate`: gains g_i = comparator_i - candidate_i
(positive = candidate cheaper), a confidence radius r, LCB = m - r, UCB = m + r, and the
gate for the comparator's role:

- ``role="safety"`` (comparator = period reference): pass iff LCB - eps >= 0;
- ``role="improvement"`` (comparator = current champion): pass iff LCB - eps >= eta.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify._checks import check_int, check_open_unit, check_real, finite_vector
from certify.certificate import RADIUS_KINDS, Certificate, certificate_note
from certify.radii import blockwise_t_radius, default_block, hoeffding_radius

ROLES = ("safety", "improvement")

BOUND_RTOL = 1e-9


@dataclass(frozen=True)
class GateConfig:
    """How a period certifies: radius method, confidence budget and margins.

    ``delta`` in (0, 1) is the period confidence budget shared by all N_t pairs; ``eps``
    >= 0 is the replay-to-deployment discrepancy budget; ``eta`` >= 0 the improvement
    threshold; ``block`` the blockwise-t block length in days (``None`` means
    ``default_block(L)``; ignored by the Hoeffding method).
    """

    method: str = "hoeffding"
    delta: float = 0.05
    eps: float = 0.0
    eta: float = 0.0
    block: int | None = None

    def __post_init__(self) -> None:
        if self.method not in RADIUS_KINDS:
            raise ValueError(
                f"GateConfig.method must be one of {RADIUS_KINDS}, got {self.method!r}"
            )
        object.__setattr__(self, "delta", check_open_unit("GateConfig.delta", self.delta))
        object.__setattr__(self, "eps", check_real("GateConfig.eps", self.eps, 0.0))
        object.__setattr__(self, "eta", check_real("GateConfig.eta", self.eta, 0.0))
        if self.block is not None:
            object.__setattr__(self, "block", check_int("GateConfig.block", self.block, 1))


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
) -> Certificate:
    """Certify ``candidate`` against ``comparator`` on the same replay days.

    Contracts:
    - the two cost arrays are per-day costs of the two policies on the same days, 1-D,
      equal length (at least 2 days), all finite;
    - ``n_pairs`` is the period's N_t bound (see :func:`pairs_budget`), fixed up front;
    - Hoeffding needs ``bound`` (B, see :func:`certify.bounds.gain_bound`), fixed before
      the gains are seen; a gain with |g| > B (beyond a 1e-9 relative tolerance for
      rounding) raises, because the radius would not hold. Blockwise-t records ``bound``
      when given but does not use it;
    - blockwise-t uses ``config.block`` or ``default_block(lead_time)`` and only the days
      in complete blocks: ``n``, mean and sd then describe those days.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    for name, value in (("candidate_id", candidate_id), ("comparator_id", comparator_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if not isinstance(source_hash, str):
        raise ValueError(f"source_hash must be a string, got {source_hash!r}")
    if not isinstance(config, GateConfig):
        raise ValueError(f"config must be a GateConfig, got {type(config).__name__}")
    cand = finite_vector("candidate_costs", candidate_costs)
    comp = finite_vector("comparator_costs", comparator_costs)
    if cand.size != comp.size:
        raise ValueError(
            f"candidate_costs has {cand.size} days but comparator_costs has {comp.size}; "
            "both must cover the same replay days"
        )
    if cand.size < 2:
        raise ValueError(f"compare needs at least 2 days of costs, got {cand.size}")
    n_pairs = check_int("n_pairs", n_pairs, 1)
    lead_time = check_int("lead_time", lead_time, 0)
    gains = comp - cand

    block: int | None = None
    n_blocks: int | None = None
    if bound is not None:
        bound = check_real("bound", bound, 0.0)
    if config.method == "hoeffding":
        if bound is None:
            raise ValueError(
                "the hoeffding radius needs a gain bound B fixed before the gains are seen "
                "(see certify.gain_bound); got bound=None"
            )
        worst = float(np.max(np.abs(gains)))
        if worst > bound * (1.0 + BOUND_RTOL):
            raise ValueError(
                f"a daily gain of magnitude {worst} exceeds the bound B={bound}; the "
                "Hoeffding radius is invalid. Fix B from the cost parameters and replay "
                "bounds so that it caps every daily cost."
            )
        used = gains
        radius = hoeffding_radius(used.size, bound, n_pairs, config.delta)
        note = certificate_note("hoeffding")
    else:
        block = config.block if config.block is not None else default_block(lead_time)
        radius, n_blocks = blockwise_t_radius(gains, block, n_pairs, config.delta)
        used = gains[: n_blocks * block]
        note = certificate_note("blockwise_t", block, n_blocks, gains.size - used.size)

    mean = float(np.mean(used))
    lcb = mean - radius
    margin = lcb - config.eps
    return Certificate(
        candidate_id=candidate_id,
        source_hash=source_hash,
        comparator_id=comparator_id,
        n=int(used.size),
        mean_gain=mean,
        sd_gain=float(np.std(used, ddof=1)),
        radius_kind=config.method,
        radius=float(radius),
        lcb=lcb,
        ucb=mean + radius,
        delta=config.delta,
        n_pairs=n_pairs,
        eps=config.eps,
        eta=config.eta,
        bound=bound,
        block=block,
        n_blocks=n_blocks,
        safety_pass=bool(margin >= 0.0) if role == "safety" else None,
        improvement_pass=bool(margin >= config.eta) if role == "improvement" else None,
        note=note,
    )
