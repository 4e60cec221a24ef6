"""The outer period loop (``evolve --periods K``): deploy for a period, observe, re-run.

The paper's setting is online. Given a long workspace (replay + forward window), the
series is cut into K consecutive deployment periods of h days (h = the workspace's
forward days unless set) ending with the workspace's own test window. Period k is a
workspace of its own, written under the periods directory: its replay window is every
day before the period (the baselines are re-tuned on it) and its forward window the
period's h days, which nothing in the period's search can read. Each period runs the
ordinary evolve loop with

- the policy deployed in the previous period as an incumbent in the initial pool, and
- the replay-vs-forward gain gaps of every past period (certified mean gain minus the
  gain realised forward, per certified member), from which the historical-quantile eps
  (``certify.eps = historical_quantile``) is computed once ten gaps exist.

The summary adds up per-period forward costs: the deployed policies against always
using the best baseline (the reference: best on each period's replay window) and against
the best baseline in hindsight. Re-running the same command resumes: finished periods
are read back, an interrupted one is resumed from its run directory.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from evolve.config import ConfigError, EvolveConfig
from evolve.run import PeriodContext, ProposerFactory, execute
from inventory.workspace import ProblemSpec, WorkspaceSpec, load_workspace
from inventory.workspace_write import write_workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodResult:
    period: int
    replay_days: int
    deployed_id: str
    deployed_name: str
    deployed_cost: float
    reference_name: str
    reference_cost: float
    best_baseline_name: str
    best_baseline_cost: float
    gaps: tuple[float, ...]


@dataclass(frozen=True)
class PeriodsOutcome:
    root: Path
    periods: tuple[PeriodResult, ...]

    def summary(self) -> str:
        lines = [f"{'period':>6s} {'replay days':>11s} {'deployed':32s} {'cost/day':>9s} "
                 f"{'reference':>18s} {'cost/day':>9s} {'best baseline (hindsight)':>26s}"]
        for p in self.periods:
            lines.append(f"{p.period:6d} {p.replay_days:11d} {p.deployed_name[:32]:32s} {p.deployed_cost:9.4f} "
                         f"{p.reference_name[:18]:>18s} {p.reference_cost:9.4f} "
                         f"{p.best_baseline_name[:16]:>16s} {p.best_baseline_cost:9.4f}")
        dep = sum(p.deployed_cost for p in self.periods)
        ref = sum(p.reference_cost for p in self.periods)
        best = sum(p.best_baseline_cost for p in self.periods)
        lines.append(f"cumulative cost per day summed over {len(self.periods)} period(s): deployed {dep:.4f}, "
                     f"always the best baseline on replay {ref:.4f} ({(dep - ref) / ref:+.1%}), "
                     f"best baseline in hindsight {best:.4f} ({(dep - best) / best:+.1%})")
        return "\n".join(lines) + "\n"


def period_windows(total_days: int, periods: int, horizon: int, min_replay: int = 28) -> list[int]:
    """Replay lengths of the K periods: the last period's forward window ends on the last day."""
    if periods < 1 or horizon < 1:
        raise ConfigError(f"periods and horizon must be >= 1, got {periods}, {horizon}")
    first = total_days - periods * horizon
    if first < min_replay:
        raise ConfigError(f"{periods} periods of {horizon} days leave {first} replay days for the first "
                         f"period; need at least {min_replay}")
    return [first + k * horizon for k in range(periods)]


def _period_workspace(src, full, replay_days: int, horizon: int, k: int, out: Path, config: EvolveConfig):
    if (out / "manifest.json").exists():
        return load_workspace(out)
    pr = src.spec.problem
    problem = replace(pr, name=f"{pr.name}-p{k}", replay_days=replay_days, forward_days=horizon)
    spec = WorkspaceSpec(problem, src.spec.initial, src.spec.features)
    return write_workspace(out, spec, full.slice(0, replay_days), full.slice(replay_days, replay_days + horizon),
                           tuning=config.tuning, overwrite=True)


def run_periods(workspace: Path, config: EvolveConfig, proposer_factory: ProposerFactory, *, periods: int,
                out: Path, horizon: int = 0, progress: bool = True) -> PeriodsOutcome:
    """Walk ``workspace`` period by period (see the module docstring)."""
    src = load_workspace(workspace)
    if not src.has_forward:
        raise ConfigError(f"{workspace}: --periods needs a workspace with a forward window")
    full = src.replay.concat(src.load_forward())
    h = horizon or src.spec.problem.forward_days
    results: list[PeriodResult] = []
    incumbents: tuple[tuple[str, str], ...] = ()
    gaps: list[float] = []
    for k, replay_days in enumerate(period_windows(len(full), periods, h), start=1):
        base = out / f"period-{k:02d}"
        ws = _period_workspace(src, full, replay_days, h, k, base / "workspace", config)
        run_dir = base / "run"
        ctx = PeriodContext(incumbents, tuple(gaps))
        if not (run_dir / "period.json").exists():
            resume = run_dir if (run_dir / "run.json").exists() else None
            execute(None if resume else ws.root, config, proposer_factory, run_dir=run_dir, resume=resume,
                    progress=progress, period=ctx)
        dep = json.loads((run_dir / "deployment.json").read_text(encoding="utf-8"))
        per = json.loads((run_dir / "period.json").read_text(encoding="utf-8"))
        fwd = dep["forward"]
        baselines = fwd["baselines"]
        ref_name = dep["reference_id"].removeprefix("baseline-")
        best = min(baselines, key=baselines.get)
        new_gaps = tuple(float(m["gap"]) for m in per["members"].values())
        results.append(PeriodResult(k, replay_days, dep["deployed_id"], dep["name"], float(fwd["deployed"]),
                                    ref_name, float(baselines[ref_name]), best, float(baselines[best]), new_gaps))
        gaps.extend(new_gaps)
        incumbents = ((f"incumbent-p{k}", (run_dir / "deployed_policy.py").read_text(encoding="utf-8")),)
        log.info("period %d: deployed %s, forward cost %.4f vs reference %.4f", k, dep["deployed_id"],
                 results[-1].deployed_cost, results[-1].reference_cost)
    outcome = PeriodsOutcome(out, tuple(results))
    (out / "periods.txt").write_text(outcome.summary(), encoding="utf-8")
    return outcome
