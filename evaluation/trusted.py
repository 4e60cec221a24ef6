"""The trusted evaluator: scores policy source for decisions, outside any agent sandbox.

For each candidate it (1) validates the source statically, (2) has a :class:`PolicyHost`
compile it and tunes its parameters with Optuna on the replay window (batch scoring runs
in the host), then (3) replays the tuned policy itself, day by day, asking the host for one
decision at a time. Only step (3) produces numbers that decide anything: per-day replay
costs for the certificates and, at report time only, forward-window costs. A host or a
policy can therefore not report a better score than the one the trusted simulator sees.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Mapping

import numpy as np

from evaluation.factory import Validator
from evaluation.host import PolicyHandle, PolicyHost
from inventory.policy import PolicyError, source_hash
from inventory.sequence import DemandSequence
from inventory.simulator import simulate_fn
from inventory.tuning import TuningConfig, tune
from inventory.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class EvalRecord:
    """Trusted result for one candidate. ``status``: ok | invalid | failed."""

    candidate_id: str
    name: str
    source_hash: str
    status: str
    error: str | None = None
    params: dict[str, float] = field(default_factory=dict)
    tuned_cost: float | None = None
    replay_cost: float | None = None
    replay_costs: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping) -> "EvalRecord":
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


@dataclass(frozen=True)
class ForwardResult:
    replay_costs: np.ndarray
    forward_costs: np.ndarray

    @property
    def forward_cost(self) -> float:
        return float(self.forward_costs.mean())


class TrustedEvaluator:
    """Scores candidates of one workspace through one policy host."""

    def __init__(
        self,
        workspace: Workspace,
        host: PolicyHost,
        tuning: TuningConfig,
        *,
        validator: Validator | None = None,
        storage: object | None = None,
    ):
        self.workspace, self.host, self.tuning = workspace, host, tuning
        self.validator, self.storage = validator, storage
        self._handles: dict[str, PolicyHandle] = {}

    def evaluate(self, source: str, name: str, candidate_id: str, params: Mapping[str, float] | None = None) -> EvalRecord:
        """Validate, tune (unless ``params`` are given) and replay one candidate.

        Never raises for a bad policy: failures become a record with status invalid/failed.
        """
        start = time.perf_counter()
        rec = EvalRecord(candidate_id, name, source_hash(source), "ok")
        if self.validator is not None:
            ok, reasons = self.validator(source)
            if not ok:
                rec.status, rec.error = "invalid", "; ".join(reasons)
                rec.seconds = time.perf_counter() - start
                return rec
        try:
            handle = self._open(source, name, candidate_id)
            if params is None:
                res = tune(handle.mean_costs, handle.space(), self.tuning, storage=self.storage, study_name=candidate_id)
                rec.params, rec.tuned_cost = res.params, res.value
            else:
                rec.params = {k: float(v) for k, v in params.items()}
            costs = self._replay(handle, rec.params, self.workspace.replay)
            rec.replay_costs = [float(c) for c in costs]
            rec.replay_cost = float(costs.mean())
        except (PolicyError, RuntimeError) as exc:
            rec.status, rec.error = "failed", str(exc)
            self._drop(candidate_id)
        rec.seconds = time.perf_counter() - start
        return rec

    def forward(self, source: str, name: str, candidate_id: str, params: Mapping[str, float]) -> ForwardResult:
        """Replay over replay + forward days; the forward window reaches the host one decision at a time."""
        handle = self._open(source, name, candidate_id)
        fwd = self.workspace.load_forward()
        full = self.workspace.replay.concat(fwd)
        costs = self._replay(handle, params, full)
        n = len(self.workspace.replay)
        return ForwardResult(costs[:n], costs[n:])

    def close(self) -> None:
        for cid in list(self._handles):
            self._drop(cid)

    def _open(self, source: str, name: str, candidate_id: str) -> PolicyHandle:
        if candidate_id not in self._handles:
            self._handles[candidate_id] = self.host.open(source, name)
        return self._handles[candidate_id]

    def _drop(self, candidate_id: str) -> None:
        handle = self._handles.pop(candidate_id, None)
        if handle is not None:
            handle.close()

    def _replay(self, handle: PolicyHandle, params: Mapping[str, float], seq: DemandSequence) -> np.ndarray:
        spec = self.workspace.spec
        fixed = dict(params)
        result = simulate_fn(
            lambda obs, _unused: handle.decide(obs, fixed), seq, spec.features, spec.model, {},
            init=spec.initial, scalar=True,
        )
        return result.costs[0]
