"""Stress replays: the candidate and the reference on the same altered replay window.

Each :class:`Scenario` turns the workspace's replay window into a what-if window (or says
why it does not apply). Both policies are replayed by the trusted simulator on exactly the
same days; the verdict compares their mean cost. A candidate that *fails* (raises, returns
a bad order) under a scenario fails a blocking check: a rule that crashes when a supplier
is a day late is not fit to deploy. Costing more than the reference only warns.
"""
from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

from audit.config import AuditConfig
from audit.model import Check, CheckId, Group, Verdict
from audit.policies import PolicyRunner
from inventory.policy import PolicyError
from inventory.sequence import CostModel, DemandSequence, FeatureKind
from inventory.simulator import InitialState
from inventory.workspace import HIDDEN_DIR, Workspace

log = logging.getLogger(__name__)

PROMO_PATTERN = re.compile(r"promo|mailer|display|discount|deal|coupon|campaign|advert", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    seq: DemandSequence
    model: CostModel
    init: InitialState


class Scenario(ABC):
    key: str
    title: str

    @abstractmethod
    def build(self, ws: Workspace) -> Window | str:
        """The altered window, or the reason the scenario does not apply."""

    @staticmethod
    def base(ws: Workspace) -> Window:
        return Window(ws.replay, ws.spec.model, ws.spec.initial)

    @staticmethod
    def with_demand(ws: Workspace, demand: np.ndarray) -> Window:
        if ws.spec.model.integer_orders:
            demand = np.rint(demand)
        seq = DemandSequence(ws.replay.dates, np.maximum(demand, 0.0), dict(ws.replay.features))
        return Window(seq, ws.spec.model, ws.spec.initial)


class DemandScale(Scenario):
    def __init__(self, factor: float):
        self.factor = factor
        self.key = f"demand_x{factor:g}"
        self.title = f"demand x{factor:g}"

    def build(self, ws: Workspace) -> Window | str:
        return self.with_demand(ws, ws.replay.demand * self.factor)


class LevelShift(Scenario):
    """From the middle of the window on, demand is higher by half its mean (a step change)."""

    key, title = "level_shift", "level shift (+50% of mean from mid-window)"

    def build(self, ws: Workspace) -> Window | str:
        d = ws.replay.demand.copy()
        d[len(d) // 2:] += 0.5 * d.mean()
        return self.with_demand(ws, d)


class LeadTimePlusOne(Scenario):
    key, title = "lead_time_plus_1", "lead time + 1 day"

    def build(self, ws: Workspace) -> Window | str:
        base = self.base(ws)
        return Window(base.seq, replace(base.model, lead_time=base.model.lead_time + 1), base.init)


class PromotionFree(Scenario):
    """Promotion features off (0 for binary ones, the most common value for numeric ones), and
    each promotion day's demand replaced by the median demand of the non-promotion days on the
    same weekday (the uplift removed)."""

    key, title = "promotion_free", "promotion-free history"

    def build(self, ws: Workspace) -> Window | str:
        promo = [s for s in ws.spec.features if s.kind in (FeatureKind.BINARY, FeatureKind.NUMERIC)
                 and (PROMO_PATTERN.search(s.name) or PROMO_PATTERN.search(s.description))]
        if not promo:
            return "the workspace declares no promotion feature (binary/numeric, named or described as one)"
        seq = ws.replay
        on = np.zeros(len(seq), dtype=bool)
        base = {}
        for s in promo:  # 'off' is 0 for a binary feature, the most common value for a numeric one
            values = np.asarray(seq.features[s.name], dtype=float)
            uniq, counts = np.unique(values, return_counts=True)
            base[s.name] = 0.0 if s.kind is FeatureKind.BINARY else float(uniq[np.argmax(counts)])
            on |= values != base[s.name]
        if not on.any():
            return f"no promotion day in the replay window ({', '.join(s.name for s in promo)} are all 0)"
        if on.all():
            return f"every replay day is a promotion day ({', '.join(s.name for s in promo)}): no demand without one"
        dow = np.array([int(np.datetime64(d, "D").astype(np.int64) + 3) % 7 for d in seq.dates])
        demand = seq.demand.copy()
        for k in range(7):
            calm = (~on) & (dow == k)
            fill = np.median(seq.demand[calm]) if calm.any() else np.median(seq.demand[~on])
            demand[on & (dow == k)] = fill
        feats = dict(seq.features)
        for s in promo:
            feats[s.name] = np.full(len(seq), base[s.name])
        out = DemandSequence(seq.dates, demand, feats)
        return Window(out, ws.spec.model, ws.spec.initial)


class CensoredDemand(Scenario):
    """The observed (censored) sales instead of the reconstructed demand, where the workspace's
    audit data (``hidden/audit.json``: ``observed_sales`` by date) has them."""

    key, title = "censored_demand", "censored demand (observed sales)"

    def build(self, ws: Workspace) -> Window | str:
        path = ws.root / HIDDEN_DIR / "audit.json"
        if not path.exists():
            return "the workspace has no censored-demand data (hidden/audit.json)"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            by_date = dict(zip(raw["dates"], raw["observed_sales"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            return f"{path}: unreadable censored-demand data ({exc})"
        sales = [by_date.get(d) for d in ws.replay.dates]
        demand = np.array([s if isinstance(s, (int, float)) and np.isfinite(s) else d
                           for s, d in zip(sales, ws.replay.demand)], dtype=float)
        if np.array_equal(demand, ws.replay.demand):
            return "observed sales equal the demand on every replay day (no censored day)"
        return self.with_demand(ws, demand)


SCENARIOS: tuple[Scenario, ...] = (DemandScale(0.7), DemandScale(1.3), LevelShift(), LeadTimePlusOne(),
                                   PromotionFree(), CensoredDemand())


@dataclass(frozen=True)
class StressResult:
    key: str
    title: str
    candidate_cost: float | None
    reference_cost: float | None

    @property
    def change(self) -> float | None:
        if self.candidate_cost is None or not self.reference_cost:
            return None
        return (self.candidate_cost - self.reference_cost) / self.reference_cost


def run_stress(ws: Workspace, cand: PolicyRunner, ref: PolicyRunner, cfg: AuditConfig,
               scenarios: tuple[Scenario, ...] = SCENARIOS) -> tuple[list[Check], list[StressResult]]:
    checks, results = [], []
    for sc in scenarios:
        win = sc.build(ws)
        if isinstance(win, str):
            checks.append(Check(CheckId.STRESS, Group.STRESS, Verdict.SKIP, win, sc.key, details={"title": sc.title}))
            continue
        try:
            rc = ref.replay(win.seq, ws.spec.features, win.model, win.init).mean_cost
        except PolicyError as exc:
            checks.append(Check(CheckId.STRESS, Group.STRESS, Verdict.SKIP, f"the reference failed: {exc}", sc.key,
                                details={"title": sc.title}))
            continue
        try:
            cc = cand.replay(win.seq, ws.spec.features, win.model, win.init).mean_cost
        except PolicyError as exc:
            checks.append(Check(CheckId.STRESS, Group.STRESS, Verdict.FAIL, f"the policy failed under {sc.title}: {exc}",
                                sc.key, details={"title": sc.title, "reference_cost": rc}))
            results.append(StressResult(sc.key, sc.title, None, rc))
            continue
        res = StressResult(sc.key, sc.title, cc, rc)
        results.append(res)
        change = res.change or 0.0
        details = {"title": sc.title, "candidate_cost": cc, "reference_cost": rc, "change": change}
        text = f"{cc:.4g} vs reference {rc:.4g} per day ({change:+.1%})"
        worse = cc > rc * (1 + cfg.stress_tolerance)
        checks.append(Check(CheckId.STRESS, Group.STRESS, Verdict.WARN if worse else Verdict.PASS,
                            f"{sc.title}: {text}" + (" - costlier than the reference" if worse else ""),
                            sc.key, blocking=True, details=details))
    return checks, results
