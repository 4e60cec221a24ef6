"""Behaviour probes on the grid of states and feature values (docs/audit.md, "Probes").

Each :class:`Probe` names the grid states it needs and turns the candidate's answers into
checks with a verdict and a reason. All candidate decisions go through the sandbox
(:class:`audit.policies.SandboxedPolicy`), in one batch per fresh process.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from audit.config import AuditConfig
from audit.grid import BASE, FeatureLevels, GridBuilder, ProbeState
from audit.model import Check, CheckId, Group, Verdict
from audit.policies import Decision, PolicyRunner
from audit.static import StaticReport

log = logging.getLogger(__name__)


@dataclass
class ProbeContext:
    candidate: PolicyRunner
    reference: PolicyRunner
    builder: GridBuilder
    static: StaticReport
    config: AuditConfig
    cap: float
    days: list[int]
    positions: np.ndarray
    levels: dict[str, FeatureLevels]
    integer: bool

    def base_states(self) -> list[ProbeState]:
        return [ProbeState(d, float(p), fam) for d in self.days for fam in self.builder.families() for p in self.positions]

    def variant_positions(self) -> np.ndarray:
        return self.positions[:: max(1, len(self.positions) // 8)]

    def rounded(self, q: float) -> float:
        return float(np.rint(q)) if self.integer else q


Answers = dict[ProbeState, Decision]


def _where(s: ProbeState) -> str:
    return f"day {s.day}, position {s.position:g} ({s.family})"


class Probe(ABC):
    check: CheckId

    def states(self, ctx: ProbeContext) -> list[ProbeState]:
        return ctx.base_states()

    @abstractmethod
    def evaluate(self, ctx: ProbeContext, answers: Answers) -> list[Check]:
        """Checks from the candidate's answers on :meth:`states`."""

    def _check(self, verdict: Verdict, reason: str, subject: str = "", **details: object) -> Check:
        return Check(self.check, Group.PROBE, verdict, reason, subject, details=dict(details))


class OrdersValid(Probe):
    """Orders are finite and non-negative everywhere on the grid; integer ones are rounded."""

    check = CheckId.ORDERS_VALID

    def states(self, ctx: ProbeContext) -> list[ProbeState]:
        return []  # every state asked by any probe counts

    def evaluate(self, ctx: ProbeContext, answers: Answers) -> list[Check]:
        bad = [(s, d.error) for s, d in answers.items() if d.error is not None]
        orders = np.array([d.order for d in answers.values() if d.order is not None])
        if bad:
            s, err = bad[0]
            return [self._check(Verdict.FAIL, f"{len(bad)} of {len(answers)} probe states gave no valid order; "
                                f"first at {_where(s)}: {err}", failures=len(bad), states=len(answers),
                                examples=[{"state": _where(s), "error": e} for s, e in bad[:5]])]
        frac = float(np.mean(np.abs(orders - np.rint(orders)) > 1e-9)) if len(orders) else 0.0
        tail = (f"; the workspace counts units, and {frac:.0%} of raw orders were fractional: the replay rounds them "
                "to the nearest integer (np.rint), and the deployed rule must too") if ctx.integer else ""
        return [self._check(Verdict.PASS, f"all {len(answers)} probe orders are finite and >= 0{tail}",
                            states=len(answers), fractional_share=frac)]


