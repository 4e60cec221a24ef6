"""A multi-SKU portfolio for the Table-1 experiment, read from a built workspace suite.

Each SKU of the suite (``suite.json`` beside the workspaces, as ``invevolve datagen cj``
writes it) contributes its replay window, its hidden forward window (this is trusted
experiment code, outside any sandbox), its cost model and start state, its category and
its incumbent: the best of its pre-tuned SPEC baselines, replayed with the pre-tuned
parameters. A Complete Journey workspace has no inventory records, so the incumbent plays
JD.com's production system ("JD online" in the paper) and its replay turnover is the
"observed" turnover the OR labels are calibrated to.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from inventory.library import BASELINES, policy_source
from inventory.replay import ReplayProblem
from inventory.sequence import CostModel, DemandSequence
from inventory.simulator import InitialState
from inventory.workspace import WorkspaceError, load_workspace

log = logging.getLogger(__name__)

__all__ = ["CategoryLevel", "Sku", "Portfolio", "PortfolioError", "load_portfolio"]


class PortfolioError(ValueError):
    """The suite folder cannot be read as a portfolio (names the file and field)."""


class CategoryLevel(str, Enum):
    """Which grouping the per-category OR model uses."""

    DEPARTMENT = "department"   # suite.json's department (CJ: GROCERY, PRODUCE, ...)
    CATEGORY = "category"       # the second level of the ``categories`` feature (CJ product category)


@dataclass(frozen=True)
class Sku:
    name: str
    category: str
    replay: DemandSequence
    forward: DemandSequence
    model: CostModel
    init: InitialState
    incumbent: str
    incumbent_params: dict[str, float]

    @property
    def full(self) -> DemandSequence:
        """Replay window followed by the forward window (the state carries over)."""
        return self.replay.concat(self.forward)

    def problem(self, seq: DemandSequence | None = None) -> ReplayProblem:
        return ReplayProblem(self.full if seq is None else seq, (), self.model, self.init)

    @property
    def incumbent_source(self) -> str:
        return policy_source(self.incumbent)


@dataclass(frozen=True)
class Portfolio:
    skus: tuple[Sku, ...]
    source: str

    def categories(self) -> dict[str, list[int]]:
        """Category -> indices of its SKUs, in a stable order."""
        out: dict[str, list[int]] = {}
        for i, s in enumerate(self.skus):
            out.setdefault(s.category, []).append(i)
        return dict(sorted(out.items()))

    @property
    def replay_days(self) -> int:
        return len(self.skus[0].replay)

    @property
    def forward_days(self) -> int:
        return len(self.skus[0].forward)


def _category(ws_features: dict[str, np.ndarray], entry: dict, level: CategoryLevel, where: str) -> str:
    if level is CategoryLevel.DEPARTMENT:
        dept = entry.get("department")
        if not isinstance(dept, str) or not dept:
            raise PortfolioError(f"{where}: field 'department' is missing")
        return dept
    text = ws_features.get("categories")
    if text is None or not len(text):
        raise PortfolioError(f"{where}: the workspace has no 'categories' feature for category level 'category'")
    parts = [p.strip() for p in str(text[0]).split(">")]
    return " > ".join(parts[:2])


def load_portfolio(suite: str | Path, *, level: CategoryLevel = CategoryLevel.DEPARTMENT,
                   limit: int | None = None) -> Portfolio:
    """Read the workspaces listed in ``suite/suite.json``; ``limit`` keeps the first N (a quick look)."""
    root = Path(suite)
    index = root / "suite.json"
    if not index.exists():
        raise PortfolioError(f"{index}: missing; build the suite first (e.g. `invevolve datagen cj --out {root}`)")
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))["workspaces"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise PortfolioError(f"{index}: field 'workspaces' unreadable ({exc})") from exc
    if limit is not None:
        entries = entries[:limit]
    skus = []
    for k, entry in enumerate(entries):
        where = f"{index}: workspaces[{k}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise PortfolioError(f"{where}: field 'name' is missing")
        try:
            ws = load_workspace(root / entry["name"])
            forward = ws.load_forward()
        except WorkspaceError as exc:
            raise PortfolioError(str(exc)) from exc
        best = min((ws.baselines[b] for b in BASELINES), key=lambda r: (r.replay_cost, r.name))
        skus.append(Sku(ws.name, _category(ws.replay.features, entry, level, where), ws.replay, forward,
                        ws.spec.model, ws.spec.initial, best.name, dict(best.params)))
    if not skus:
        raise PortfolioError(f"{index}: no workspaces listed")
    days = {(len(s.replay), len(s.forward)) for s in skus}
    if len(days) != 1:
        raise PortfolioError(f"{index}: workspaces have different window lengths {sorted(days)}; a portfolio needs one")
    log.info("portfolio: %d SKUs in %d categories from %s", len(skus), len({s.category for s in skus}), root)
    return Portfolio(tuple(skus), str(root))
