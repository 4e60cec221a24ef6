"""Suite statistics as the paper reports them, side by side with the paper's numbers.

:func:`summarise` loads every workspace of a suite folder (validating each manifest, so a
corrupted suite fails here) and computes, per workspace over the whole slice (replay +
forward): mean demand, CV (sample sd / mean) and the zero-demand ratio per window. For the
Complete Journey suite the zero ratios are those of *observed* sales (``hidden/audit.json``),
as in the paper's Table 14. :func:`render_summary` formats the result with the paper's
values (Sec. 4.1.2 for the synthetic suite, App. 14 Table 14 for CJ, Sec. 5.3.1 for the
classical testbed).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inventory.workspace import HIDDEN_DIR, load_workspace

PAPER: dict[str, dict[str, Any]] = {
    "synthetic": {"workspaces": 470, "datasets": 47, "domains": 15, "mean_min": "< 1", "mean_median": 57.0,
                  "mean_max": "~1000", "cv_min": 0.07, "cv_median": 0.35, "cv_max": 2.72},
    "cj": {"workspaces": 30,
           "zero_replay": {"min": 0.003, "mean": 0.077, "median": 0.081, "max": 0.192},
           "zero_forward": {"min": 0.0, "mean": 0.040, "median": 0.033, "max": 0.167},
           "zero_full": {"min": 0.003, "mean": 0.074, "median": 0.076, "max": 0.185},
           "departments": {"Deli": 1, "Drug & GM": 2, "Grocery": 12, "Meat": 1, "Meat (Packaged)": 1, "Produce": 13}},
    "classical": {"workspaces": 96, "distributions": 6},
}


@dataclass
class SuiteStats:
    suite: str
    root: str
    names: list[str]
    domains: dict[str, int]
    mean: np.ndarray
    cv: np.ndarray
    zero: dict[str, np.ndarray]
    extra: dict[str, Any] = field(default_factory=dict)
    split: str | None = None


def summarise(root: str | Path, split: str | None = None) -> SuiteStats:
    """Statistics of the suite in ``root`` (``split``: restrict to a list of splits/standard.json)."""
    root = Path(root)
    index_path = root / "suite.json"
    if not index_path.exists():
        raise FileNotFoundError(f"{index_path} missing: not a folder written by `invevolve datagen`")
    index = json.loads(index_path.read_text(encoding="utf-8"))
    rows = index["workspaces"]
    if split:
        chosen = set(json.loads((root / "splits" / "standard.json").read_text(encoding="utf-8"))[split])
        rows = [r for r in rows if r["name"] in chosen]
    if not rows:
        raise ValueError(f"{root}: no workspaces to summarise")
    means, cvs, zr, zf, za, domains = [], [], [], [], [], []
    for r in rows:
        ws = load_workspace(root / r["name"])
        fwd = ws.load_forward()
        replay_n = len(ws.replay)
        audit = root / r["name"] / HIDDEN_DIR / "audit.json"
        if audit.exists():
            obs = np.asarray(json.loads(audit.read_text(encoding="utf-8"))["observed_sales"], dtype=float)
        else:
            obs = np.concatenate([ws.replay.demand, fwd.demand])
        full = np.concatenate([ws.replay.demand, fwd.demand])
        m = float(full.mean())
        means.append(m)
        cvs.append(float(full.std(ddof=1) / m) if m > 0 else float("nan"))
        zr.append(float(np.mean(obs[:replay_n] == 0)))
        zf.append(float(np.mean(obs[replay_n:] == 0)))
        za.append(float(np.mean(obs == 0)))
        domains.append(ws.spec.problem.domain)
    extra: dict[str, Any] = {}
    if index.get("suite") == "synthetic":
        extra["datasets"] = len({r["dataset"] for r in rows})
    if index.get("suite") == "classical":
        extra["unresolved_forward"] = index.get("unresolved_forward", [])
        extra["days"] = (min(r["forward_days"] for r in rows), max(r["forward_days"] for r in rows))
    report = root / "cj_report.json"
    if report.exists():
        extra["cj_report"] = json.loads(report.read_text(encoding="utf-8"))
    return SuiteStats(index.get("suite", "unknown"), str(root), [r["name"] for r in rows], dict(sorted(Counter(domains).items())),
                      np.array(means), np.array(cvs), {"replay": np.array(zr), "forward": np.array(zf), "full": np.array(za)},
                      extra, split)


def _q(x: np.ndarray) -> tuple[float, float, float, float]:
    return float(np.nanmin(x)), float(np.nanmedian(x)), float(np.nanmean(x)), float(np.nanmax(x))


def render_summary(s: SuiteStats) -> str:
    """Plain-text report: our numbers, and the paper's where it reports them."""
    paper = dict(PAPER.get(s.suite, {}))
    if s.split:  # the paper's counts describe whole suites (CJ: its 30-case selection)
        for k in ("workspaces", "datasets", "domains") if s.suite != "cj" else ():
            paper.pop(k, None)
    out = [f"suite: {s.suite}  ({s.root})" + (f"  split: {s.split}" if s.split else ""), f"workspaces: {len(s.names)}" +
           (f"   [paper: {paper['workspaces']}]" if "workspaces" in paper else "")]
    if "datasets" in s.extra:
        out.append(f"datasets: {s.extra['datasets']}" + (f"   [paper: {paper['datasets']}]" if "datasets" in paper else ""))
    out.append(f"domains: {len(s.domains)}" + (f"   [paper: {paper['domains']}]" if "domains" in paper else ""))
    pd = paper.get("departments", {})
    width = max(len(k) for k in s.domains)
    out.append("count by domain:" + ("   (paper's 30-case selection in brackets)" if pd else ""))
    for k, v in s.domains.items():
        out.append(f"  {k:<{width}}  {v:4d}" + (f"   [{pd[k]}]" if k in pd else ""))
    mn, md, mu, mx = _q(s.mean)
    cmn, cmd, cmu, cmx = _q(s.cv)
    out += ["", f"{'statistic':<22}{'ours':>12}{'paper':>10}"]
    rows = [("mean demand: min", f"{mn:.2f}", paper.get("mean_min")), ("mean demand: median", f"{md:.1f}", paper.get("mean_median")),
            ("mean demand: max", f"{mx:.1f}", paper.get("mean_max")), ("CV: min", f"{cmn:.2f}", paper.get("cv_min")),
            ("CV: median", f"{cmd:.2f}", paper.get("cv_median")), ("CV: max", f"{cmx:.2f}", paper.get("cv_max"))]
    for label, ours, ref in rows:
        out.append(f"{label:<22}{ours:>12}{'' if ref is None else str(ref):>10}")
    out += ["", "zero-demand ratio" + (" (observed sales)" if s.suite == "cj" else "") + ":",
            f"  {'window':<9}{'min':>8}{'mean':>8}{'median':>8}{'max':>8}" + ("    paper min/mean/median/max" if s.suite == "cj" else "")]
    for w in ("replay", "forward", "full"):
        a, med, mean, b = _q(s.zero[w])
        ref = paper.get(f"zero_{w}")
        refs = f"    {ref['min']:.1%}/{ref['mean']:.1%}/{ref['median']:.1%}/{ref['max']:.1%}" if ref else ""
        out.append(f"  {w:<9}{a:>8.1%}{mean:>8.1%}{med:>8.1%}{b:>8.1%}{refs}")
    rep = s.extra.get("cj_report")
    if rep:
        out += ["", "censored Poisson GLM (global, MLE):", f"  {'covariate':<24}{'coef':>9}{'se':>9}"]
        for c in rep["glm"]["coefficients"]:
            out.append(f"  {c['name']:<24}{c['coef']:>9.3f}{c['se']:>9.3f}")
        out.append(f"  n = {rep['glm']['n']}, censored = {rep['glm']['n_censored']}, loglik = {rep['glm']['loglik']:.1f}")
        out += ["", f"  {'department':<16}{'products':>9}{'censored':>10}{'imputed':>9}"]
        for d, v in rep["departments"].items():
            out.append(f"  {d:<16}{v['products']:>9}{v['censored_share']:>10.1%}{v['imputed_share']:>9.1%}")
        if "screening" in rep:
            out.append(f"  screening: {rep['screening']}")
    if s.suite == "classical":
        lo, hi = s.extra["days"]
        un = s.extra["unresolved_forward"]
        out += ["", f"forward window: {lo}..{hi} days; scenarios whose 95% paired half-width exceeds 0.5% at the cap: {len(un)}"]
        out += [f"  {n}" for n in un]
    return "\n".join(out) + "\n"
