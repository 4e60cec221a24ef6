"""The OR label as an optional baseline of any workspace.

What the OR label is on one workspace (one SKU). The OR model chooses one inventory-days
value v per item; with a single item the MILP degenerates to "the least-stock v whose lost
sales fit the budget SALE * (1 - alpha_loss)", and calibrating alpha_loss to a turnover
picks, among the stock/loss-efficient v on the grid, the one whose replay turnover days are
closest to the target. The target is the "observed" turnover: a workspace has no inventory
records, so it is the turnover of the workspace's incumbent, the reference baseline
(default: the best of the pre-tuned SPEC baselines) replayed on the replay window with
its pre-tuned parameters. The label is therefore

    v* = the OR model's inventory days on the replay window, alpha calibrated so that the
         rule's turnover matches the incumbent's,

and the policy is Algorithm 2 with v*: every ``review_period`` days order up to
v* x (mean demand of the last ``mean_window`` days) (rule TARGET; QUANTITY orders v* x mean).

The policy file is the library rule ``orpr_inventory_days.py`` whose ``search_space`` is
replaced by a ``PARAMS`` block of single-point ranges, so that it is tuned and evaluated like any
other baseline (Optuna has nothing to move) and an auditor reads the label in the file.
"""
from __future__ import annotations

import ast
import json
import logging
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from inventory.library import BASELINES, policy_source
from inventory.policy import compile_policy
from inventory.replay import ReplayProblem
from inventory.workspace import Workspace
from orpr.backend import BackendConfig, DailyBackend, ReplayBackend, make_backend
from orpr.calibration import labels_from_tables
from orpr.simulator import OrderRule, simulate_inventory_days

log = logging.getLogger(__name__)

__all__ = ["LabelConfig", "OrLabel", "LABEL_POLICY", "policy_turnover", "label_for_problem", "workspace_label",
           "label_policy_source", "orpr_baseline"]

LABEL_POLICY = "orpr_label"
RULE_POLICY = "orpr_inventory_days"


@dataclass(frozen=True)
class LabelConfig:
    """How the single-workspace OR label is computed (defaults: daily target rule, 28-day mean).

    ``v_max`` = 0 means 3 * (review_period + lead_time + 1) days; the grid is
    ``v_step, 2 v_step, ..., v_max`` (the paper: integer inventory days).
    """

    review_period: int = 1
    mean_window: int = 28
    rule: OrderRule = OrderRule.TARGET
    v_step: float = 1.0
    v_max: float = 0.0
    tol: float = 1e-3

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", OrderRule(self.rule))
        if self.review_period < 1 or self.mean_window < 1:
            raise ValueError("review_period and mean_window must be >= 1")
        if not (self.v_step > 0 and self.v_max >= 0 and math.isfinite(self.v_max)):
            raise ValueError("v_step must be > 0 and v_max >= 0")

    def grid(self, lead_time: int) -> np.ndarray:
        top = self.v_max or 3.0 * (self.review_period + lead_time + 1)
        return np.arange(1, int(math.floor(top / self.v_step + 1e-9)) + 1) * self.v_step


@dataclass(frozen=True)
class OrLabel:
    """The OR label of one workspace and how it was obtained."""

    v: float
    alpha_loss: float
    target_turnover: float
    turnover: float
    instock_rate: float
    replay_cost: float
    target_source: str
    config: LabelConfig = field(default_factory=LabelConfig)

    @property
    def params(self) -> dict[str, float]:
        """Parameters of ``orpr_inventory_days.py`` that implement the label."""
        c = self.config
        return {"v": float(self.v), "R": float(c.review_period), "window": float(c.mean_window),
                "target": c.rule.flag}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["config"]["rule"] = self.config.rule.value
        return d


def policy_turnover(problem: ReplayProblem, source: str, params: dict[str, float], name: str,
                    backend: ReplayBackend = DailyBackend()) -> float:
    """Turnover days (mean end-of-day on-hand / mean demand) of trusted policy code on ``problem``."""
    program = compile_policy(source, name)
    res = backend.simulate(program, problem.seq, problem.specs, problem.model,
                           {k: np.array([float(v)]) for k, v in params.items()}, init=problem.init)
    mean_d = float(problem.seq.demand.mean())
    return float(res.on_hand_end[0].mean() / mean_d) if mean_d > 0 else 0.0


