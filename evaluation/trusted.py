"""The trusted evaluator: scores policy source for decisions, outside any agent sandbox.

Per candidate it (1) validates the source statically, (2) **tunes** the policy's parameters
with Optuna in an untrusted tuning host that holds the tuning window (batch scoring runs
there), then (3) **replays** the tuned, frozen policy in a *fresh, data-free* replay host
(see :mod:`evaluation.hosts`): the trusted simulator in this process steps through the days
and asks that host for one decision per day. Only step (3) produces numbers that decide
anything: per-day replay costs for the certificates and, at report time only, forward costs.

Why a fresh host for (3): a policy can keep module-level state while it is tuned (it sees
the whole window, parameter set after parameter set) or walk the stack to the tuning
worker's copy of the window. Neither exists in the replay process, which starts from the
source and never holds a day before the trusted simulator reveals it. State a policy
builds from revealed history during one replay is legitimate and stays allowed.

Building blocks (also for walk-forward certification: tune on days before an origin, run
the frozen policy on the next h days): :meth:`TrustedEvaluator.tune`,
:meth:`TrustedEvaluator.replay`; :meth:`evaluate` and :meth:`forward` are built on them.

Tuning is in memory with a seed derived from (run seed, candidate id), so a candidate's
result does not depend on what else ran before it or in parallel, and a candidate
interrupted mid-tuning re-tunes from scratch to exactly the uninterrupted result.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Mapping

import numpy as np

from evaluation.config import EvaluatorConfig
from evaluation.factory import Validator
from evaluation.hosts import HostProvider, is_infrastructure_failure, provider_for
from evaluation.records import EvalRecord, EvalStatus, ForwardResult, TuneOutcome
from evaluation.redact import Redactor
from inventory.host import PolicyHost, data_free_problem
from inventory.policy import PolicyError, source_hash
from inventory.replay import ReplayProblem
from inventory.sequence import DemandSequence
from inventory.tuning import TuningConfig
from inventory.tuning import tune as optuna_tune
from inventory.workspace import Workspace
from orpr.backend import DailyBackend, ReplayBackend
from sandbox.errors import SandboxUnavailable

__all__ = ["TrustedEvaluator", "EvalRecord", "EvalStatus", "ForwardResult", "TuneOutcome", "Budget",
           "BudgetExceeded", "candidate_seed"]

log = logging.getLogger(__name__)


class BudgetExceeded(PolicyError):
    """A candidate used up its total wall-time budget (tuning + replay)."""


class Budget:
    """Wall-clock budget of one candidate, checked between host requests."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self._start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def check(self, stage: str) -> None:
        if self.elapsed > self.seconds:
            raise BudgetExceeded(f"candidate exceeded its {self.seconds:g} s wall-time budget during {stage} "
                                 f"({self.elapsed:.1f} s; evaluation.candidate_budget_s)")


