"""One audit from target to result: static reading, replays, probes, stress, certificate, plots.

Generated code only ever runs in a sandbox host: a *replay host* built on a data-free
problem answers one decision at a time (fresh process per replay or probe batch); a
*tuning host* on the agent-visible replay window is opened only when the audit must tune a
policy file or evaluate a ``search_space(info)``. The trusted simulator does every replay.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.certificate_text import CertificateText, certificate_check, describe
from audit.config import AuditConfig
from audit.grid import GridBuilder, feature_levels, positions, probe_days
from audit.model import Check, CheckId, Group, Verdict
from audit.plots import FigureData
from audit.policies import PolicyRunner, SandboxedPolicy, Trajectory, TrustedPolicy, data_free
from audit.probes import GridOutcome, ProbeContext, cap_check, run_probes
from audit.replays import LongRun, cost_sensitivity, long_horizon, reproduction_check
from audit.static import StaticReport, read_source
from audit.stress import StressResult, run_stress
from audit.target import AuditTarget, TargetMode
from certify import GateConfig, compare
from evaluation.factory import open_host
from evolve.config import ConfigError
from inventory.host import PolicyHost
from inventory.policy import PolicyError, source_hash
from inventory.tuning import TuningConfig, tune

log = logging.getLogger(__name__)


@dataclass
class AuditResult:
    target: AuditTarget
    config: AuditConfig
    static: StaticReport
    checks: list[Check] = field(default_factory=list)
    certificates: list[CertificateText] = field(default_factory=list)
    figures: FigureData | None = None     # what the plots are drawn from (audit.report draws them)
    stress: list[StressResult] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    space: list[dict[str, Any]] = field(default_factory=list)
    cap: float | None = None
    costs: dict[str, float] = field(default_factory=dict)
    sandbox: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[Check]:
        return [c for c in self.checks if c.blocks]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures


class _Clock:
    def __init__(self, out: dict[str, float]):
        self.out, self.t = out, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.out[name] = round(now - self.t, 3)
        self.t = now


def stated_cap(target: AuditTarget, cfg: AuditConfig) -> float:
    """The user's ``max_order``, else I_max = (L + 2) * D_max of the replay window."""
    if cfg.max_order is not None:
        return float(cfg.max_order)
    ws = target.workspace
    return float((ws.spec.problem.lead_time + 2) * max(float(ws.replay.demand.max()), 1.0))


def _static_checks(static: StaticReport) -> list[Check]:
    out = [Check(CheckId.VALIDATOR, Group.STATIC, Verdict.PASS if static.valid else Verdict.FAIL,
                 "accepted by the white-box validator" if static.valid else "; ".join(static.reasons))]
    if static.randomness:
        out.append(Check(CheckId.RANDOMNESS, Group.STATIC, Verdict.WARN,
                         "the source uses randomness: " + "; ".join(static.randomness)))
    else:
        out.append(Check(CheckId.RANDOMNESS, Group.STATIC, Verdict.PASS, "no source of randomness in the code"))
    return out


def _tune(host: PolicyHost, target: AuditTarget, cfg: AuditConfig) -> tuple[dict[str, float], tuple]:
    handle = host.open(target.source, target.name)
    try:
        space = handle.space()
        res = tune(handle.mean_costs, space, TuningConfig(n_trials=cfg.trials, seed=cfg.seed))
        return dict(res.params), space
    finally:
        handle.close()


def _space_of(host: PolicyHost, target: AuditTarget) -> tuple:
    handle = host.open(target.source, target.name)
    try:
        return handle.space()
    finally:
        handle.close()


def run_audit(target: AuditTarget, cfg: AuditConfig) -> AuditResult:
    """Audit ``target``; never raises for a misbehaving policy (that becomes a failed check)."""
    ws = target.workspace
    clock = _Clock({})
    static = read_source(target.source, ws.spec.features)
    result = AuditResult(target, cfg, static, timings=clock.out)
    result.checks += _static_checks(static)
    result.certificates = [describe(c, "safety" if isinstance(c.get("safety_pass"), bool) else "improvement")
                           for c in target.certificates]
    clock.lap("static")
    if not static.valid:
        return result
    if target.status != "ok":
        result.checks.append(Check(CheckId.REPLAY_REPRODUCES, Group.REPLAY, Verdict.FAIL,
                                   f"the run recorded this candidate as {target.status}: {target.error}"))
        return result
    problem = ws.replay_problem()
    with ExitStack() as stack:
        replay_host = stack.enter_context(open_host(data_free(problem), cfg.sandbox))
        result.sandbox = replay_host.name
        space: tuple | Future | None = None
        try:
            if target.mode is TargetMode.FILE or static.space_kind == "search_space":
                tuning_host = stack.enter_context(open_host(problem, cfg.sandbox))
                if target.params is None:
                    target.params, space = _tune(tuning_host, target, cfg)
                    clock.lap("tune")
                else:  # only the bounds are needed, later: start that sandbox in the background
                    pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
                    space = pool.submit(_space_of, tuning_host, target)
        except PolicyError as exc:
            result.checks.append(Check(CheckId.REPLAY_REPRODUCES, Group.REPLAY, Verdict.FAIL,
                                       f"the policy failed to load or tune in the sandbox: {exc}"))
            return result
        cand = SandboxedPolicy(replay_host, target.source, target.name, target.params or {}, target.vectorised, space)
        ref_t = target.reference
        ref: PolicyRunner = (TrustedPolicy(ref_t.source, ref_t.name, ref_t.params, problem) if ref_t.trusted else
                             SandboxedPolicy(replay_host, ref_t.source, ref_t.name, ref_t.params))
        result.params = dict(cand.params)
        _dynamic(result, cand, ref, clock)
    return result


