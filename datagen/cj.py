"""Complete Journey real-data benchmark (InvEvolve Sec. 5.2, App. 14).

Pipeline: :func:`datagen.cj_panel.build_panel` (daily panel, screening, features) ->
:func:`datagen.stockout.stockout_proxy` (censoring flags) -> one global
:func:`datagen.censored_glm.fit_censored_poisson` over all screened product-days ->
reconstructed demand ``max(observed, E[D | D >= observed])`` on flagged days -> one workspace
per product written with :func:`inventory.workspace_write.write_workspace`.

Windows: the public data cover 2017 only (365 days), so the paper's 365 + 30 windows do not
fit; each product's slice is the whole year, the longest replay window that fits before a
30-day forward window: 335 replay + 30 forward days.
Cost model: ``L = 5`` as in the paper; ``h = 1``, ``p = 9`` (the paper's ratio was lost in
extraction; we use the same 9 as the synthetic suite).
Feature availability: calendar fields, names and categories are known ahead (30 days);
display and mailer shares are weekly plans, known 7 days ahead; ``discount_rate`` is the
shelf discount of the day, visible on the day (``same_day``).
Audit data (observed sales, censoring flag, stockout proxy, lift) go to ``hidden/audit.json``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from datagen.censored_glm import CensoredPoissonFit, fit_censored_poisson, impute
from datagen.cj_panel import Panel, ScreenConfig, build_panel
from datagen.output import dump_json, prepare_out, write_json, write_workspace_atomic
from datagen.parallel import run_tasks
from datagen.stockout import ProxyConfig, stockout_proxy
from datagen.synthetic import initial_state
from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
from inventory.tuning import TuningConfig
from inventory.workspace import ProblemSpec, WorkspaceSpec

log = logging.getLogger(__name__)

DEPARTMENT_TITLES = {"GROCERY": "Grocery", "PRODUCE": "Produce", "MEAT": "Meat", "MEAT-PCKGD": "Meat (Packaged)",
                     "DELI": "Deli", "DRUG GM": "Drug & GM", "PASTRY": "Pastry", "SALAD BAR": "Salad Bar",
                     "NUTRITION": "Nutrition", "SEAFOOD-PCKGD": "Seafood (Packaged)", "FLORAL": "Floral"}
K, S = Availability.KNOWN_AHEAD, Availability.SAME_DAY
FEATURES = (
    FeatureSpec("name", FeatureKind.TEXT, K, 30, "product name (type, brand, package size)"),
    FeatureSpec("categories", FeatureKind.TEXT, K, 30, "department > category > product type"),
    FeatureSpec("is_weekend", FeatureKind.BINARY, K, 30, "1 on Saturday and Sunday"),
    FeatureSpec("is_holiday", FeatureKind.BINARY, K, 30, "1 on US federal holidays"),
    FeatureSpec("discount_rate", FeatureKind.NUMERIC, S, 0,
                "loyalty discount as a share of list price (last day with sales carried forward)"),
    FeatureSpec("is_on_display", FeatureKind.NUMERIC, K, 7, "share of stores with the product on display this week"),
    FeatureSpec("is_in_mailer", FeatureKind.NUMERIC, K, 7, "share of stores with the product in the weekly mailer"),
    FeatureSpec("day_of_week", FeatureKind.CATEGORICAL, K, 30, "0 = Monday ... 6 = Sunday"),
)
CONTEXT = ("A grocery product of a US retailer (Dunnhumby Complete Journey, 2017). Demand is reconstructed "
           "from point-of-sale sales: days that look stocked out are imputed with a censored Poisson model.")


@dataclass(frozen=True)
class CJConfig:
    seed: int = 0
    lead_time: int = 5
    h: float = 1.0
    p: float = 9.0
    screen: ScreenConfig = field(default_factory=ScreenConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    max_products: int | None = None
    n_standard: int = 30


@dataclass
class Reconstruction:
    fit: CensoredPoissonFit
    expected: np.ndarray      # stockout proxy (products x days)
    censored: np.ndarray
    rate: np.ndarray          # GLM Poisson rate
    imputed: np.ndarray


def design(panel: Panel, censored: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """GLM covariates per product-day, flattened row-major (product, day).

    intercept, log product scale (log mean sales on unflagged days), weekend, holiday,
    discount, display, mailer, sin/cos of day of week, department dummies (reference: the
    most common department).
    """
    n_p, n_d = panel.sales.shape
    masked = np.where(censored, np.nan, panel.sales)
    scale = np.log(np.maximum(np.nanmean(masked, axis=1), 0.1))
    dow = panel.day_of_week
    cols = {
        "intercept": np.ones((n_p, n_d)), "log_scale": np.repeat(scale[:, None], n_d, 1),
        "is_weekend": np.tile(panel.is_weekend, (n_p, 1)), "is_holiday": np.tile(panel.is_holiday, (n_p, 1)),
        "discount_rate": panel.discount, "is_on_display": panel.display, "is_in_mailer": panel.mailer,
        "dow_sin": np.tile(np.sin(2 * np.pi * dow / 7), (n_p, 1)), "dow_cos": np.tile(np.cos(2 * np.pi * dow / 7), (n_p, 1)),
    }
    depts, counts = np.unique(panel.department, return_counts=True)
    ref = depts[np.argmax(counts)]
    for d in depts:
        if d != ref:
            cols[f"dept[{d}]"] = np.repeat((np.array(panel.department) == d).astype(float)[:, None], n_d, 1)
    names = list(cols)
    return np.column_stack([cols[k].reshape(-1) for k in names]), names


def reconstruct(panel: Panel, proxy_cfg: ProxyConfig = ProxyConfig()) -> Reconstruction:
    """Flag censored days, fit the global censored Poisson GLM, impute demand."""
    flags = [stockout_proxy(panel.sales[i], panel.display[i], panel.mailer[i], panel.discount[i], proxy_cfg)
             for i in range(len(panel.product_ids))]
    expected = np.array([f.expected for f in flags])
    censored = np.array([f.censored for f in flags])
    x, names = design(panel, censored)
    fit = fit_censored_poisson(x, panel.sales.reshape(-1), censored.reshape(-1), names)
    rate = fit.rate(x).reshape(panel.sales.shape)
    imputed = impute(panel.sales, censored, rate)
    return Reconstruction(fit, expected, censored, rate, imputed)


def _round(v: np.ndarray, nd: int = 4) -> list[float]:
    return [None if not np.isfinite(x) else float(x) for x in np.round(np.asarray(v, dtype=float), nd)]


def _write_one(task: tuple[Path, WorkspaceSpec, DemandSequence, DemandSequence, bytes, TuningConfig]) -> str:
    path, spec, replay, forward, audit, tuning = task
    write_workspace_atomic(path, spec, replay, forward, tuning=tuning, hidden_files={"audit.json": audit})
    return spec.problem.name


def build_cj(out: str | Path, cfg: CJConfig = CJConfig(), *, force: bool = False, workers: int = 2,
             progress: bool = True, product_ids: list[int] | None = None) -> dict[str, Any]:
    """Build the CJ workspaces into ``out`` and return the suite index (``suite.json``).

    Also writes ``cj_report.json`` (GLM coefficients, imputed shares per department,
    screening counts) and ``splits/standard.json`` (``n_standard`` products drawn with the seed).
    Raises :class:`datagen.extras.MissingExtraError` without the ``realdata`` extra.
    """
    t0 = time.perf_counter()
    root = prepare_out(out, force)
    panel = build_panel(cfg.screen, product_ids=product_ids)
    if cfg.max_products is not None:
        panel = panel.subset(np.arange(min(cfg.max_products, len(panel.product_ids))))
    if len(panel.product_ids) == 0:
        raise ValueError("no Complete Journey product passed screening")
    rec = reconstruct(panel, cfg.proxy)
    r, f = cfg.screen.replay_days, cfg.screen.forward_days
    n_d = r + f
    dates = [str(d) for d in panel.dates[:n_d]]
    tasks, rows = [], []
    for i, pid in enumerate(panel.product_ids):
        name = f"cj_{int(pid)}"
        dept = DEPARTMENT_TITLES.get(panel.department[i], panel.department[i].title())
        feats = {
            "name": np.array([panel.name[i]] * n_d, dtype=object),
            "categories": np.array([panel.categories[i]] * n_d, dtype=object),
            "is_weekend": panel.is_weekend[:n_d], "is_holiday": panel.is_holiday[:n_d],
            "discount_rate": panel.discount[i, :n_d], "is_on_display": panel.display[i, :n_d],
            "is_in_mailer": panel.mailer[i, :n_d], "day_of_week": panel.day_of_week[:n_d],
        }
        seq = DemandSequence(dates, rec.imputed[i, :n_d], feats)
        replay, forward = seq.slice(0, r), seq.slice(r, n_d)
        problem = ProblemSpec(name=name, domain=dept, item=panel.name[i], h=cfg.h, p=cfg.p, lead_time=cfg.lead_time,
                              replay_days=r, forward_days=f, unit="count", context=CONTEXT)
        spec = WorkspaceSpec(problem, initial_state(replay, cfg.lead_time, False), FEATURES)
        audit = {"dates": dates, "observed_sales": _round(panel.sales[i, :n_d]),
                 "censored": [int(x) for x in rec.censored[i, :n_d]], "stockout_proxy": _round(rec.expected[i, :n_d]),
                 "glm_rate": _round(rec.rate[i, :n_d]), "imputed": _round(rec.imputed[i, :n_d]),
                 "lift": _round(rec.imputed[i, :n_d] - panel.sales[i, :n_d]), "product_id": int(pid),
                 "department": panel.department[i]}
        tasks.append((root / name, spec, replay, forward, dump_json(audit), cfg.tuning))
        s = panel.sales[i]
        rows.append({"name": name, "product_id": int(pid), "department": panel.department[i], "domain": dept,
                     "zero_ratio_replay": float(np.mean(s[:r] == 0)), "zero_ratio_forward": float(np.mean(s[r:n_d] == 0)),
                     "zero_ratio_full": float(np.mean(s[:n_d] == 0)), "censored_share": float(rec.censored[i, :n_d].mean()),
                     "imputed_share": float(np.mean(rec.imputed[i, :n_d] > s[:n_d]))})
    log.info("CJ: writing %d workspaces (%d replay + %d forward days, L=%d, p/h=%g)",
             len(tasks), r, f, cfg.lead_time, cfg.p / cfg.h)
    run_tasks(_write_one, tasks, workers=workers, desc="cj", progress=progress)
    report = cj_report(panel, rec, n_d)
    report["screening"] = panel.screening
    write_json(root / "cj_report.json", report)
    index = {"suite": "cj", "seed": cfg.seed, "lead_time": cfg.lead_time, "h": cfg.h, "p": cfg.p,
             "screen": asdict(cfg.screen), "proxy": asdict(cfg.proxy), "tuning": asdict(cfg.tuning), "workspaces": rows}
    write_json(root / "suite.json", index)
    pick = standard_selection(rows, cfg.n_standard, cfg.seed)
    write_json(root / "splits" / "standard.json", {
        "test": pick, "note": f"{len(pick)} products drawn with seed {cfg.seed}, stratified by department "
                              f"to the paper's Table 3 counts {PAPER_DEPARTMENT_COUNTS} where the pool allows"})
    log.info("CJ GLM: %s", ", ".join(f"{n}={c:.3f}" for n, c in zip(rec.fit.names, rec.fit.coef)))
    log.info("CJ: %d workspaces in %.1f s", len(rows), time.perf_counter() - t0)
    return index


PAPER_DEPARTMENT_COUNTS = {"DELI": 1, "DRUG GM": 2, "GROCERY": 12, "MEAT": 1, "MEAT-PCKGD": 1, "PRODUCE": 13}


def standard_selection(rows: list[dict[str, Any]], n: int, seed: int) -> list[str]:
    """``n`` workspace names: per department the paper's count (or all it has), then random fill."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    pick: list[str] = []
    for dept, count in PAPER_DEPARTMENT_COUNTS.items():
        pool = sorted(r["name"] for r in rows if r["department"] == dept)
        take = min(count, len(pool), n - len(pick))
        pick += [pool[j] for j in sorted(rng.choice(len(pool), take, replace=False))] if take > 0 else []
    rest = sorted(r["name"] for r in rows if r["name"] not in set(pick))
    extra = min(n - len(pick), len(rest))
    pick += [rest[j] for j in sorted(rng.choice(len(rest), extra, replace=False))] if extra > 0 else []
    return sorted(pick)


def cj_report(panel: Panel, rec: Reconstruction, n_days: int) -> dict[str, Any]:
    """GLM coefficients and, per department, the share of censored and of imputed-up days."""
    per: dict[str, dict[str, float]] = {}
    depts = np.array(panel.department)
    for d in sorted(set(panel.department)):
        m = depts == d
        s = panel.sales[m, :n_days]
        per[d] = {"products": int(m.sum()), "censored_share": float(rec.censored[m, :n_days].mean()),
                  "imputed_share": float(np.mean(rec.imputed[m, :n_days] > s)),
                  "mean_lift_on_imputed": float(np.mean((rec.imputed[m, :n_days] - s)[rec.imputed[m, :n_days] > s]))
                  if np.any(rec.imputed[m, :n_days] > s) else 0.0}
    return {"glm": {"coefficients": rec.fit.table(), "loglik": rec.fit.loglik, "n": rec.fit.n,
                    "n_censored": rec.fit.n_censored, "converged": rec.fit.converged},
            "departments": per,
            "overall": {"censored_share": float(rec.censored[:, :n_days].mean()),
                        "imputed_share": float(np.mean(rec.imputed[:, :n_days] > panel.sales[:, :n_days]))}}
