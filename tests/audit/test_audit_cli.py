"""`invevolve audit`: the three files, the documented audit.json schema, exit status, bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.main import main as invevolve
from inventory.library import policy_source

POLICIES = Path(__file__).parent / "policies"
FAST = ["--sandbox", "none", "--long-days", "300"]

# docs/audit.md, "audit.json": top-level keys and their JSON types
SCHEMA = {"schema_version": int, "created": str, "passed": bool, "exit_code": int, "blocking_failures": list,
          "summary": dict, "target": dict, "config": dict, "sandbox": str, "params": dict, "space": list,
          "cap": float, "costs": dict, "static": dict, "checks": list, "stress": list, "certificates": list,
          "plots": list, "notes": list, "timings": dict}
CHECK = {"id": str, "check": str, "group": str, "subject": str, "verdict": str, "blocking": bool, "reason": str,
         "details": dict}


def _load(folder: Path) -> dict:
    for name in ("report.html", "report.md", "audit.json"):
        assert (folder / name).stat().st_size > 0, name
    return json.loads((folder / "audit.json").read_text())


def test_run_audit_writes_three_files_and_follows_blocking_checks(run_dir, tmp_path, capsys):
    rd = tmp_path / "run"
    shutil.copytree(run_dir, rd)
    code = invevolve(["audit", str(rd), *FAST])
    dep = json.loads((rd / "deployment.json").read_text())["deployed_id"]
    data = _load(rd / "audit" / dep)
    for key, typ in SCHEMA.items():
        assert isinstance(data[key], typ), key
    for check in data["checks"]:
        for key, typ in CHECK.items():
            assert isinstance(check[key], typ), (check["id"], key)
        assert check["verdict"] in ("pass", "warn", "fail", "skip")
    blocking = [c["id"] for c in data["checks"] if c["blocking"] and c["verdict"] == "fail"]
    assert data["blocking_failures"] == blocking
    assert code == data["exit_code"] == (0 if not blocking else 4)
    assert data["passed"] is (not blocking)
    assert data["target"]["candidate_id"] == dep and data["target"]["mode"] == "run"
    assert {p["key"] for p in data["plots"]} >= {"trajectories", "daily_gain", "response", "stress", "long_horizon"}
    checks = {c["id"]: c["verdict"] for c in data["checks"]}
    assert checks["replay_reproduces"] == "pass"
    out = capsys.readouterr().out
    assert str(rd / "audit" / dep / "report.html") in out
    # the run report is refreshed and links the new audit
    html = (rd / "report.html").read_text()
    assert f'href="audit/{dep}/report.html"' in html


def test_tampered_record_fails_reproduction_and_blocks(run_dir, tmp_path):
    rd = tmp_path / "run"
    shutil.copytree(run_dir, rd)
    dep = json.loads((rd / "deployment.json").read_text())["deployed_id"]
    lines = (rd / "candidates.jsonl").read_text().splitlines()
    out = []
    for line in lines:
        row = json.loads(line)
        if row["candidate_id"] == dep:
            row["replay_costs"] = [c * 0.5 for c in row["replay_costs"]]
        out.append(json.dumps(row))
    (rd / "candidates.jsonl").write_text("\n".join(out) + "\n")
    assert invevolve(["audit", str(rd), *FAST]) == 4
    data = _load(rd / "audit" / dep)
    assert "replay_reproduces" in data["blocking_failures"]


@pytest.mark.slow
def test_policy_file_mode_exit_status(workspace_dir, tmp_path):
    clean = tmp_path / "cbs.py"
    clean.write_text(policy_source("capped_base_stock"))
    assert invevolve(["audit", "--workspace", str(workspace_dir), str(clean), "--out", str(tmp_path / "a"),
                      "--trials", "10", *FAST]) == 0
    assert _load(tmp_path / "a")["target"]["mode"] == "file"
    bad = POLICIES / "negative_overstock.py"
    assert invevolve(["audit", "--workspace", str(workspace_dir), str(bad), "--out", str(tmp_path / "b"),
                      "--trials", "10", *FAST]) == 4
    assert "orders_valid" in _load(tmp_path / "b")["blocking_failures"]


def test_untrusted_text_is_escaped_in_the_html(workspace_dir, tmp_path):
    pol = tmp_path / "evil.py"
    pol.write_text('"""</td></table><script>alert(1)</script>"""\n' + policy_source("base_stock"))
    assert invevolve(["audit", "--workspace", str(workspace_dir), str(pol), "--out", str(tmp_path / "a"),
                      "--trials", "5", *FAST]) == 0
    html = (tmp_path / "a" / "report.html").read_text()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("argv, needle", [
    (["audit", "/nonexistent/run"], "run.json missing"),
    (["audit", "{run}", "--candidate", "r99-nope"], "no candidate 'r99-nope'"),
    (["audit", "{run}", "--workspace", "{ws}", "--candidate", "x"], "--candidate"),
    (["audit", "--workspace", "{ws}", "{latin1}"], "not UTF-8"),
    (["audit", "{latin1}"], "is a file"),
])
def test_bad_input_exits_2_with_one_line(run_dir, workspace_dir, tmp_path, caplog, argv, needle):
    latin1 = tmp_path / "p.py"
    latin1.write_bytes("# caf\xe9\ndef order(obs, params):\n    return 0\n".encode("latin-1"))
    args = [a.format(run=run_dir, ws=workspace_dir, latin1=latin1) for a in argv]
    assert invevolve(args + ["--sandbox", "none"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and needle in errors[0] and "\n" not in errors[0]


def test_invalid_candidate_gets_a_static_report_and_blocks(run_dir, tmp_path):
    rd = tmp_path / "run"
    shutil.copytree(run_dir, rd)
    (rd / "candidates" / "r09-hostile.py").write_text("import os\n\ndef order(obs, params):\n    return os.getpid()\n")
    with open(rd / "candidates.jsonl", "a") as fh:
        fh.write(json.dumps({"candidate_id": "r09-hostile", "name": "hostile", "status": "invalid", "round": 9,
                             "error": "line 1: import of forbidden module `os`", "origin": "llm"}) + "\n")
    assert invevolve(["audit", str(rd), "--candidate", "r09-hostile", *FAST]) == 4
    data = _load(rd / "audit" / "r09-hostile")
    assert data["blocking_failures"] == ["validator"]
    assert data["plots"] == [] and data["static"]["valid"] is False
    assert "forbidden module" in (rd / "audit" / "r09-hostile" / "report.html").read_text()
