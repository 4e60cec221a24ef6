"""The experiments' tables as typed rows: pure functions of the per-workspace results.

exp1/exp2 (:func:`success_rows`): per group, cases, successes and the mean cost reduction
over the successful cases (the paper's "Avg. Cost"), beside the paper's row.
exp3: :func:`best_baseline_rows` (Table 5), :func:`wtl_rows` (Tables 6-7: win if more than
``tol`` cheaper than CBS, loss if more than ``tol`` dearer, else tie) and :func:`gap_rows`
(optimality gaps against the exact DP).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bench import paper
from bench.classical_job import CBS, ClassicalResult
from bench.evolve_job import EvolveResult


@dataclass(frozen=True)
class SuccessRow:
    key: str
    label: str
    cases: int
    successes: int
    mean_reduction: float | None
    failed: int                        # workspaces whose run stopped with an error
    paper: paper.PaperGroup | None

    @property
    def rate(self) -> float:
        return self.successes / self.cases if self.cases else float("nan")


def _row(key: str, label: str, rs: Sequence[EvolveResult], failed: int, ref: paper.PaperGroup | None) -> SuccessRow:
    red = [r.reduction for r in rs if r.success and r.reduction is not None]
    return SuccessRow(key, label, len(rs) + failed, sum(r.success for r in rs),
                      float(np.mean(red)) if red else None, failed, ref)


def success_rows(results: Sequence[EvolveResult], failed_groups: Sequence[tuple[str, str, bool]],
                 table: Sequence[paper.PaperGroup], overall: paper.PaperGroup,
                 ood: paper.PaperGroup | None = None) -> list[SuccessRow]:
    """One row per group (the paper's order first), then Overall (and Domain-OOD only).

    ``failed_groups`` = (group key, label, ood) of each workspace that failed: counted as a
    case without success.
    """
    by_paper = {g.key: g for g in table}
    labels = {r.group: r.group_label for r in results} | {k: lab for k, lab, _ in failed_groups}
    keys = [g.key for g in table if g.key in labels] + sorted(set(labels) - set(by_paper))
    rows = [_row(k, by_paper[k].group if k in by_paper else labels[k], [r for r in results if r.group == k],
                 sum(1 for g, _, _ in failed_groups if g == k), by_paper.get(k)) for k in keys]
    rows.append(_row("overall", overall.group, results, len(failed_groups), overall))
    if ood is not None:
        rows.append(_row("ood", ood.group, [r for r in results if r.ood],
                         sum(1 for _, _, o in failed_groups if o), ood))
    return rows


# ------------------------------------------------------------------ exp3
DISTRIBUTIONS = ("geometric", "poisson", "binomial", "gamma", "halfnormal", "uniform")


@dataclass(frozen=True)
class BestBaselineRow:
    distribution: str
    counts: dict[str, int]             # baseline -> scenarios where it is cheapest on the test window
    paper: tuple[int, ...] | None


def _dists(results: Sequence[ClassicalResult]) -> list[str]:
    present = {r.distribution for r in results}
    return [d for d in DISTRIBUTIONS if d in present] + sorted(present - set(DISTRIBUTIONS))


def best_baseline_rows(results: Sequence[ClassicalResult]) -> list[BestBaselineRow]:
    rows = []
    for d in _dists(results) + ["total"]:
        rs = [r for r in results if d in ("total", r.distribution)]
        counts = {b: sum(r.best_baseline == b for r in rs) for b in paper.BASELINES}
        rows.append(BestBaselineRow(d, counts, paper.TABLE5_TOTAL if d == "total" else paper.TABLE5.get(d)))
    return rows


class Method:
    """The policies compared with CBS in exp3 (names as in the results)."""

    TILTED_CBS = "tilted_cbs"
    TILTED_PIC = "tilted_pic"
    EVOLVE = "evolve"
    ALL = (TILTED_CBS, TILTED_PIC, EVOLVE)
    LABELS = {TILTED_CBS: "Tilted-CBS", TILTED_PIC: "Tilted-PIC", EVOLVE: "evolve (deployed)"}


def method_cost(r: ClassicalResult, method: str) -> float | None:
    return r.deployed_cost if method == Method.EVOLVE else r.variant_costs.get(method)


@dataclass(frozen=True)
class WTLRow:
    method: str
    distribution: str
    win: int
    tie: int
    loss: int
    missing: int                       # no test cost (the deployed policy failed on the test window)
    mean_pct: float                    # mean relative improvement over CBS, percent (positive = cheaper)
    best_pct: float
    worst_pct: float                   # largest deterioration, percent (positive = dearer)
    paper: paper.PaperWTL | None

    @property
    def n(self) -> int:
        return self.win + self.tie + self.loss + self.missing


def wtl_rows(results: Sequence[ClassicalResult], tol: float) -> list[WTLRow]:
    """Rows per method and distribution; evolve's only where it was run (not ``--no-evolve``)."""
    rows = []
    methods = [m for m in Method.ALL if m != Method.EVOLVE or any(r.deployed_id for r in results)]
    for method in methods:
        for d in _dists(results) + ["total"]:
            rs = [r for r in results if d in ("total", r.distribution)]
            win = tie = loss = missing = 0
            changes = []
            for r in rs:
                cost, cbs = method_cost(r, method), r.baseline_costs[CBS]
                if cost is None:
                    missing += 1
                    continue
                rel = (cbs - cost) / cbs
                changes.append(100 * rel)
                win += rel > tol
                loss += rel < -tol
                tie += -tol <= rel <= tol
            ref = None
            if method in paper.TABLE6 and d == "total":
                ref = paper.TABLE6[method]
            elif method == Method.TILTED_PIC:
                ref = paper.TABLE7_TILTED_PIC.get(d)
            ch = np.array(changes) if changes else np.array([np.nan])
            rows.append(WTLRow(method, d, win, tie, loss, missing, float(np.mean(ch)), float(np.max(ch)),
                               float(-np.min(ch)), ref))
    return rows


@dataclass(frozen=True)
class GapRow:
    distribution: str
    n: int                              # scenarios with an exact optimum
    cbs_mean: float
    cbs_max: float
    best_cbs_mean: float                # the best CBS (SPEC §8; Poisson and geometric only)
    best_cbs_max: float
    pic_mean: float
    pic_max: float
    evolve_mean: float
    evolve_max: float


def _spec8_best_cbs(r: ClassicalResult) -> float | None:
    from inventory.reference_values import SPEC8
    ref = SPEC8.get(r.distribution, {}).get((r.lead_time, int(r.p)))
    return None if ref is None or not r.optimum else ref[2][0] / r.optimum - 1


def gap_rows(results: Sequence[ClassicalResult]) -> list[GapRow]:
    """Optimality gaps in percent: CBS exact; Tilted-PIC and the deployed policy by CRN."""
    rows = []
    for d in _dists(results) + ["total"]:
        rs = [r for r in results if d in ("total", r.distribution) and r.optimum]
        if not rs:
            continue

        def stats(vals: list[float | None]) -> tuple[float, float]:
            v = np.array([100 * x for x in vals if x is not None])
            return (float(v.mean()), float(v.max())) if v.size else (float("nan"), float("nan"))

        cbs = stats([r.gap(r.baseline_costs[CBS]) for r in rs])
        best = stats([_spec8_best_cbs(r) for r in rs])
        pic = stats([r.gap(r.variant_costs.get(Method.TILTED_PIC)) for r in rs])
        evo = stats([r.gap(r.deployed_cost) for r in rs])
        rows.append(GapRow(d, len(rs), *cbs, *best, *pic, *evo))
    return rows
