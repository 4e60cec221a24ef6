"""Fixed-width text table of certificates for CLI output and audit reports."""
from __future__ import annotations

from certify.certificate import KIND_CAVEATS, Certificate, gate_label

_HEADERS = ("candidate", "comparator", "radius", "gains", "guarantee", "n", "mean", "sd", "r",
            "LCB", "UCB", "eps", "eta", "safety", "improve")
_NUMERIC = {"n", "mean", "sd", "r", "LCB", "UCB", "eps", "eta"}


def _row(c: Certificate) -> tuple[str, ...]:
    return (
        c.candidate_id, c.comparator_id, c.radius_kind, c.gain_source, c.guarantee, str(c.n),
        f"{c.mean_gain:+.4f}", f"{c.sd_gain:.4f}", f"{c.radius:.4f}",
        f"{c.lcb:+.4f}", f"{c.ucb:+.4f}", f"{c.eps:.4f}", f"{c.eta:.4f}",
        gate_label(c.safety_pass), gate_label(c.improvement_pass),
    )


def format_certificate_table(certs: list[Certificate]) -> str:
    """One aligned row per certificate, then the dependence caveat for each radius kind.

    Columns are as wide as their widest cell (ids are never truncated); numbers are
    right-aligned, text left-aligned. Gate cells read PASS, FAIL or ``-`` (not evaluated).
    The caveat lines are printed because SPEC §4 requires the dependence of daily gains
    to be stated wherever a certificate is shown; the ``gains`` and ``guarantee`` columns
    say where each certificate's gains came from and what its bound promises. An empty list gives the header and
    ``(no certificates)``.
    """
    rows = [_row(c) for c in certs]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(_HEADERS)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if h in _NUMERIC else cell.ljust(w)
            for cell, w, h in zip(cells, widths, _HEADERS)
        ).rstrip()

    out = [line(_HEADERS), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows] or ["(no certificates)"]
    for kind in sorted({c.radius_kind for c in certs}):
        out.append(f"note [{kind}]: {KIND_CAVEATS[kind]}")
    return "\n".join(out)