class Monotone(Probe):
    """Orders do not increase with the inventory position (where the structure claims it)."""

    check = CheckId.MONOTONE

    def evaluate(self, ctx: ProbeContext, answers: Answers) -> list[Check]:
        violations, curves = [], 0
        for day in ctx.days:
            for fam in ctx.builder.families():
                pts = [ProbeState(day, float(p), fam) for p in ctx.positions]
                if any(answers[s].order is None for s in pts):
                    continue
                curves += 1
                q = [ctx.rounded(answers[s].order) for s in pts]
                for i in range(len(q) - 1):
                    if q[i + 1] > q[i] + 1e-9 * (1 + abs(q[i])):
                        violations.append({"state": _where(pts[i + 1]), "from": q[i], "to": q[i + 1],
                                           "positions": [pts[i].position, pts[i + 1].position]})
        claim = ctx.static.claims_monotone
        why = (f"the rule computes a gap `level - state` (line {', '.join(map(str, ctx.static.gap_lines))})"
               if claim else "the structure makes no order-up-to claim")
        if curves == 0:
            return [self._check(Verdict.SKIP, "no complete order curve (the policy failed on the grid)")]
        if not violations:
            return [self._check(Verdict.PASS, f"order is non-increasing in the position on all {curves} curves; {why}",
                                curves=curves, claimed=claim)]
        v = violations[0]
        msg = (f"order rises from {v['from']:g} to {v['to']:g} as the position grows "
               f"{v['positions'][0]:g} -> {v['positions'][1]:g} ({v['state']}); {len(violations)} rise(s) on "
               f"{curves} curves; {why}")
        return [self._check(Verdict.FAIL if claim else Verdict.WARN, msg, curves=curves, claimed=claim,
                            violations=violations[:10])]


class _Response(Probe):
    """Shared logic: how much the order moves when one input is switched between levels."""

    def _table(self, ctx: ProbeContext, answers: Answers, variants: list[str]) -> list[list[float]]:
        rows = []
        for day in ctx.days:
            for p in ctx.variant_positions():
                qs = [answers.get(ProbeState(day, float(p), "on_hand", v)) for v in variants]
                if all(d is not None and d.order is not None for d in qs):
                    rows.append([d.order for d in qs])
        return rows

    def _verdict(self, label: str, subject: str, claimed: bool, where: str, rows: list[list[float]],
                 labels: tuple[str, ...], on: int | None) -> Check:
        if not rows:
            return self._check(Verdict.SKIP, f"no valid answers to compare for {label}", subject)
        arr = np.array(rows)
        spread = arr.max(axis=1) - arr.min(axis=1)
        moved = spread > 1e-9 * (1 + np.abs(arr).max(axis=1))
        share = float(moved.mean())
        details: dict[str, object] = {"states": len(rows), "responding_share": share, "claimed": claimed,
                                      "mean_order_by_level": dict(zip(labels, np.round(arr.mean(axis=0), 4).tolist()))}
        effect = f"mean spread {spread.mean():.3g} units"
        if on is not None:
            delta = arr[:, on] - arr[:, 1 - on]
            details["mean_on_minus_off"] = float(delta.mean())
            effect = f"mean change {delta.mean():+.3g} units when switched to {labels[on]}"
        if claimed and not moved.any():
            return self._check(Verdict.FAIL, f"the source names {label} ({where}) but the order did not change on any "
                               f"of {len(rows)} probe states when it was switched ({', '.join(labels)})", subject, **details)
        if claimed:
            return self._check(Verdict.PASS, f"responds on {share:.0%} of {len(rows)} states; {effect}", subject, **details)
        if moved.any():
            return self._check(Verdict.WARN, f"the order changes with {label} on {share:.0%} of states ({effect}) "
                               "although the source never names it", subject, **details)
        return self._check(Verdict.PASS, f"not read by the rule and no response on {len(rows)} states", subject, **details)


class FeatureResponse(_Response):
    check = CheckId.FEATURE_RESPONSE

    def states(self, ctx: ProbeContext) -> list[ProbeState]:
        return [ProbeState(d, float(p), "on_hand", f"feature:{name}={i}")
                for name, lv in ctx.levels.items() for i in range(len(lv.values))
                for d in ctx.days for p in ctx.variant_positions()]

    def evaluate(self, ctx: ProbeContext, answers: Answers) -> list[Check]:
        out = []
        for use in ctx.static.features:
            lv = ctx.levels.get(use.name)
            if lv is None:
                out.append(self._check(Verdict.SKIP, f"'{use.name}' ({use.kind}) holds a single value over the replay "
                                       "window; nothing to switch", use.name, claimed=use.claimed))
                continue
            rows = self._table(ctx, answers, [f"feature:{use.name}={i}" for i in range(len(lv.values))])
            where = "line " + ", ".join(map(str, use.lines)) if use.lines else ""
            on = lv.labels.index(lv.on_label) if lv.on_label is not None else None
            out.append(self._verdict(f"feature '{use.name}'", use.name, use.claimed, where, rows, lv.labels, on))
        return out