def label_for_problem(problem: ReplayProblem, target_turnover: float, config: LabelConfig = LabelConfig(), *,
                      target_source: str = "given") -> OrLabel:
    """Algorithm 2 over the v grid on ``problem``, then the one-item OR model calibrated to the target."""
    m = problem.model
    table = simulate_inventory_days(
        problem.seq.demand, config.grid(m.lead_time), review_period=config.review_period, vlt=m.lead_time,
        mean_window=config.mean_window, holding=max(m.h, 1e-12), penalty=m.p, init_on_hand=problem.init.on_hand,
        init_pipeline=tuple(problem.init.pipeline_for(m.lead_time)), integer_orders=m.integer_orders, rule=config.rule,
    )
    lab = labels_from_tables([table], observed_turnover=target_turnover, tol=config.tol)
    c = lab.choices[0]
    cost = float((table.stock[c] * (m.h / table.holding if table.holding else 0.0) + table.loss[c]) / table.horizon)
    return OrLabel(float(table.v_grid[c]), lab.alpha_loss, float(target_turnover), lab.turnover_days,
                   lab.instock_rate, cost, target_source, config)


def _trusted_baseline_source(ws: Workspace, name: str) -> str:
    """The library source of a workspace baseline; refuses a file that is not the library's."""
    src = ws.baseline_source(name)
    if name not in BASELINES or src != policy_source(name):
        raise ValueError(f"{ws.root}/baseline_policies/{name}.py is not the library baseline; the OR label's "
                         "turnover target replays trusted code only (pass target_turnover instead)")
    return src


def workspace_label(ws: Workspace, config: LabelConfig = LabelConfig(), *, reference: str = "best_baseline",
                    target_turnover: float | None = None, reference_params: dict[str, float] | None = None,
                    backend: ReplayBackend = DailyBackend()) -> OrLabel:
    """The OR label of a workspace, calibrated to its incumbent's replay turnover (or ``target_turnover``).

    The incumbent is baseline ``reference`` ("best_baseline": the lowest pre-tuned replay
    cost) with its pre-tuned parameters, or ``reference_params`` (e.g. re-tuned under a
    periodic backend), replayed under ``backend``.
    """
    problem = ws.replay_problem()
    if target_turnover is None:
        if reference == "best_baseline":
            reference = min(ws.baselines.values(), key=lambda r: (r.replay_cost, r.name)).name
        if reference not in ws.baselines:
            raise ValueError(f"reference {reference!r} is not a baseline of {ws.root} ({', '.join(ws.baselines)})")
        params = ws.baselines[reference].params if reference_params is None else reference_params
        target_turnover = policy_turnover(problem, _trusted_baseline_source(ws, reference), params, reference, backend)
        how = "pre-tuned" if reference_params is None else "tuned"
        source = f"turnover of baseline {reference} ({how}) on the replay window"
    else:
        source = "given"
    label = label_for_problem(problem, target_turnover, config, target_source=source)
    log.info("%s: OR label v=%.3g days (alpha_loss=%.4f), turnover %.2f vs target %.2f (%s)", ws.name, label.v,
             label.alpha_loss, label.turnover, label.target_turnover, source)
    return label


def label_policy_source(label: OrLabel) -> str:
    """The policy file: the library rule with its ``search_space`` replaced by the pinned ``PARAMS``."""
    base = policy_source(RULE_POLICY)
    node = next(n for n in ast.parse(base).body if isinstance(n, ast.FunctionDef) and n.name == "search_space")
    lines = base.splitlines()
    p = label.params
    pinned = ", ".join(
        f'"{k}": ({v!r}, {v!r})' if k == "v" else f'"{k}": ({int(v)}, {int(v)}, "int")' for k, v in p.items()
    )
    header = json.dumps({k: v for k, v in label.to_dict().items() if k != "config"}, sort_keys=True)
    block = [
        "# OR label (orpr.label_policy): Algorithm 2 with the inventory days chosen by the OR model,",
        "# alpha_loss calibrated so that the replay turnover matches the target. Single-point",
        "# ranges: tuning keeps these values.",
        f"# {header}",
        f"PARAMS = {{{pinned}}}",
    ]
    out = lines[:node.lineno - 1] + block + lines[node.end_lineno:]
    return "\n".join(out).rstrip("\n") + "\n"


def orpr_baseline(ws: Workspace, reference: str, reference_params: dict[str, float],
                  backend: BackendConfig = BackendConfig()) -> tuple[str, dict[str, float], OrLabel]:
    """The OR-label baseline of an evolve run: (policy source, its parameters, the label).

    Calibrated to the turnover of the run's incumbent ``reference`` with the parameters it
    was evaluated with, under the run's replay backend; the rule reviews every
    ``backend.review_period`` days (1 for the daily backend).
    """
    label = workspace_label(ws, LabelConfig(review_period=backend.review_period), reference=reference,
                            reference_params=reference_params, backend=make_backend(backend))
    return label_policy_source(label), label.params, label
