"""The main loop of an evolve run (SPEC §5): initial pool, rounds, gating, deployment.

``run`` is resumable: everything it decides is a deterministic function of the trusted
records in the run directory, so after ``kill -9`` a resumed run re-gates the completed
rounds from disk (without asking the proposer again), re-uses every candidate already
evaluated, and continues with the first unfinished round.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

import numpy as np

from certify import Deployment, EpsEstimator, EpsInputs, GainSource, choose_eps, gain_bound, pairs_budget, window_gaps
from evaluation.records import EvalRecord, EvalStatus
from evaluation.trusted import TrustedEvaluator
from evolve.config import EvolveConfig
from evolve.executor import (CandidateTask, Executor, ReplicationTask, WalkForwardTask, evaluate_task,
                             replication_task, walk_forward_task)
from evolve.oos import OutOfSampleScorer
from evolve.replications import ReplicationScorer
from evolve.pool import Member, Pool
from evolve.proposer import Feedback, Outcome, PoolEntry, Proposal, ProposalContext, Proposer, ProposerUnavailable
from evolve.rundir import RunDir
from inventory.policy import source_hash
from inventory.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_dir: Path
    pool: Pool
    deployment: Deployment
    deployed_source: str
    seconds: float


def candidate_id(round_no: int, source: str) -> str:
    return f"r{round_no:02d}-{source_hash(source)}"


def gain_bound_for(ws: Workspace, source: GainSource = GainSource.IN_SAMPLE) -> float | None:
    """B = h * I_max + p * D_max with D_max the largest demand and I_max = (L + 2) D_max.

    Fixed from the workspace before any gain is seen: D_max is the largest replay demand,
    and for replications also the demand model's cap (``max_demand``, which the draws
    never exceed; ``None`` without one). A policy that holds more than I_max breaks the
    bound; its Hoeffding certificate is then refused (the gate fails).
    """
    d_max = float(ws.replay.demand.max())
    if source is GainSource.REPLICATIONS:
        cap = ws.spec.demand_model.max_demand if ws.spec.demand_model is not None else None
        if cap is None:
            return None
        d_max = max(d_max, cap)
    model = ws.spec.model
    return gain_bound(model.h, model.p, (model.lead_time + 2) * d_max, d_max)


class Controller:
    """One period's search. ``incumbents`` ((name, source) pairs, e.g. the policy deployed
    last period) join the initial pool and are re-tuned like the baselines; ``period_gaps``
    (replay-vs-forward gain gaps of past periods) feed the eps estimator."""

    def __init__(self, ws: Workspace, run_dir: RunDir, config: EvolveConfig,
                 evaluator: TrustedEvaluator, proposer: Proposer, executor: Executor | None = None, *,
                 incumbents: tuple[tuple[str, str], ...] = (), period_gaps: tuple[float, ...] = ()):
        """``executor`` with two or more workers evaluates each round's new candidates (and the
        initial pool) concurrently; records are saved and gated in submission order, so the
        run directory is the one a serial run writes (only the timings differ)."""
        self.ws, self.rd, self.cfg, self.ev, self.proposer = ws, run_dir, config, evaluator, proposer
        self.executor = executor
        self.done = run_dir.evaluated()
        self.feedback: list[Feedback] = []
        self.proposer_down = False
        self.incumbents, self.period_gaps = incumbents, period_gaps
        gate = config.certify
        needs_oos = gate.source is GainSource.WALK_FORWARD or gate.eps_estimator != EpsEstimator.CONSTANT.value
        self.oos = OutOfSampleScorer(ws, evaluator, gate, run_dir) if needs_oos else None
        self.reps = ReplicationScorer(ws, evaluator, gate, run_dir, config.search.seed) \
            if gate.source is GainSource.REPLICATIONS else None

    def _proposals(self, pool: Pool, round_no: int) -> list[Proposal]:
        if self.proposer_down:
            return []
        try:
            return self.proposer.propose(self._context(pool, round_no))[: self.cfg.search.candidates_per_round]
        except ProposerUnavailable as exc:
            log.error("%s; no further proposals in this run", exc)
            self.proposer_down = True
            return []

    def _round_proposals(self, pool: Pool, round_no: int) -> list[Proposal]:
        """This round's proposals: recorded ones if a killed run got that far, else new ones.

        New proposals are recorded (sources included) before any of them is evaluated, so a
        run killed mid-round resumes with exactly these proposals and re-uses every
        candidate already evaluated, instead of asking the proposer again.
        """
        recorded = self.rd.proposals().get(round_no)
        if recorded is not None:
            log.info("round %d: re-using its %d recorded proposals", round_no, len(recorded))
            return [Proposal(self.rd.candidate_source(e["candidate_id"]), str(e["name"]), str(e.get("rationale", "")),
                             {str(k): str(v) for k, v in dict(e.get("meta", {})).items()}) for e in recorded]
        proposals = self._proposals(pool, round_no)
        if self.proposer_down:  # not recorded: a resume (e.g. with --base-url NEW) asks again
            return proposals
        self.rd.save_proposals(round_no, [(candidate_id(round_no, p.source), p.source, p.name, p.rationale, dict(p.meta))
                                          for p in proposals])
        return proposals

    # ---- evaluation with memo on disk
    def _evaluate(self, source: str, name: str, cid: str, round_no: int, origin: str,
                  params: dict[str, float] | None = None) -> EvalRecord:
        if cid in self.done:
            return self.done[cid][0]
        return self._record(self.ev.evaluate(source, name, cid, params=params), source, name, cid, round_no, origin)

    def _record(self, rec: EvalRecord, source: str, name: str, cid: str, round_no: int, origin: str) -> EvalRecord:
        self.rd.save_candidate(rec, source, round_no, origin)
        self.done[cid] = (rec, round_no, origin)
        if not rec.ok:
            log.info("candidate %s (%s) %s: %s", cid, name, rec.status.value, rec.error)
        return rec

    def _member(self, rec: EvalRecord, source: str, origin: str, round_no: int) -> Member:
        oos = self.oos.score(rec.candidate_id, source, rec.name) if self.oos is not None else None
        reps = self.reps.score(rec, source) if self.reps is not None else None
        return Member(rec, source, origin, round_no, oos=oos, reps=reps)

    def _prefetch(self, jobs: list[tuple[str, str, str, int, str, dict[str, float] | None]]) -> None:
        """Evaluate the jobs (source, name, id, round, origin, fixed params) not yet evaluated, on
        the executor, and record them in submission order. Serial runs skip this: their
        candidates are evaluated one by one as they are gated, with the same results."""
        if self.executor is None or self.executor.workers < 2:
            return
        todo, seen = [], set()
        for job in jobs:
            if job[2] not in self.done and job[2] not in seen:
                seen.add(job[2])
                todo.append(job)
        if len(todo) < 2:
            return
        # the backend this run's evaluator resolved ("auto" -> docker or bwrap): every worker uses the same
        sandbox = getattr(getattr(self.ev.hosts, "backend", None), "name", self.cfg.sandbox)
        tasks = [CandidateTask(str(self.ws.root), cid, name, source, self.cfg.tuning, sandbox,
                               self.cfg.evaluation, self.cfg.replay.backend_config, params)
                 for source, name, cid, _, _, params in todo]
        for (source, name, cid, round_no, origin, _), rec in zip(todo, self.executor.map(evaluate_task, tasks)):
            self._record(rec, source, name, cid, round_no, origin)
        if self.oos is not None:  # their walk-forward scoring too, before they are gated in order
            folds = [WalkForwardTask(t, self.oos.plan) for t in tasks
                     if self.done[t.candidate_id][0].ok and t.candidate_id not in self.oos.done]
            for row in self.executor.map(walk_forward_task, folds):
                self.oos.record(row)
        if self.reps is not None:  # and their simulated continuations, at the tuned parameters
            done = [(t, self.done[t.candidate_id][0]) for t in tasks]
            jobs = [ReplicationTask(replace(t, params=dict(rec.params), vectorised=rec.vectorised), tuple(self.reps.paths))
                    for t, rec in done if rec.ok and t.candidate_id not in self.reps.done]
            for row in self.executor.map(replication_task, jobs):
                self.reps.record(row)

    def _initial_pool(self) -> Pool:
        sc = self.cfg.search
        per_round = sc.candidates_per_round
        initial = len(self.ws.baselines) + int(self.cfg.baselines.orpr) + len(self.incumbents)
        pool = Pool(self.cfg.certify, pairs_budget(initial, sc.rounds * per_round),
                    gain_bound_for(self.ws, self.cfg.certify.source), self.ws.spec.problem.lead_time)
        # Pre-tuned parameters are daily-review parameters; under periodic review (R > 1) re-tune them.
        daily = self.cfg.replay.backend_config.review_period == 1
        self._prefetch([(self.ws.baseline_source(name), name, f"baseline-{name}", 0, "baseline",
                         rec.params if daily else None) for name, rec in self.ws.baselines.items()])
        for name, rec in self.ws.baselines.items():
            src = self.ws.baseline_source(name)
            cid = f"baseline-{name}"
            er = self._evaluate(src, name, cid, 0, "baseline", params=rec.params if daily else None)
            if not er.ok:
                raise RuntimeError(f"baseline {name} failed in the trusted evaluator: {er.error}")
            pool.add_initial(self._member(er, src, "baseline", 0))
        if self.cfg.baselines.orpr:
            self._add_orpr_baseline(pool)
        for name, src in self.incumbents:
            er = self._evaluate(src, name, f"incumbent-{source_hash(src)}", 0, "incumbent")
            if er.ok:
                pool.add_initial(self._member(er, src, "incumbent", 0))
            else:
                log.warning("incumbent %s failed in the trusted evaluator: %s", name, er.error)
        if sc.reference == "best_baseline":
            ref = min(pool.members.values(), key=lambda m: (m.record.replay_cost, m.id)).id
        else:
            ref = f"baseline-{sc.reference}"
            if ref not in pool.members:
                raise ValueError(f"search.reference {sc.reference!r} is not a baseline ({', '.join(self.ws.baselines)})")
        pool.eps = self._eps(pool, ref)
        log.info("eps = %.4g (%s: %s)", pool.eps.value, pool.eps.estimator.value, pool.eps.detail)
        pool.certify_initial(ref)
        if not any(int(r.get("round", -1)) == 0 for r in self.rd.read("champion_history.jsonl")):
            self.rd.append("champion_history.jsonl", {"round": 0, "champion": pool.champion_id, "reference": ref})
        return pool

    def _add_orpr_baseline(self, pool: Pool) -> None:
        """The OR label (orpr.label_policy), calibrated to the turnover of the incumbent baseline."""
        from orpr.label_policy import LABEL_POLICY, orpr_baseline

        ref = self.cfg.search.reference
        five = [m for m in pool.members.values() if m.origin == "baseline"]
        inc = min(five, key=lambda m: (m.record.replay_cost, m.id)) if ref == "best_baseline" else \
            pool.members.get(f"baseline-{ref}")
        if inc is None:
            raise ValueError(f"search.reference {ref!r} is not a baseline ({', '.join(self.ws.baselines)})")
        src, params, label = orpr_baseline(self.ws, inc.record.name, dict(inc.record.params),
                                           self.cfg.replay.backend_config)
        er = self._evaluate(src, LABEL_POLICY, f"baseline-{LABEL_POLICY}", 0, "baseline", params=params)
        if not er.ok:
            raise RuntimeError(f"the OR-label baseline failed in the trusted evaluator: {er.error}")
        log.info("OR-label baseline: v = %g days, alpha_loss = %.4f, turnover %.2f (target %.2f from %s)",
                 label.v, label.alpha_loss, label.turnover, label.target_turnover, inc.record.name)
        pool.add_initial(self._member(er, src, "baseline", 0))

    def _eps(self, pool: Pool, ref: str):
        """eps from the baselines' window gaps (fixed before any candidate is seen) and past periods."""
        gate = self.cfg.certify
        gaps = None
        base = [m for m in pool.members.values() if m.id != ref and m.oos is not None]
        if self.oos is not None and base and pool.members[ref].oos is not None:
            r = pool.members[ref]
            gaps = window_gaps(np.column_stack([r.costs - m.costs for m in base]),
                               np.column_stack([r.oos.costs - m.oos.costs for m in base]),
                               [f.score_days for f in self.oos.plan.folds], self.oos.plan.first_day)
        inputs = EpsInputs(window_gaps=gaps, period_gaps=np.asarray(self.period_gaps, float) if self.period_gaps else None)
        return choose_eps(gate.eps_estimator, inputs, gate.source, level=gate.eps_level, constant=gate.eps)

    def _context(self, pool: Pool, round_no: int) -> ProposalContext:
        entries = tuple(
            PoolEntry(m.id, m.record.name, m.source, float(m.record.replay_cost), dict(m.record.params),
                      "refined" if m.id in pool.refined else m.origin,
                      None if m.safety is None else float(m.safety.lcb))
            for m in pool.members.values()
        )
        return ProposalContext(self.ws, round_no, self.cfg.search.rounds, self.cfg.search.seed, entries,
                               pool.champion_id, pool.reference_id, tuple(self.feedback))

    def _gate(self, pool: Pool, proposal: Proposal, round_no: int, best_baseline: float, live: bool) -> str:
        cid = candidate_id(round_no, proposal.source)
        if cid in pool.members:
            return cid
        rec = self._evaluate(proposal.source, proposal.name, cid, round_no, self.proposer.name)
        if rec.ok:
            result = pool.admit(self._member(rec, proposal.source, self.proposer.name, round_no))
            status, message = result.status, result.message
        else:
            status, message = "failed" if rec.status is EvalStatus.FAILED else "rejected", rec.error or ""
        self.feedback.append(Feedback(round_no, cid, proposal.name, status, rec.replay_cost, message))
        if live:
            self.proposer.observe(proposal, Outcome(
                cid, status, rec.ok, rec.replay_cost, best_baseline,
                bool(rec.ok and rec.replay_cost < best_baseline), message))
        return cid

    def run(self, progress: bool = True) -> tuple[Pool, Deployment]:
        pool = self._initial_pool()
        best_baseline = min(m.record.replay_cost for m in pool.members.values())
        completed = self.rd.completed_rounds()
        # Rounds whose champion line is on disk; a kill between a round's rounds.jsonl line and
        # its champion line leaves a completed round without one, written on resume.
        history = {int(h.get("round", -1)) for h in self.rd.read("champion_history.jsonl")}
        sc = self.cfg.search
        bar = tqdm(total=sc.rounds, desc="rounds", unit="round", disable=not progress, leave=False)
        for r in range(1, sc.rounds + 1):
            if r in completed:
                ids = completed[r]["candidates"]
                for cid in ids:
                    if cid in self.done and cid not in pool.members:
                        rec = self.done[cid][0]
                        prop = Proposal(self.rd.candidate_source(cid), rec.name)
                        self._gate(pool, prop, r, best_baseline, live=False)
            else:
                proposals = self._round_proposals(pool, r)
                if self.proposer_down:
                    log.warning("round %d and later are not recorded: the proposer is unavailable; "
                                "`evolve --resume` asks it again for them", r)
                    break
                self._prefetch([(p.source, p.name, candidate_id(r, p.source), r, self.proposer.name) + (None,)
                                for p in proposals if candidate_id(r, p.source) not in pool.members])
                ids = [self._gate(pool, p, r, best_baseline, live=True) for p in proposals]
                self.rd.append("rounds.jsonl", {"round": r, "candidates": ids, "champion": pool.champion_id})
            if sc.refine:
                # The round's best (by the gate's own gains) becomes a comparator for later rounds.
                valid = [pool.members[c] for c in ids if c in pool.members and pool.gate_costs(pool.members[c]) is not None]
                if valid:
                    pool.refined.append(max(valid, key=lambda m: (pool.mean_gain(m), m.id)).id)
            if r not in history:
                self.rd.append("champion_history.jsonl", {"round": r, "champion": pool.champion_id})
            bar.update(1)
            bar.set_postfix(champion=pool.champion_id)
        bar.close()
        return pool, pool.deployment()