class WeekdayResponse(_Response):
    """Does the order depend on the weekday? Two switches, 7 weekdays each, state fixed:

    * ``calendar``: today's date moved by 0..6 days (history and features kept). This shows
      effects coded on the calendar; a profile learned from the history moves with it.
    * ``weekly``: the history replaced by a noiseless strong weekly pattern
      (:data:`audit.grid.WEEKLY_PATTERN`) and today placed on each of the 7 weekdays. A rule
      that models weekdays orders differently; one that averages whole weeks does not.

    A rule that reads ``obs.date`` and responds to neither fails (it ignores what it reads).
    """

    check = CheckId.WEEKDAY_RESPONSE

    @staticmethod
    def _weekly_days(ctx: ProbeContext) -> list[int]:
        n = len(ctx.builder.seq)
        return sorted({min(d, n - 7) for d in ctx.days if n >= 14})

    def states(self, ctx: ProbeContext) -> list[ProbeState]:
        cal = [ProbeState(d, float(p), "on_hand", f"weekday:+{k}")
               for k in range(7) for d in ctx.days for p in ctx.variant_positions()]
        weekly = [ProbeState(d + k, float(p), "on_hand", f"weekly:+{k}")
                  for k in range(7) for d in self._weekly_days(ctx) for p in ctx.variant_positions()]
        return cal + weekly

    def evaluate(self, ctx: ProbeContext, answers: Answers) -> list[Check]:
        labels = tuple(f"+{k}d" for k in range(7))
        cal = self._table(ctx, answers, [f"weekday:+{k}" for k in range(7)])
        weekly = []
        for d in self._weekly_days(ctx):
            for p in ctx.variant_positions():
                qs = [answers.get(ProbeState(d + k, float(p), "on_hand", f"weekly:+{k}")) for k in range(7)]
                if all(q is not None and q.order is not None for q in qs):
                    weekly.append([q.order for q in qs])
        claimed = ctx.static.claims_weekday
        where = "line " + ", ".join(map(str, ctx.static.fields_read.get("date", ())))
        c_cal = self._verdict("the calendar weekday (obs.date)", "", claimed, where, cal, labels, None)
        c_week = self._verdict("a weekly demand pattern", "", claimed, where, weekly, labels, None)
        moved = {name: float(c.details.get("responding_share", 0.0)) for name, c in (("calendar", c_cal),
                                                                                      ("weekly", c_week))}
        details = {"claimed": claimed, "calendar": c_cal.details, "weekly": c_week.details}
        if not cal and not weekly:
            return [self._check(Verdict.SKIP, "no valid answers to compare across weekdays", **details)]
        text = (f"calendar moved 0..6 days: responds on {moved['calendar']:.0%} of {len(cal)} states; strong weekly "
                f"pattern in the history, today on each weekday: responds on {moved['weekly']:.0%} of {len(weekly)}")
        if claimed and not any(moved.values()):
            return [self._check(Verdict.FAIL, f"the source reads obs.date ({where}) but ignores the weekday: {text}",
                                **details)]
        if not claimed and moved["calendar"]:
            return [self._check(Verdict.WARN, f"the order changes with the calendar date although the source never "
                                f"reads obs.date: {text}", **details)]
        return [self._check(Verdict.PASS, text + ("" if claimed else " (does not read the date; a response to the "
                                                  "weekly pattern comes through the history)"), **details)]


