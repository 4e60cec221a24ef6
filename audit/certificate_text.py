"""The certificate in plain words: method, sample, gain and bound, delta, N_t, eps, coverage.

Certificates are read as plain dicts (``certificates.jsonl``, ``deployment.json``): the
fields SPEC §4 names are interpreted, and any field added later (walk-forward days, the
estimator that set eps, a new method's parameters) is shown as recorded, never guessed at.
Method descriptions follow ``docs/certify.md`` and :mod:`certify`; a method this module
does not know is named with the certificate's own note.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from audit.model import Check, CheckId, Group, Verdict

try:  # the caveats certify stores in every note; an older certify has none of these names
    from certify import KIND_CAVEATS
except ImportError:  # pragma: no cover - certify always ships it today
    KIND_CAVEATS = {}

KNOWN_FIELDS = ("candidate_id", "source_hash", "comparator_id", "n", "mean_gain", "sd_gain", "radius_kind", "radius",
                "lcb", "ucb", "delta", "n_pairs", "eps", "eta", "bound", "block", "n_blocks", "safety_pass",
                "improvement_pass", "note")

METHODS = {
    "hoeffding": ("Hoeffding bound on the mean daily gain, for gains bounded in [-B, B] with B fixed from the "
                  "workspace before any gain was seen: radius = B * sqrt(2 ln(2 N_t / delta) / n)."),
    "blockwise_t": ("blockwise-t: daily gains averaged over non-overlapping blocks of b days, then a Student-t "
                    "interval on the M block means: radius = t(1 - delta / (2 N_t), M - 1) * s_b / sqrt(M)."),
}
ALWAYS_OUTSIDE = ("demand regimes, lead times and cost parameters that the days behind the certificate did not "
                  "contain (the stress replays below show some of them)", "the forward (test) window itself, "
                  "unless the certificate says its days came from there", "the behaviour of the rule on states the "
                  "replay never visited (see the probes)")


def _num(raw: Mapping[str, Any], key: str) -> float | None:
    v = raw.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


@dataclass
class CertificateText:
    role: str                      # safety | improvement | deployment | computed
    comparator: str
    method: str
    summary: str
    lines: list[str]
    covers: list[str]
    excludes: list[str]
    passed: bool | None
    recorded: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "comparator": self.comparator, "method": self.method, "summary": self.summary,
                "lines": self.lines, "covers": self.covers, "excludes": self.excludes, "passed": self.passed,
                "recorded": self.recorded}


def describe(raw: Mapping[str, Any], role: str) -> CertificateText:
    """Plain words for one certificate dict (any format version)."""
    kind = str(raw.get("radius_kind") or raw.get("method") or "unknown")
    n, m, sd, r = (_num(raw, k) for k in ("n", "mean_gain", "sd_gain", "radius"))
    lcb, ucb, delta, eps, eta = (_num(raw, k) for k in ("lcb", "ucb", "delta", "eps", "eta"))
    n_pairs = raw.get("n_pairs")
    comp = str(raw.get("comparator_id", "?"))
    gate = "safety_pass" if role != "improvement" else "improvement_pass"
    passed = raw.get(gate) if isinstance(raw.get(gate), bool) else None
    extra = {k: v for k, v in raw.items() if k not in KNOWN_FIELDS}
    eps_source = next((f"{k} = {v}" for k, v in extra.items() if "eps" in k.lower()), None)
    days = next((f"{k} = {v}" for k, v in extra.items() if any(w in k.lower() for w in ("day", "window", "sample"))),
                None)
    simulated = raw.get("gain_source") == "replications"   # formal mode: one gain per simulated path
    unit = "independent simulated continuations of the replay window" if simulated else "days"
    lines = [f"Method: {METHODS.get(kind, f'{kind!r} (see docs/certify.md)')}"]
    if n is not None and m is not None:
        lines.append(f"On n = {n:g} {unit} the candidate cost on average {abs(m):.4g} {'less' if m >= 0 else 'more'} "
                     f"per day than {comp} (gain {m:+.4g}, sd {sd if sd is not None else float('nan'):.4g}).")
    if lcb is not None and ucb is not None:
        lines.append(f"The mean daily gain is bounded to [{lcb:+.4g}, {ucb:+.4g}] (radius {r or 0:.4g}) at confidence "
                     f"1 - delta / N_t with delta = {delta if delta is not None else '?'} shared by N_t = {n_pairs} "
                     "policy-comparator pairs of the period (a union bound over every comparison made).")
    if kind == "hoeffding" and _num(raw, "bound") is not None:
        lines.append(f"Gain bound B = {_num(raw, 'bound'):.4g} (fixed from the workspace before any gain was seen).")
    if kind == "blockwise_t" and raw.get("block") is not None:
        lines.append(f"Blocks: {raw.get('n_blocks')} of {raw.get('block')} days.")
    lines.append(f"Replay-to-deployment margin eps = {eps if eps is not None else '?'}"
                 + (f" ({eps_source})." if eps_source else " (no estimator recorded: a constant from the run's "
                                                            "config)."))
    if role == "improvement" and eta is not None:
        lines.append(f"Improvement threshold eta = {eta:g}: promotion needs LCB - eps >= eta.")
    if lcb is not None and eps is not None:
        need = eta if role == "improvement" and eta is not None else 0.0
        outcome = {True: "PASS", False: "FAIL", None: "not evaluated"}[passed]
        lines.append(f"Gate: LCB - eps = {lcb - eps:+.4g} {'>=' if lcb - eps >= need else '<'} {need:g}: {outcome}.")
    if simulated:
        covers = [f"the expected mean daily cost difference against {comp} over a continuation of the replay window "
                  "drawn from the workspace's declared [demand_model]: as true for the real future as that model is"]
    else:
        covers = [f"the mean daily cost difference against {comp} over the {n:g} days the gains came from"
                  + (f" ({days})" if days else " (the replay window: in-sample, the days the policy was tuned and "
                                               "selected on, unless the certificate records otherwise)")] if n else []
    excludes = [note for note in (str(raw.get("note", "")) or KIND_CAVEATS.get(kind, ""),) if note]
    excludes += list(ALWAYS_OUTSIDE)
    summary = (f"{role} certificate vs {comp} [{kind}]: gain {m:+.4g} in [{lcb:+.4g}, {ucb:+.4g}], eps {eps:g}: "
               f"{'PASS' if passed else 'FAIL' if passed is False else '-'}") if None not in (m, lcb, ucb, eps) else \
        f"{role} certificate vs {comp} [{kind}] (incomplete record)"
    return CertificateText(role, comp, kind, summary, lines, covers, excludes, passed, extra)


def certificate_check(candidate_id: str, reference_id: str, safety: Mapping[str, Any] | None,
                      from_run: bool) -> Check:
    """The certificate check; it blocks only for a run's own certificate (``from_run``)."""
    blocking = from_run
    if candidate_id == reference_id:
        return Check(CheckId.CERTIFICATE, Group.CERTIFICATE, Verdict.PASS,
                     "this is the reference policy (the fallback): compared with itself there is nothing to certify",
                     blocking=blocking)
    source = "the run's" if from_run else "a single-pair screen computed by the audit (N_t = 1, not a run's gate)"
    if safety is None:
        return Check(CheckId.CERTIFICATE, Group.CERTIFICATE, Verdict.WARN,
                     f"no safety certificate vs {reference_id} was issued ({source})", blocking=blocking)
    text = describe(safety, "safety")
    if text.passed:
        return Check(CheckId.CERTIFICATE, Group.CERTIFICATE, Verdict.PASS, f"{source} {text.summary}", blocking=blocking)
    return Check(CheckId.CERTIFICATE, Group.CERTIFICATE, Verdict.FAIL,
                 f"the safety gate vs {reference_id} did not pass ({source}): {text.summary}", blocking=blocking)
