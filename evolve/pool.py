"""The program pool: every structurally valid candidate, its certificates, and the champion.

Gating follows SPEC §4: a candidate is certified against the reference (safety gate) and
against the current champion (improvement gate); passing both promotes it. Every valid
candidate joins the pool, whatever the gates say, because deployment is decided at the
end over the whole pool (argmax UCB among safety-certified members).

Which costs a gate uses is ``gate.gains``: ``in_sample`` (the trusted replay of the policy
tuned on the whole window: the paper's mode), ``walk_forward`` (each member's
out-of-sample costs, :mod:`evaluation.walkforward`) or ``replications`` (each member's mean
cost on independent simulated continuations, :mod:`evolve.replications`). A member without the costs the gate
needs gets no certificate and cannot be deployed. With a selection-aware method the safety
certificates of all members are one simultaneous family, re-issued whenever a member
joins, so the final deployment is covered for having picked the best of the pool.

Refinement (paper Sec. 5.3.2): a round's best member (``refined``) becomes a comparator
for later rounds: the improvement gate is taken against the strongest of the champion and
the refined members, so promotion needs to beat what the search has already found.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from certify import (
    Certificate,
    Deployment,
    EpsChoice,
    EpsEstimator,
    GainDays,
    GainSource,
    GateConfig,
    certify_family,
    choose_deployment,
    compare,
    make_method,
)
from evaluation.records import EvalRecord
from evaluation.walkforward import OutOfSample

log = logging.getLogger(__name__)


@dataclass
class Member:
    record: EvalRecord
    source: str
    origin: str
    round: int
    safety: Certificate | None = None
    oos: OutOfSample | None = None
    reps: np.ndarray | None = None     # mean cost on each simulated continuation (formal mode)

    @property
    def id(self) -> str:
        return self.record.candidate_id

    @property
    def costs(self) -> np.ndarray:
        return np.asarray(self.record.replay_costs, dtype=float)


@dataclass
class GateResult:
    status: str                  # promoted | pooled
    safety: Certificate | None
    improvement: Certificate | None
    message: str


@dataclass
class Pool:
    gate: GateConfig
    n_pairs: int
    bound: float | None        # None: no a.s. bound (replications without demand_model.max_demand)
    lead_time: int
    members: dict[str, Member] = field(default_factory=dict)
    reference_id: str = ""
    champion_id: str = ""
    certificates: list[Certificate] = field(default_factory=list)
    eps: EpsChoice | None = None
    refined: list[str] = field(default_factory=list)

    # ---- the costs and days a gate uses
    def gate_costs(self, m: Member) -> np.ndarray | None:
        if self.gate.source is GainSource.WALK_FORWARD:
            return None if m.oos is None else m.oos.costs
        if self.gate.source is GainSource.REPLICATIONS:
            return m.reps
        return m.costs

    def _days(self, m: Member) -> GainDays:
        if self.gate.source is GainSource.WALK_FORWARD and m.oos is not None:
            plan = m.oos.plan
            return GainDays(GainSource.WALK_FORWARD, plan.first_day, plan.last_day, len(plan.folds))
        if self.gate.source is GainSource.REPLICATIONS and m.reps is not None:
            return GainDays(GainSource.REPLICATIONS, None, None, len(m.reps))
        return GainDays(GainSource.IN_SAMPLE, 0, len(m.record.replay_costs) - 1, 1)

    def _eps(self) -> EpsChoice:
        return self.eps or EpsChoice(EpsEstimator.CONSTANT, self.gate.eps, 0, "configured constant")

    def _selection_aware(self) -> bool:
        return make_method(self.gate, bound=self.bound, lead_time=self.lead_time).selection_aware

    def _certify(self, cand: Member, comp: Member, role: str) -> tuple[Certificate | None, str]:
        a, b = self.gate_costs(cand), self.gate_costs(comp)
        if a is None or b is None:
            return None, f"{role} certificate not issued: no {self.gate.gains} costs"
        try:
            cert = compare(
                cand.id, cand.record.source_hash, comp.id, a, b,
                config=self.gate, n_pairs=self.n_pairs, bound=self.bound, lead_time=self.lead_time, role=role,
                days=self._days(cand), eps=self._eps(),
            )
        except ValueError as exc:
            return None, f"{role} certificate not issued: {exc}"
        self.certificates.append(cert)
        return cert, cert.summary()

    def _safety_family(self) -> None:
        """Re-issue every member's safety certificate as one simultaneous family."""
        ref = self.members[self.reference_id]
        ref_costs = self.gate_costs(ref)
        entries = [m for m in self.members.values() if m.id != ref.id and self.gate_costs(m) is not None]
        for m in self.members.values():
            m.safety = None
        if ref_costs is None or not entries:
            return
        try:
            certs = certify_family([(m.id, m.record.source_hash, self.gate_costs(m)) for m in entries],
                                   ref.id, ref_costs, config=self.gate, n_pairs=self.n_pairs, bound=self.bound,
                                   lead_time=self.lead_time, role="safety", days=self._days(ref), eps=self._eps())
        except ValueError as exc:
            log.info("safety family not issued: %s", exc)
            return
        for m, cert in zip(entries, certs):
            m.safety = cert
        self.certificates.extend(certs)

    def add_initial(self, member: Member) -> None:
        self.members[member.id] = member

    def certify_initial(self, reference_id: str) -> None:
        """Certify the initial pool against the reference; champion = best certified member."""
        self.reference_id = reference_id
        if self._selection_aware():
            self._safety_family()
        else:
            for m in self.members.values():
                m.safety, _ = self._certify(m, self.members[reference_id], "safety")
        safe = [m for m in self.members.values() if m.safety is not None and m.safety.safety_pass]
        best = min(safe, key=lambda m: (m.record.replay_cost, m.id), default=self.members[reference_id])
        self.champion_id = best.id

    def mean_gain(self, m: Member) -> float:
        """Mean gain of ``m`` vs the reference on the gate's costs (-inf without them)."""
        a, b = self.gate_costs(m), self.gate_costs(self.members[self.reference_id])
        return -np.inf if a is None or b is None else float(np.mean(b - a))

    def improvement_comparator(self) -> Member:
        """The champion, or a refined member with a larger mean gain vs the reference."""
        pool = [self.members[self.champion_id]] + [self.members[c] for c in self.refined if c in self.members]
        return max(pool, key=lambda m: (self.mean_gain(m), m.id == self.champion_id, m.id))

    def admit(self, member: Member) -> GateResult:
        """Gate a new valid candidate and add it to the pool."""
        comparator = self.improvement_comparator()
        self.members[member.id] = member
        if self._selection_aware():
            self._safety_family()
            safety = member.safety
            s_msg = safety.summary() if safety else "safety certificate not issued"
        else:
            safety, s_msg = self._certify(member, self.members[self.reference_id], "safety")
            member.safety = safety
        improvement, i_msg = self._certify(member, comparator, "improvement")
        passed = bool(safety and safety.safety_pass and improvement and improvement.improvement_pass)
        if passed:
            self.champion_id = member.id
        status = "promoted" if passed else "pooled"
        return GateResult(status, safety, improvement, f"{s_msg} | {i_msg}")

    def deployment(self) -> Deployment:
        entries = [(m.id, m.safety) for m in self.members.values()
                   if m.safety is not None and m.id != self.reference_id]
        return choose_deployment(entries, self.reference_id)