def candidate_seed(run_seed: int, candidate_id: str) -> int:
    """Tuning seed of one candidate: a function of the run seed and the candidate id only."""
    digest = hashlib.sha256(f"{run_seed}:{candidate_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


Window = tuple[int, int]


class TrustedEvaluator:
    """Scores candidates of one workspace; the only scorer whose numbers decide anything.

    ``hosts`` is a :class:`HostProvider` (or, for older call sites, an opened tuning host
    for the whole replay window, which the caller keeps and closes). ``tuning.seed`` is the
    run seed; each candidate is tuned with :func:`candidate_seed` of it. ``backend`` is the
    replay backend (:mod:`orpr.backend`: the daily simulator, or periodic review) of both the
    trusted replay and, through :meth:`ReplayBackend.tuning_source`, the tuning objective.
    """

    def __init__(
        self,
        workspace: Workspace,
        hosts: HostProvider | PolicyHost,
        tuning: TuningConfig,
        *,
        validator: Validator | None = None,
        config: EvaluatorConfig = EvaluatorConfig(),
        backend: ReplayBackend = DailyBackend(),
    ):
        self.workspace, self.tuning, self.validator, self.config = workspace, tuning, validator, config
        self.backend = backend
        self._borrowed: dict[Window, PolicyHost] = {}
        if isinstance(hosts, PolicyHost):
            self._borrowed[(0, len(workspace.replay))] = hosts
            hosts = provider_for(hosts)
        self.hosts = hosts
        self._tuning_hosts: OrderedDict[Window, PolicyHost] = OrderedDict()
        self._data_free = data_free_problem(workspace.replay_problem())
        self._modes: dict[str, bool | None] = {}
        self._redact = Redactor()  # error texts come from policy code: no host secret in a record

    # ------------------------------------------------------------ building blocks

    def tune(self, source: str, name: str, candidate_id: str, *, days: slice | None = None,
             budget: Budget | None = None) -> TuneOutcome:
        """Tune ``source`` in an untrusted host that holds only the replay days ``days``.

        Raises PolicyError (BudgetExceeded when over budget) or RuntimeError (no finite trial).
        The outcome's ``value`` steers the search only; replay the params for trusted costs.
        """
        budget = budget or Budget(self.config.candidate_budget_s)
        window = self._window(days)
        host = self._tuning_host(window)
        start = time.perf_counter()
        seed = candidate_seed(self.tuning.seed, candidate_id)
        handle = host.open(self.backend.tuning_source(source), name)
        try:
            space = handle.space()

            def objective(batch: dict[str, np.ndarray]) -> np.ndarray:
                budget.check("tuning")
                costs = handle.mean_costs(batch)
                budget.check("tuning")
                return costs

            res = optuna_tune(objective, space, replace(self.tuning, seed=seed), study_name=candidate_id)
            mode = handle.vectorised
        finally:
            handle.close()
        self._modes[candidate_id] = mode
        whole = window == (0, len(self.workspace.replay))
        return TuneOutcome(res.params, res.value, res.n_trials, seed, mode, time.perf_counter() - start,
                           None if whole else window)

    def replay(self, source: str, name: str, params: Mapping[str, float], seq: DemandSequence, *,
               candidate_id: str, vectorised: bool | None = None, budget: Budget | None = None) -> np.ndarray:
        """Per-day trusted costs of the frozen policy over ``seq``, from a fresh data-free host.

        The host is new for this call and closed after it; it receives one Observation per
        day. ``vectorised`` (default: what :meth:`tune` learnt for ``candidate_id``) fixes
        the calling convention. Raises PolicyError.
        """
        budget = budget or Budget(self.config.candidate_budget_s)
        mode = vectorised if vectorised is not None else self._modes.get(candidate_id)
        fixed = dict(params)
        spec = self.workspace.spec
        host = self.hosts.replay_host(self._data_free)
        try:
            handle = host.open(source, name, vectorised=mode)

            def decide(obs, _unused):  # noqa: ANN001 - the simulator's OrderFn
                budget.check("replay")
                return handle.decide(obs, fixed)

            result = self.backend.simulate_fn(decide, seq, spec.features, spec.model, {}, init=spec.initial,
                                              scalar=True)
        finally:
            host.close()
        return result.costs[0]

    # ------------------------------------------------------------ records

    def evaluate(self, source: str, name: str, candidate_id: str, params: Mapping[str, float] | None = None, *,
                 vectorised: bool | None = None) -> EvalRecord:
        """Validate, tune (unless ``params`` are given) and replay one candidate on the replay window.

        Never raises for a bad policy: failures become a record with status invalid/failed.
        A failure of the host itself (worker recycled or killed) is retried once.
        """
        start = time.perf_counter()
        rec = EvalRecord(candidate_id, name, source_hash(source), EvalStatus.OK)
        if self.validator is not None:
            ok, reasons = self.validator(source)
            if not ok:
                rec.status, rec.error = EvalStatus.INVALID, self._clean("; ".join(reasons))
                rec.seconds = time.perf_counter() - start
                return rec
        for attempt in (1, 2):
            budget = Budget(self.config.candidate_budget_s)
            try:
                if params is None:
                    tuned = self.tune(source, name, candidate_id, budget=budget)
                    rec.params, rec.tuned_cost, rec.vectorised = tuned.params, tuned.value, tuned.vectorised
                else:
                    rec.params = {k: float(v) for k, v in params.items()}
                    rec.vectorised = vectorised
                costs = self.replay(source, name, rec.params, self.workspace.replay, candidate_id=candidate_id,
                                    vectorised=rec.vectorised, budget=budget)
            except SandboxUnavailable:
                raise  # the machine, not the policy: the run stops with the reason (exit 3)
            except (PolicyError, RuntimeError, OSError) as exc:
                if attempt == 1 and not isinstance(exc, BudgetExceeded) and is_infrastructure_failure(exc):
                    log.warning("candidate %s: the host failed (%s); retrying once on a fresh worker", candidate_id,
                                self._clean(str(exc)))
                    continue
                rec.status, rec.error = EvalStatus.FAILED, self._clean(str(exc))
                rec.replay_costs, rec.replay_cost = [], None
                break
            rec.status, rec.error = EvalStatus.OK, None
            rec.replay_costs = [float(c) for c in costs]
            rec.replay_cost = float(costs.mean())
            break
        rec.seconds = time.perf_counter() - start
        return rec

    def forward(self, source: str, name: str, candidate_id: str, params: Mapping[str, float], *,
                vectorised: bool | None = None) -> ForwardResult:
        """Trusted replay over replay + forward days, in a fresh data-free host.

        The forward window stays in this process; the host sees it one day at a time, after
        each decision. A policy that fails gives a result with ``error`` set (never raises
        for the policy's sake); a host failure is retried once.
        """
        full = self.workspace.replay.concat(self.workspace.load_forward())
        n = len(self.workspace.replay)
        error = ""
        for attempt in (1, 2):
            try:
                costs = self.replay(source, name, params, full, candidate_id=candidate_id, vectorised=vectorised)
                return ForwardResult(costs[:n], costs[n:])
            except (PolicyError, OSError) as exc:
                error = self._clean(str(exc))
                if attempt == 1 and not isinstance(exc, BudgetExceeded) and is_infrastructure_failure(exc):
                    log.warning("forward replay of %s: the host failed (%s); retrying once", candidate_id, error)
                    continue
                break
        log.error("forward replay of %s failed: %s", candidate_id, error)
        return ForwardResult(np.empty(0), np.empty(0), error=error)

    def _clean(self, text: str) -> str:
        """An error text from policy code as a record may keep it: redacted, at most 2000 characters."""
        text = self._redact.text(text)
        return text if len(text) <= 2000 else text[:1900] + f" [... {len(text) - 1900} characters cut]"

    def close(self) -> None:
        for host in self._tuning_hosts.values():
            host.close()
        self._tuning_hosts.clear()
        self.hosts.close()

    # ------------------------------------------------------------ internals

    def _window(self, days: slice | None) -> Window:
        n = len(self.workspace.replay)
        if days is None:
            return 0, n
        start, stop, step = days.indices(n)
        if step != 1 or stop - start < 1:
            raise ValueError(f"tuning days must be a non-empty contiguous slice of the {n} replay days, got {days}")
        return start, stop

    def _tuning_host(self, window: Window) -> PolicyHost:
        if window in self._borrowed:
            return self._borrowed[window]
        if window in self._tuning_hosts:
            self._tuning_hosts.move_to_end(window)
            return self._tuning_hosts[window]
        start, stop = window
        ws = self.workspace
        problem = ReplayProblem(ws.replay.slice(start, stop), ws.spec.features, ws.spec.model, ws.spec.initial)
        host = self.hosts.tuning_host(problem)
        self._tuning_hosts[window] = host
        while len(self._tuning_hosts) > self.config.tuning_hosts:
            _, old = self._tuning_hosts.popitem(last=False)
            old.close()
        return host