class Determinism(Probe):
    """The same observation, asked again in a fresh process and another order, gets the same order."""

    check = CheckId.DETERMINISM

    def evaluate(self, ctx: ProbeContext, answers: Answers) -> list[Check]:
        states = [s for s in ctx.base_states() if answers[s].order is not None][::-1][:: 3]
        if not states:
            return [self._check(Verdict.SKIP, "no valid answers to repeat")]
        again = ctx.candidate.decide_many([ctx.builder.observation(s) for s in states])
        diff = [(s, answers[s].order, d.order) for s, d in zip(states, again)
                if d.order is None or abs(d.order - answers[s].order) > 1e-9 * (1 + abs(answers[s].order))]
        if diff:
            s, a, b = diff[0]
            return [self._check(Verdict.WARN, f"{len(diff)} of {len(states)} repeated states got a different order; "
                                f"first at {_where(s)}: {a:g} then {b}", repeated=len(states), differing=len(diff))]
        return [self._check(Verdict.PASS, f"{len(states)} states asked again in reverse order gave identical orders",
                            repeated=len(states))]


PROBES: tuple[Probe, ...] = (OrdersValid(), Monotone(), FeatureResponse(), WeekdayResponse(), Determinism())


@dataclass
class GridOutcome:
    checks: list[Check]
    answers: Answers
    reference: Answers = field(default_factory=dict)

    def curve(self, ctx: ProbeContext, day: int, family: str = "on_hand") -> dict[str, list[float | None]]:
        pts = [ProbeState(day, float(p), family) for p in ctx.positions]
        return {"position": [s.position for s in pts],
                "candidate": [self.answers[s].order if s in self.answers else None for s in pts],
                "reference": [self.reference[s].order if s in self.reference else None for s in pts]}

    def orders(self) -> np.ndarray:
        return np.array([d.order for d in self.answers.values() if d.order is not None])


def cap_check(orders: dict[str, np.ndarray], cap: float, integer: bool) -> Check:
    """No order, on the grid or in any replay, above the stated cap (after the replay's rounding)."""
    worst = {k: float(np.max(np.rint(v) if integer else v)) for k, v in orders.items() if len(v)}
    over = {k: v for k, v in worst.items() if v > cap}
    details = {"cap": cap, "max_order": worst}
    if over:
        k, v = max(over.items(), key=lambda kv: kv[1])
        return Check(CheckId.ORDER_CAP, Group.PROBE, Verdict.FAIL, f"an order of {v:.4g} ({k}) exceeds the stated cap "
                     f"{cap:g}", details=details)
    top = max(worst.values(), default=0.0)
    return Check(CheckId.ORDER_CAP, Group.PROBE, Verdict.PASS, f"largest order {top:.4g} <= stated cap {cap:g} over "
                 f"{', '.join(worst)}", details=details)


def observe(ctx: ProbeContext, state: ProbeState):
    if state.variant.startswith("feature:"):
        name, _, idx = state.variant[len("feature:"):].rpartition("=")
        return ctx.builder.observation(state, {name: ctx.levels[name].values[int(idx)]})
    if state.variant.startswith("weekday:"):
        return ctx.builder.observation(state, date_shift=int(state.variant.split("+")[1]))
    if state.variant.startswith("weekly:"):
        return ctx.builder.observation(state, weekly=True)
    return ctx.builder.observation(state)


def run_probes(ctx: ProbeContext, probes: tuple[Probe, ...] = PROBES) -> GridOutcome:
    states = list(dict.fromkeys(ctx.base_states() + [s for p in probes for s in p.states(ctx)]))
    log.info("probing %d grid states", len(states))
    decisions = ctx.candidate.decide_many([observe(ctx, s) for s in states])
    answers = dict(zip(states, decisions))
    base = ctx.base_states()
    reference = dict(zip(base, ctx.reference.decide_many([observe(ctx, s) for s in base])))
    checks = [c for p in probes for c in p.evaluate(ctx, answers)]
    return GridOutcome(checks, answers, reference)


__all__ = ["PROBES", "BASE", "GridOutcome", "Probe", "ProbeContext", "run_probes"]
