"""evolve's report.html: written by every run, rebuilt from the run directory, untrusted text escaped."""
from __future__ import annotations

import json
import shutil

from markupsafe import escape

from evolve.report_html import load_run, write_run_report


def test_every_run_writes_report_html(run_dir):
    html = (run_dir / "report.html").read_text()
    rows = [json.loads(x) for x in (run_dir / "candidates.jsonl").read_text().splitlines()]
    for row in rows:
        assert f"<code>{row['candidate_id']}</code>" in html
    dep = json.loads((run_dir / "deployment.json").read_text())
    assert str(escape(dep["reason"])) in html
    assert 'id="plot-lineage"' in html and "data:image/png;base64," in html
    assert "<script src" not in html and "http" not in html.split("<script>")[1]  # no CDN, inline JS only


def test_report_reads_defensively_and_escapes_names(run_dir, tmp_path):
    rd = tmp_path / "run"
    shutil.copytree(run_dir, rd)
    with open(rd / "candidates.jsonl", "a") as fh:
        fh.write(json.dumps({"candidate_id": "r07-evil", "name": "<img src=x onerror=alert(1)>", "status": "failed",
                             "error": "</td><script>alert(2)</script>", "round": 7, "future_field": {"x": 1}}) + "\n")
        fh.write('{"candidate_id": "r08-torn", "name": ')  # a torn last line
    with open(rd / "certificates.jsonl", "a") as fh:
        fh.write(json.dumps({"candidate_id": "r07-evil", "comparator_id": "x", "safety_pass": False, "lcb": -1.0,
                             "ucb": 2.0, "new_method_field": 3}) + "\n")
    rep = load_run(rd)
    evil = next(r for r in rep.rows if r.candidate_id == "r07-evil")
    assert evil.replay_cost is None and evil.gate("safety") is False and evil.gate("improvement") is None
    assert all(r.candidate_id != "r08-torn" for r in rep.rows)
    html = write_run_report(rd).read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert(2)" not in html
    assert html.count("<script>") == 1  # the table sorter only