def _dynamic(result: AuditResult, cand: PolicyRunner, ref: PolicyRunner, clock: _Clock) -> None:
    target, cfg, ws = result.target, result.config, result.target.workspace
    spec, n = ws.spec, len(ws.replay)
    full = ws.replay.concat(ws.load_forward()) if ws.has_forward else ws.replay
    try:
        ct = cand.replay(full, spec.features, spec.model, spec.initial)
    except PolicyError as exc:
        result.checks.append(Check(CheckId.REPLAY_REPRODUCES, Group.REPLAY, Verdict.FAIL,
                                   f"the policy failed on the replay/test window: {exc}"))
        return
    try:
        rt = ref.replay(full, spec.features, spec.model, spec.initial)
    except PolicyError as exc:  # not the candidate's fault: the audit has nothing to compare against
        raise ConfigError(f"{ws.root}: the reference {ref.name} failed on the replay/test window: {exc}") from exc
    result.costs = {"replay": float(ct.costs[:n].mean()), "reference_replay": float(rt.costs[:n].mean())}
    if len(full) > n:
        result.costs.update(test=float(ct.costs[n:].mean()), reference_test=float(rt.costs[n:].mean()))
    if target.mode is TargetMode.RUN:
        result.checks.append(reproduction_check(ct.costs[:n], target.recorded_costs, cfg.reproduce_tol,
                                                "the run's trusted record (candidates.jsonl)"))
    else:
        again = cand.replay(ws.replay, spec.features, spec.model, spec.initial).costs
        result.checks.append(reproduction_check(ct.costs[:n], list(again), cfg.reproduce_tol,
                                                "a second replay in another fresh process"))
    clock.lap("replay")
    safety = target.safety_certificate()
    if target.mode is TargetMode.FILE and not target.is_reference:
        cert = compare(target.candidate_id, source_hash(target.source), ref.name, ct.costs[:n], rt.costs[:n], config=GateConfig(method="blockwise_t"),
                       n_pairs=1, bound=None, lead_time=spec.problem.lead_time, role="safety").to_dict()
        cert["comparator_id"] = target.reference.candidate_id
        target.certificates.append(cert)
        result.certificates.append(describe(cert, "safety"))
        safety = cert
    result.checks.append(certificate_check(target.candidate_id, target.reference.candidate_id, safety,
                                           from_run=target.mode is TargetMode.RUN))
    cap = stated_cap(target, cfg)
    result.cap = cap
    ctx, grid = _probe(result, cand, ref, ct, rt, cap)
    clock.lap("probes")
    longrun = long_horizon(cand, ref, ws.replay, spec.features, spec.model, spec.initial, cfg, cap)
    result.checks.append(longrun.check)
    clock.lap("long_horizon")
    sens = cost_sensitivity(cand, ws.replay, spec.features, spec.model, spec.initial, result.costs["replay"], cfg)
    result.checks.append(sens)
    result.space = [{"name": s.name, "low": s.low, "high": s.high, "integer": s.integer, "log": s.log}
                    for s in _safe_space(cand)]
    clock.lap("sensitivity")
    orders = {"probe grid": grid.orders(), "replay and test": ct.orders}
    if longrun.candidate is not None:
        orders["long replay"] = longrun.candidate.orders
    result.checks.append(cap_check(orders, cap, spec.model.integer_orders))
    stress_checks, result.stress = run_stress(ws, cand, ref, cfg)
    result.checks += stress_checks
    clock.lap("stress")
    result.figures = _figure_data(result, ctx, ct, rt, n, safety, grid, longrun, sens)


def _safe_space(cand: PolicyRunner) -> tuple:
    try:
        return cand.space()
    except PolicyError:
        return ()


def _probe(result: AuditResult, cand: PolicyRunner, ref: PolicyRunner, ct: Trajectory, rt: Trajectory,
           cap: float) -> tuple[ProbeContext, GridOutcome]:
    ws, cfg = result.target.workspace, result.config
    spec = ws.spec
    d_max = float(ws.replay.demand.max())
    p_max = max(1.5 * float(max(ct.position.max(), rt.position.max())), (spec.problem.lead_time + 1) * d_max)
    levels = {s.name: lv for s in spec.features
              if (lv := feature_levels(s, ws.replay.features[s.name])) is not None}
    ctx = ProbeContext(cand, ref, GridBuilder(ws.replay, spec.features, spec.model), result.static, cfg, cap,
                       probe_days(len(ws.replay), cfg.grid_days), positions(p_max, cfg.grid_positions,
                                                                          spec.model.integer_orders),
                       levels, spec.model.integer_orders)
    grid = run_probes(ctx)
    result.checks += grid.checks
    return ctx, grid


def _figure_data(result: AuditResult, ctx: ProbeContext, ct: Trajectory, rt: Trajectory, n: int,
                 safety: dict | None, grid: GridOutcome, longrun: LongRun, sens: Check) -> FigureData:
    day = ctx.days[len(ctx.days) // 2]
    return FigureData(ct, rt, n, result.target.reference.name, safety,
                      {f: grid.curve(ctx, day, f) for f in ctx.builder.families()}, ctx.cap, day,
                      longrun.candidate, longrun.reference, list(sens.details.get("rows", [])))
