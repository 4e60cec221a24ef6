"""The audit report and the run report in a real headless Chromium (DevTools protocol)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cli.main import main as invevolve
from tests.audit.browser import CHROMIUM, PLOTS_JS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium; .ci/run installs it)")
    pytest.importorskip("websocket", reason="websocket-client is in the test extra")
    from tests.audit.browser import Browser
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def audited(run_dir, tmp_path_factory):
    """A copy of the shared run, audited through the default sandbox (the deployed policy)."""
    rd = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(run_dir, rd)
    assert invevolve(["audit", str(rd), "--long-days", "400"]) in (0, 1)
    dep = json.loads((rd / "deployment.json").read_text())["deployed_id"]
    return rd, rd / "audit" / dep


def _shot(browser, name: str, out: Path) -> Path:
    path = browser.screenshot(out / name)
    assert path.stat().st_size > 10_000
    print(f"screenshot: {path}")
    return path


def test_audit_report_loads_clean_with_every_plot(browser, audited):
    rd, folder = audited
    data = json.loads((folder / "audit.json").read_text())
    browser.log.errors.clear()
    browser.open(folder / "report.html")
    assert browser.log.errors == []
    plots = browser.eval(PLOTS_JS)
    assert [p["id"] for p in plots] == [f"plot-{p['key']}" for p in data["plots"]]
    assert len(plots) >= 5
    for p in plots:
        assert p["complete"] and p["natural_w"] > 0 and p["natural_h"] > 0, p
        assert p["w"] > 100 and p["h"] > 50, p
    assert browser.eval("document.querySelectorAll('tr[id^=check-]').length") == len(data["checks"])
    assert browser.eval("document.getElementById('verdict').textContent").startswith(
        "No blocking" if data["passed"] else "BLOCKED")
    _shot(browser, "audit-report.png", folder)


def test_run_report_sorts_and_links_the_audit(browser, audited):
    rd, folder = audited
    browser.log.errors.clear()
    browser.open(rd / "report.html")
    assert browser.log.errors == []
    plots = browser.eval(PLOTS_JS)
    assert [p["id"] for p in plots] == ["plot-lineage"] and plots[0]["natural_w"] > 0 and plots[0]["h"] > 50
    link = f"audit/{folder.name}/report.html"
    assert browser.eval(f"!!document.querySelector('a[href=\"{link}\"]')")
    col = browser.eval("Array.from(document.querySelectorAll('#candidates th')).findIndex("
                       "function (th) { return th.textContent.trim() === 'replay cost'; })")
    assert col >= 0
    read = ("Array.from(document.querySelectorAll('#candidates tbody tr')).map(function (r) {"
            f" return r.cells[{col}].dataset.v; }}).filter(function (v) {{ return v !== ''; }}).map(parseFloat)")
    browser.eval(f"document.querySelectorAll('#candidates th')[{col}].click()")
    ascending = browser.eval(read)
    assert len(ascending) >= 5 and ascending == sorted(ascending)
    browser.eval(f"document.querySelectorAll('#candidates th')[{col}].click()")
    assert browser.eval(read) == sorted(ascending, reverse=True)
    assert browser.log.errors == []
    _shot(browser, "run-report.png", rd)
