"""Formal simulation mode: each member's cost on independent simulated continuations.

For a workspace with a demand model (:mod:`inventory.demand_model`), ``certify.gains =
"replications"`` certifies on ``certify.replications`` paths of ``certify.replication_days``
days drawn after the replay window. Every member runs, frozen at the parameters it was
tuned to on the whole replay window (the parameters it would be deployed with), through
the whole replay window and then one continuation, in a fresh data-free host per path
(:meth:`TrustedEvaluator.replay`): nothing a policy learns on one path reaches another,
so the per-path mean costs are independent draws given the window. The run draws the
paths once and every member, in whichever process, runs on those (common random numbers),
so their differences are paired. Path ``i`` is drawn from its own seed ``(search.seed,
certify.seed, i)``, so it does not depend on how many paths there are.

The drawn paths go to ``replication_paths.json`` and the results to ``replications.jsonl``;
a resumed run reads both back instead of drawing and replaying again, so it certifies on
the same numbers even if the user's sampler is not reproducible.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from certify import GateConfig
from evaluation.records import EvalRecord
from evaluation.trusted import TrustedEvaluator
from evolve.rundir import RunDir
from inventory.demand_model import DemandModelError
from inventory.errors import ConfigError
from inventory.policy import PolicyError
from sandbox.errors import SandboxUnavailable
from inventory.sequence import DemandSequence
from inventory.workspace import SPEC_FILE, Workspace

log = logging.getLogger(__name__)

LOG_FILE = "replications.jsonl"
PATHS_FILE = "replication_paths.json"


@dataclass(frozen=True)
class PathPlan:
    """Which continuations the formal mode draws: ``n`` paths of ``days`` days from ``seed``."""

    n: int
    days: int
    seed: tuple[int, int]

    def paths(self, ws: Workspace) -> list[DemandSequence]:
        sampler = ws.spec.demand_model.sampler(ws.root, ws.spec.features)
        return [sampler.continuation(np.random.default_rng([*self.seed, i]), ws.replay, self.days)
                for i in range(self.n)]


def check_formal(ws: Workspace, gate: GateConfig) -> None:
    """Raise :class:`ConfigError` (naming workspace.toml) when ``ws`` cannot serve the formal mode
    as ``gate`` asks: no demand model, a law that cannot draw the workspace's features, or a
    bounded method (hoeffding, eb_cs) without ``demand_model.max_demand``."""
    where = ws.root / SPEC_FILE
    model = ws.spec.demand_model
    if model is None:
        raise ConfigError(f"{where}: certify.gains = \"replications\" needs a [demand_model] table in the "
                          "workspace (see docs/certify.md, formal simulation mode)")
    try:
        model.sampler(ws.root, ws.spec.features)
    except DemandModelError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if gate.method in ("hoeffding", "eb_cs") and model.max_demand is None:
        raise ConfigError(f"{where}: certify.method = {gate.method!r} on replications needs demand_model.max_demand "
                          "(a bound on the draws fixed before any gain is seen)")


def path_plan(ws: Workspace, gate: GateConfig, run_seed: int) -> PathPlan:
    """The plan of ``ws``; raises :class:`ConfigError` when the workspace cannot serve it."""
    check_formal(ws, gate)
    days = gate.replication_days or ws.spec.problem.forward_days or max(7, ws.spec.problem.lead_time + 1)
    return PathPlan(gate.replications, days, (run_seed, gate.seed))


def replication_row(ev: TrustedEvaluator, paths: list[DemandSequence], candidate_id: str, name: str, source: str,
                    params: Mapping[str, float], vectorised: bool | None) -> dict:
    """The ``replications.jsonl`` row of one member: its mean cost on each path, or the failure.

    A pure function of the workspace, the paths and the member's tuned parameters, so the
    row is the same whichever process computes it.
    """
    n = len(ev.workspace.replay)
    costs = []
    try:
        for path in paths:
            c = ev.replay(source, name, params, ev.workspace.replay.concat(path),
                          candidate_id=candidate_id, vectorised=vectorised)
            costs.append(float(np.mean(c[n:])))
    except SandboxUnavailable:
        raise  # the machine, not the policy: the run stops (exit 3) and a resume retries
    except (PolicyError, RuntimeError, OSError) as exc:
        log.info("replications of %s failed: %s", candidate_id, exc)
        return {"candidate_id": candidate_id, "error": str(exc)}
    return {"candidate_id": candidate_id, "error": None, "costs": costs}


class ReplicationScorer:
    """Per-path mean costs of pool members, memoised in the run directory."""

    def __init__(self, ws: Workspace, evaluator: TrustedEvaluator, gate: GateConfig, run_dir: RunDir, run_seed: int):
        self.ev, self.rd = evaluator, run_dir
        self.plan = path_plan(ws, gate, run_seed)
        self.paths = self._recorded_paths() or self._draw(ws)
        self.done: dict[str, np.ndarray | None] = {}
        for raw in run_dir.read(LOG_FILE):
            self.done[raw["candidate_id"]] = None if raw.get("error") else np.asarray(raw["costs"], float)

    def _draw(self, ws: Workspace) -> list[DemandSequence]:
        try:
            paths = self.plan.paths(ws)
        except DemandModelError as exc:
            raise ConfigError(f"{ws.root / SPEC_FILE}: {exc}") from None
        self.rd.write_text(PATHS_FILE, json.dumps({"n": self.plan.n, "days": self.plan.days,
                                                   "seed": list(self.plan.seed),
                                                   "paths": [_path_json(p) for p in paths]}) + "\n")
        return paths

    def _recorded_paths(self) -> list[DemandSequence] | None:
        path = self.rd.root / PATHS_FILE
        if not path.exists():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        if (raw["n"], raw["days"], tuple(raw["seed"])) != (self.plan.n, self.plan.days, self.plan.seed):
            raise ConfigError(f"{path}: drawn for {raw['n']} paths of {raw['days']} days, but the run asks for "
                              f"{self.plan.n} of {self.plan.days}")
        return [DemandSequence(p["dates"], np.asarray(p["demand"], float),
                               {k: np.asarray(v, dtype=object if any(isinstance(x, str) for x in v) else float)
                                for k, v in p["features"].items()}) for p in raw["paths"]]

    def score(self, rec: EvalRecord, source: str) -> np.ndarray | None:
        """Mean cost of the member on each path (``None`` if the policy fails on one)."""
        if rec.candidate_id not in self.done:
            self.record(replication_row(self.ev, self.paths, rec.candidate_id, rec.name, source, rec.params,
                                        rec.vectorised))
        return self.done[rec.candidate_id]

    def record(self, row: dict) -> None:
        self.rd.append(LOG_FILE, row)
        self.done[str(row["candidate_id"])] = None if row.get("error") else np.asarray(row["costs"], float)


def _path_json(seq: DemandSequence) -> dict:
    def col(v: np.ndarray) -> list:
        return [str(x) for x in v] if v.dtype == object else [float(x) for x in v]
    return {"dates": list(seq.dates), "demand": col(seq.demand), "features": {k: col(v) for k, v in seq.features.items()}}
