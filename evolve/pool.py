"""The program pool: every structurally valid candidate, its certificates, and the champion.

Gating follows SPEC §4: a candidate is certified against the reference (safety gate) and
against the current champion (improvement gate); passing both promotes it. Every valid
candidate joins the pool, whatever the gates say, because deployment is decided at the
end over the whole pool (argmax UCB among safety-certified members).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from certify import Certificate, Deployment, GateConfig, choose_deployment, compare
from evaluation.records import EvalRecord

log = logging.getLogger(__name__)


@dataclass
class Member:
    record: EvalRecord
    source: str
    origin: str
    round: int
    safety: Certificate | None = None

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
    bound: float
    lead_time: int
    members: dict[str, Member] = field(default_factory=dict)
    reference_id: str = ""
    champion_id: str = ""
    certificates: list[Certificate] = field(default_factory=list)

    def _certify(self, cand: Member, comp: Member, role: str) -> tuple[Certificate | None, str]:
        try:
            cert = compare(
                cand.id, cand.record.source_hash, comp.id, cand.costs, comp.costs,
                config=self.gate, n_pairs=self.n_pairs, bound=self.bound, lead_time=self.lead_time, role=role,
            )
        except ValueError as exc:
            return None, f"{role} certificate not issued: {exc}"
        self.certificates.append(cert)
        return cert, cert.summary()

    def add_initial(self, member: Member) -> None:
        self.members[member.id] = member

    def certify_initial(self, reference_id: str) -> None:
        """Certify the initial pool against the reference; champion = best certified member."""
        self.reference_id = reference_id
        for m in self.members.values():
            m.safety, _ = self._certify(m, self.members[reference_id], "safety")
        safe = [m for m in self.members.values() if m.safety is not None and m.safety.safety_pass]
        best = min(safe, key=lambda m: (m.record.replay_cost, m.id), default=self.members[reference_id])
        self.champion_id = best.id

    def admit(self, member: Member) -> GateResult:
        """Gate a new valid candidate and add it to the pool."""
        champion = self.members[self.champion_id]
        safety, s_msg = self._certify(member, self.members[self.reference_id], "safety")
        improvement, i_msg = self._certify(member, champion, "improvement")
        member.safety = safety
        self.members[member.id] = member
        passed = bool(safety and safety.safety_pass and improvement and improvement.improvement_pass)
        if passed:
            self.champion_id = member.id
        status = "promoted" if passed else "pooled"
        return GateResult(status, safety, improvement, f"{s_msg} | {i_msg}")

    def deployment(self) -> Deployment:
        entries = [(m.id, m.safety) for m in self.members.values()
                   if m.safety is not None and m.id != self.reference_id]
        return choose_deployment(entries, self.reference_id)
