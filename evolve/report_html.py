"""``report.html`` of a run directory: candidates, gates, lineage by round, champion history.

Rendered from the run directory's files alone (``candidates.jsonl``, ``certificates.jsonl``,
``rounds.jsonl``, ``champion_history.jsonl``, ``deployment.json``, ``run.json``), so it can be
rebuilt at any time (``python -m evolve.report_html RUN_DIR``; ``invevolve audit`` does after
each audit so that the new audit is linked). Fields are read defensively: a line that lacks
a field shows "-", and fields added later are ignored.

The page is self-contained: the lineage plot is an embedded PNG (matplotlib, Agg) and the
table sorts with a few lines of vanilla JavaScript. The jinja2 environment autoescapes:
candidate names and ids are untrusted text.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import jinja2

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line (interrupted write)
        if isinstance(raw, dict):
            yield raw


def _json(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass
class Row:
    """One candidate in the table."""

    candidate_id: str
    name: str
    origin: str
    round: int
    status: str
    error: str
    replay_cost: float | None
    tuned_cost: float | None
    safety: dict[str, Any] | None = None
    improvement: dict[str, Any] | None = None
    audit: str | None = None     # relative link when audit/<id>/report.html exists

    def gate(self, which: str) -> bool | None:
        cert = self.safety if which == "safety" else self.improvement
        value = None if cert is None else cert.get(f"{which}_pass")
        return value if isinstance(value, bool) else None


@dataclass
class RunReport:
    root: Path
    meta: dict[str, Any]
    rows: list[Row]
    rounds: list[dict[str, Any]]
    champions: list[dict[str, Any]]
    deployment: dict[str, Any]
    reference_id: str
    lineage_png: str | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def reference_cost(self) -> float | None:
        return next((r.replay_cost for r in self.rows if r.candidate_id == self.reference_id), None)


def load_run(root: str | Path) -> RunReport:
    root = Path(root)
    rows: dict[str, Row] = {}
    for raw in _jsonl(root / "candidates.jsonl"):
        cid = raw.get("candidate_id")
        if not isinstance(cid, str):
            continue
        rnd = raw.get("round")
        rows[cid] = Row(cid, str(raw.get("name", "")), str(raw.get("origin", "")),
                        rnd if isinstance(rnd, int) and not isinstance(rnd, bool) else 0,
                        str(raw.get("status", "ok")), str(raw.get("error") or ""),
                        _num(raw.get("replay_cost")), _num(raw.get("tuned_cost")))
    for cert in _jsonl(root / "certificates.jsonl"):
        row = rows.get(cert.get("candidate_id"))
        if row is None:
            continue
        if isinstance(cert.get("safety_pass"), bool):
            row.safety = cert
        elif isinstance(cert.get("improvement_pass"), bool):
            row.improvement = cert
    for row in rows.values():
        if (root / "audit" / row.candidate_id / REPORT_FILE).exists():
            row.audit = f"audit/{row.candidate_id}/{REPORT_FILE}"
    champions = list(_jsonl(root / "champion_history.jsonl"))
    deployment = _json(root / "deployment.json")
    reference = deployment.get("reference_id") or next(
        (c["reference"] for c in champions if isinstance(c.get("reference"), str)), "")
    try:
        import tomllib
        config = tomllib.loads((root / "config.toml").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        config = {}
    ordered = sorted(rows.values(), key=lambda r: (r.round, r.candidate_id))
    return RunReport(root, _json(root / "run.json"), ordered, list(_jsonl(root / "rounds.jsonl")), champions,
                     deployment, str(reference), config=config)


def lineage_plot(rep: RunReport) -> str | None:
    """Replay cost of every candidate by round, gate outcome by colour, champion as a step line."""
    pts = [r for r in rep.rows if r.replay_cost is not None]
    if not pts:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.subplots()
    colour = {True: "#3a9a5b", False: "#c0392b", None: "#7f8c8d"}
    for gate in (True, False, None):
        sel = [r for r in pts if r.gate("safety") is gate]
        if sel:
            label = {True: "safety gate passed", False: "safety gate failed", None: "no safety certificate"}[gate]
            ax.scatter([r.round for r in sel], [r.replay_cost for r in sel], color=colour[gate], s=24, label=label,
                       zorder=3)
    cost = {r.candidate_id: r.replay_cost for r in pts}
    steps = [(c.get("round"), cost.get(c.get("champion"))) for c in rep.champions]
    steps = [(x, y) for x, y in steps if isinstance(x, int) and y is not None]
    if steps:
        ax.step([x for x, _ in steps], [y for _, y in steps], where="post", color="#1f6fb4", lw=1.5,
                label="champion")
    if rep.reference_cost is not None:
        ax.axhline(rep.reference_cost, color="#d9822b", ls="--", lw=1, label="reference")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round (0 = initial pool of baselines)")
    ax.set_ylabel("replay cost per day")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("evolve", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v, fmt="%.4f": "-" if v is None else fmt % v
    env.filters["gate"] = lambda v: "-" if v is None else "PASS" if v else "FAIL"
    return env


def render_run_report(root: str | Path) -> str:
    rep = load_run(root)
    rep.lineage_png = lineage_plot(rep)
    by_round: dict[int, list[Row]] = {}
    for row in rep.rows:
        by_round.setdefault(row.round, []).append(row)
    return _env().get_template("run_report.html.j2").render(rep=rep, by_round=sorted(by_round.items()))


def write_run_report(root: str | Path) -> Path:
    """Write ``report.html`` into the run directory (atomically) and return its path."""
    root = Path(root)
    target = root / REPORT_FILE
    tmp = root / f".{REPORT_FILE}.tmp"
    tmp.write_text(render_run_report(root), encoding="utf-8")
    os.replace(tmp, target)
    return target


if __name__ == "__main__":  # python -m evolve.report_html RUN_DIR
    for arg in sys.argv[1:]:
        print(write_run_report(arg))
