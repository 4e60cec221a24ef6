"""Writing an audit: ``audit.json`` (schema in docs/audit.md), ``report.md`` and ``report.html``.

Both reports are rendered from jinja2 templates shipped in ``audit/templates``. The HTML
environment autoescapes everything: candidate names, sources and reasons are untrusted
text. The only markup inserted unescaped is what this process generated itself (the
difflib side-by-side table, which escapes each source line, and base64 images).
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from audit.model import SCHEMA_VERSION, Plot, Verdict
from audit.pipeline import AuditResult
from audit.plots import render
from audit.static import side_by_side_diff, unified_diff
from inventory.policy import source_hash

# 4 as for `invevolve score`: the policy was judged and failed (1 is reserved for internal errors)
EXIT_OK, EXIT_BLOCKED = 0, 4


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):  # enums
        return value.value
    return value


def exit_code(result: AuditResult) -> int:
    return EXIT_OK if result.passed else EXIT_BLOCKED


def audit_dict(result: AuditResult, plots: list[Plot]) -> dict[str, Any]:
    t = result.target
    counts = {v.value: sum(c.verdict is v for c in result.checks) for v in Verdict}
    return _clean({
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "passed": result.passed,
        "exit_code": exit_code(result),
        "blocking_failures": [c.key for c in result.blocking_failures],
        "summary": counts,
        "target": {"mode": t.mode.value, "candidate_id": t.candidate_id, "name": t.name,
                   "source_hash": source_hash(t.source), "workspace": str(t.workspace.root),
                   "run_dir": None if t.run_root is None else str(t.run_root), "deployed": t.deployed,
                   "round": t.round, "origin": t.origin, "status": t.status,
                   "reference": {"candidate_id": t.reference.candidate_id, "name": t.reference.name,
                                 "params": t.reference.params, "trusted_in_process": t.reference.trusted}},
        "config": asdict(result.config),
        "sandbox": result.sandbox,
        "params": result.params,
        "space": result.space,
        "cap": result.cap,
        "costs": result.costs,
        "static": result.static.to_dict(),
        "checks": [c.to_dict() for c in result.checks],
        "stress": [{"key": s.key, "title": s.title, "candidate_cost": s.candidate_cost,
                    "reference_cost": s.reference_cost, "change": s.change} for s in result.stress],
        "certificates": [c.to_dict() for c in result.certificates],
        "plots": [{"key": p.key, "title": p.title} for p in plots],
        "notes": list(t.notes),
        "timings": result.timings,
    })


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("audit", "templates"), autoescape=autoescape,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v, fmt="%.4g": "-" if v is None else fmt % v
    env.filters["pct"] = lambda v: "-" if v is None else f"{100 * v:+.1f}%"
    # Markdown cells: no raw HTML (a '<' could open a tag in a renderer), no cell breaks, one line.
    env.filters["md"] = lambda v: str(v).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(
        "\n", " ")
    return env


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text``."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _context(result: AuditResult, data: dict[str, Any], plots: list[Plot]) -> dict[str, Any]:
    t = result.target
    ref = t.reference
    return {"r": result, "t": t, "d": data, "plots": plots, "static": result.static, "checks": result.checks,
            "source_lines": list(enumerate(t.source.splitlines(), 1)),
            "diff_html": Markup(side_by_side_diff(
                ref.source, t.source, f"reference: {ref.name}", f"candidate: {t.name}")),
            "diff_text": unified_diff(ref.source, t.source, f"reference/{ref.name}.py", f"candidate/{t.candidate_id}.py"),
            "fence": _fence(t.source + unified_diff(ref.source, t.source, "a", "b")),
            "Verdict": Verdict}


def write_audit(result: AuditResult) -> Path:
    """Write the three files into ``result.target.out_dir`` (atomically each); returns the folder."""
    out = Path(result.target.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stress = [(s.title, s.candidate_cost, s.reference_cost) for s in result.stress]
    plots = render(result.figures, stress) if result.figures is not None else []
    result.timings["plots"] = round(time.perf_counter() - start, 3)
    data = audit_dict(result, plots)
    ctx = _context(result, data, plots)
    files = {"audit.json": json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n",
             "report.md": _env(False).get_template("audit.md.j2").render(**ctx),
             "report.html": _env(True).get_template("audit.html.j2").render(**ctx)}
    for name, text in files.items():
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)
    return out
