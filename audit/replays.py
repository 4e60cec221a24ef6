"""Replay checks: reproduction of the recorded replay, long-horizon stability, cost sensitivity.

Every candidate replay here is the trusted simulator's, with one sandboxed decision a
day (:meth:`audit.policies.PolicyRunner.replay`), in a fresh candidate process.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from audit.config import AuditConfig
from audit.model import Check, CheckId, Group, Verdict
from audit.policies import PolicyRunner, Trajectory
from inventory.policy import ParamSpec, PolicyError
from inventory.sequence import CostModel, DemandSequence, FeatureSpec
from inventory.simulator import InitialState

log = logging.getLogger(__name__)

WARMUP = 28  # days of the long replay left out of the drift comparison


def _check(check: CheckId, verdict: Verdict, reason: str, **details: object) -> Check:
    group = Group.REPLAY if check is CheckId.REPLAY_REPRODUCES else Group.PROBE
    return Check(check, group, verdict, reason, details=dict(details))


def reproduction_check(audit_costs: np.ndarray, recorded: Sequence[float] | None, tol: float,
                       source: str) -> Check:
    """Does the audit's replay give the recorded daily costs (``source`` says which record)?"""
    if recorded is None or len(recorded) == 0:
        return _check(CheckId.REPLAY_REPRODUCES, Verdict.SKIP, f"no recorded daily costs to compare ({source})")
    rec = np.asarray(recorded, dtype=float)
    if len(rec) != len(audit_costs):
        return _check(CheckId.REPLAY_REPRODUCES, Verdict.FAIL, f"{source} has {len(rec)} daily costs, the audit's "
                      f"replay {len(audit_costs)}", recorded_days=len(rec), audit_days=len(audit_costs))
    off = np.abs(rec - audit_costs) > tol * (1 + np.abs(rec))
    if off.any():
        d = int(np.argmax(off))
        return _check(CheckId.REPLAY_REPRODUCES, Verdict.FAIL,
                      f"{int(off.sum())} of {len(rec)} days differ from {source}; first day {d}: recorded "
                      f"{rec[d]:.6g}, audit {audit_costs[d]:.6g} (mean {rec.mean():.6g} vs {audit_costs.mean():.6g})",
                      differing_days=int(off.sum()))
    return _check(CheckId.REPLAY_REPRODUCES, Verdict.PASS, f"the audit's fresh-process replay gives the {len(rec)} "
                  f"daily costs of {source} (mean {rec.mean():.6g}/day)", days=len(rec), mean_cost=float(rec.mean()))


def long_sequence(seq: DemandSequence, days: int, seed: int) -> DemandSequence:
    """``days`` days drawn as whole weeks from ``seq`` (weekday-aligned block bootstrap, seeded).

    Blocks start on the same weekday as day 0, so dates, weekday patterns and weekly
    feature plans stay aligned; demand is stationary by construction, which is what makes
    a drift in the policy's state attributable to the policy.
    """
    n = len(seq)
    weeks = n // 7
    rng = np.random.default_rng(np.random.SeedSequence([seed, 13]))
    if weeks >= 2:
        blocks = rng.integers(0, weeks, size=math.ceil(days / 7))
        idx = (blocks[:, None] * 7 + np.arange(7)[None, :]).reshape(-1)[:days]
    else:
        idx = np.arange(days) % n
    start = np.datetime64(seq.dates[0], "D")
    dates = [str(start + i) for i in range(days)]
    return DemandSequence(dates, seq.demand[idx], {k: v[idx] for k, v in seq.features.items()})


@dataclass(frozen=True)
class LongRun:
    check: Check
    candidate: Trajectory | None
    reference: Trajectory | None


