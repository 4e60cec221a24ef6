"""End-of-period deployment rule (SPEC §4; InvEvolve Sec. 3.2).

Deploy the pool member with the largest UCB versus the reference among those that pass
the safety gate; the reference itself is the fallback. Following the paper's convention
the reference has zero gain against itself, so it is an implicit pool member with
UCB = 0 that always passes.
"""
from __future__ import annotations

from dataclasses import dataclass

from certify.certificate import Certificate


@dataclass(frozen=True)
class Deployment:
    """The deployed policy, a human-readable reason with the deciding numbers, and the
    winning certificate (``None`` when the reference is deployed)."""

    deployed_id: str
    reason: str
    certificate: Certificate | None


def choose_deployment(
    candidates: list[tuple[str, Certificate]], reference_id: str
) -> Deployment:
    """Pick argmax UCB over candidates whose safety gate passed, else the reference.

    Contracts: every certificate compares its candidate with ``reference_id``, carries a
    safety outcome (``safety_pass`` not ``None``) and names the same candidate id as its
    tuple; candidate ids are unique. An entry for the reference itself is ignored (the
    reference is always the implicit fallback).

    Tie-breaking is deterministic and independent of list order: larger UCB first, then
    larger LCB, then the lexicographically smaller id. A passing candidate must have
    UCB >= LCB >= eps >= 0; if the best one has UCB exactly 0 it does no better than the
    reference, and the reference is kept.
    """
    if not isinstance(reference_id, str) or not reference_id:
        raise ValueError(f"reference_id must be a non-empty string, got {reference_id!r}")
    seen: set[str] = set()
    passing: list[tuple[str, Certificate]] = []
    for cid, cert in candidates:
        if not isinstance(cert, Certificate):
            raise ValueError(
                f"candidate {cid!r}: expected a Certificate, got {type(cert).__name__}"
            )
        if cid in seen:
            raise ValueError(f"candidate id {cid!r} appears more than once")
        seen.add(cid)
        if cert.candidate_id != cid:
            raise ValueError(f"candidate {cid!r} carries a certificate for {cert.candidate_id!r}")
        if cert.comparator_id != reference_id:
            raise ValueError(
                f"candidate {cid!r}: certificate is against {cert.comparator_id!r}, "
                f"not the reference {reference_id!r}"
            )
        if cert.safety_pass is None:
            raise ValueError(f"candidate {cid!r}: certificate has no safety gate outcome")
        if cid != reference_id and cert.safety_pass:
            passing.append((cid, cert))

    considered = len(seen - {reference_id})
    if not passing:
        return Deployment(
            deployed_id=reference_id,
            reason=(
                f"no candidate passed the safety gate (0 of {considered}); "
                f"deploying the reference {reference_id!r}"
            ),
            certificate=None,
        )
    cid, cert = min(passing, key=lambda item: (-item[1].ucb, -item[1].lcb, item[0]))
    if cert.ucb <= 0.0:
        return Deployment(
            deployed_id=reference_id,
            reason=(
                f"best safety-passing candidate {cid!r} has UCB {cert.ucb:.4f}, no better "
                f"than the reference's 0; keeping the reference {reference_id!r}"
            ),
            certificate=None,
        )
    return Deployment(
        deployed_id=cid,
        reason=(
            f"deploying {cid!r}: largest UCB {cert.ucb:.4f} vs reference {reference_id!r} "
            f"among {len(passing)} of {considered} candidates passing the safety gate "
            f"(LCB {cert.lcb:.4f} - eps {cert.eps:.4f} >= 0)"
        ),
        certificate=cert,
    )