def _quarter_stats(tr: Trajectory) -> dict[str, float]:
    n = len(tr.orders)
    q = max((n - WARMUP) // 4, 1)
    early, late = slice(WARMUP, WARMUP + q), slice(n - q, n)
    return {"early_position": float(tr.position[early].mean()), "late_position": float(tr.position[late].mean()),
            "early_order": float(tr.orders[early].mean()), "late_order": float(tr.orders[late].mean()),
            "early_lost": float(tr.lost[early].mean()), "late_lost": float(tr.lost[late].mean()),
            "max_order": float(tr.orders.max()), "mean_cost": tr.mean_cost}


def long_horizon(cand: PolicyRunner, ref: PolicyRunner, seq: DemandSequence, specs: Sequence[FeatureSpec],
                 model: CostModel, init: InitialState, cfg: AuditConfig, cap: float) -> LongRun:
    long = long_sequence(seq, cfg.long_days, cfg.seed)
    try:
        rt = ref.replay(long, specs, model, init)
    except PolicyError as exc:
        log.warning("reference failed on the long replay: %s", exc)
        rt = None
    try:
        ct = cand.replay(long, specs, model, init)
    except PolicyError as exc:
        return LongRun(_check(CheckId.LONG_HORIZON, Verdict.FAIL, f"the policy failed on the {cfg.long_days}-day "
                              f"replay: {exc}"), None, rt)
    s = _quarter_stats(ct)
    details: dict[str, object] = {"days": cfg.long_days, "candidate": s,
                                  "reference": None if rt is None else _quarter_stats(rt)}
    mean_d = float(long.demand.mean()) or 1.0
    pos_ratio = (s["late_position"] + mean_d) / (s["early_position"] + mean_d)
    ord_ratio = (s["late_order"] + 0.1 * mean_d) / (s["early_order"] + 0.1 * mean_d)
    details.update(position_ratio=pos_ratio, order_ratio=ord_ratio)
    head = f"{cfg.long_days}-day weekday-aligned bootstrap of the replay window (stationary demand)"
    if s["max_order"] > cap:
        day = int(np.argmax(ct.orders > cap))
        return LongRun(_check(CheckId.LONG_HORIZON, Verdict.FAIL, f"orders explode: {ct.orders[day]:.4g} on day {day} "
                              f"exceeds the cap {cap:g} ({head})", **details), ct, rt)
    if pos_ratio > cfg.drift_ratio or ord_ratio > cfg.drift_ratio:
        return LongRun(_check(CheckId.LONG_HORIZON, Verdict.FAIL,
                              f"state drifts upward: mean position {s['early_position']:.4g} -> {s['late_position']:.4g}, "
                              f"mean order {s['early_order']:.4g} -> {s['late_order']:.4g} from the first to the last "
                              f"quarter ({head})", **details), ct, rt)
    if pos_ratio < 1 / cfg.drift_ratio and s["late_lost"] > 2 * s["early_lost"] + 1e-9:
        return LongRun(_check(CheckId.LONG_HORIZON, Verdict.WARN,
                              f"the order path decays: mean position {s['early_position']:.4g} -> {s['late_position']:.4g}, "
                              f"lost sales {s['early_lost']:.3g} -> {s['late_lost']:.3g}/day ({head})", **details), ct, rt)
    ref_txt = "" if rt is None else f"; reference {rt.mean_cost:.4g}/day"
    return LongRun(_check(CheckId.LONG_HORIZON, Verdict.PASS,
                          f"stable: mean position {s['early_position']:.4g} -> {s['late_position']:.4g}, max order "
                          f"{s['max_order']:.4g} <= cap {cap:g}; cost {s['mean_cost']:.4g}/day{ref_txt} ({head})",
                          **details), ct, rt)


def _perturbed(value: float, spec: ParamSpec | None, sign: int, rel: float) -> float:
    step = rel * abs(value) if value != 0 else rel * ((spec.high - spec.low) if spec else 1.0)
    new = value + sign * step
    if spec is not None:
        new = min(max(new, spec.low), spec.high)
        if spec.integer:
            new = float(round(new))
            if new == value:
                new = min(max(value + sign, spec.low), spec.high)
    return float(new)


def cost_sensitivity(cand: PolicyRunner, seq: DemandSequence, specs: Sequence[FeatureSpec], model: CostModel,
                     init: InitialState, base_cost: float, cfg: AuditConfig) -> Check:
    """Replay cost with each tuned parameter moved by +-``cfg.perturbation`` (clipped to its space)."""
    if not cand.params:
        return _check(CheckId.COST_SENSITIVITY, Verdict.SKIP, "the policy has no tuned parameters")
    try:
        space = {s.name: s for s in cand.space()}
    except PolicyError as exc:
        log.warning("search space unavailable (%s); perturbing without bounds", exc)
        space = {}
    rows, errors = [], []
    for name, value in cand.params.items():
        for sign in (-1, 1):
            new = _perturbed(value, space.get(name), sign, cfg.perturbation)
            if new == value:
                continue
            try:
                cost = cand.replay(seq, specs, model, init, {**cand.params, name: new}).mean_cost
            except PolicyError as exc:
                errors.append(f"{name}={new:.4g}: {exc}")
                continue
            change = (cost - base_cost) / base_cost if base_cost else 0.0
            rows.append({"param": name, "value": value, "perturbed": new, "cost": cost, "change": change})
    details: dict[str, object] = {"base_cost": base_cost, "perturbation": cfg.perturbation, "rows": rows,
                                  "errors": errors}
    if errors:
        return _check(CheckId.COST_SENSITIVITY, Verdict.WARN, f"the policy failed under {len(errors)} perturbation(s); "
                      f"first: {errors[0]}", **details)
    if not rows:
        return _check(CheckId.COST_SENSITIVITY, Verdict.SKIP, "no parameter could be moved within its bounds", **details)
    worst = max(rows, key=lambda r: r["change"])
    best = min(rows, key=lambda r: r["change"])
    tail = (f"; moving {best['param']} to {best['perturbed']:.4g} lowers the cost by {-best['change']:.1%}, so tuning "
            "stopped short of a local optimum") if best["change"] < -0.01 else ""
    if worst["change"] > cfg.sensitivity_warn:
        return _check(CheckId.COST_SENSITIVITY, Verdict.WARN,
                      f"sharp optimum: moving {worst['param']} {worst['value']:.4g} -> {worst['perturbed']:.4g} raises "
                      f"the replay cost by {worst['change']:.1%} (> {cfg.sensitivity_warn:.0%}){tail}", **details)
    return _check(CheckId.COST_SENSITIVITY, Verdict.PASS,
                  f"every +-{cfg.perturbation:.0%} move keeps the replay cost within {worst['change']:+.1%} "
                  f"(worst: {worst['param']}){tail}", **details)
