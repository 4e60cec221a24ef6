"""The closing report of an evolve run: what was deployed, why, and how it compares.

Replay numbers come from the pool (trusted step-by-step replays). Forward-window numbers,
when the workspace has a test window, are computed here and only here, after every
decision has been taken, for the deployed policy and the five baselines.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from certify import Deployment, format_certificate_table
from evaluation.records import ForwardResult
from evaluation.trusted import TrustedEvaluator
from evolve.pool import Pool


@dataclass
class ForwardSummary:
    """Forward-window costs per day. A policy that failed there has no cost but an error."""

    deployed_cost: float | None
    baseline_costs: dict[str, float] = field(default_factory=dict)
    deployed_error: str | None = None
    baseline_errors: dict[str, str] = field(default_factory=dict)

    @property
    def best_baseline(self) -> tuple[str, float] | None:
        return min(self.baseline_costs.items(), key=lambda kv: kv[1]) if self.baseline_costs else None

    @property
    def success(self) -> bool:
        """SPEC §3: strictly below the minimum test cost of the five tuned baselines."""
        best = self.best_baseline
        return self.deployed_cost is not None and best is not None and self.deployed_cost < best[1]

    def to_dict(self) -> dict:
        return {"deployed": self.deployed_cost, "deployed_error": self.deployed_error,
                "baselines": self.baseline_costs, "baseline_errors": self.baseline_errors, "success": self.success}


def forward_summary(pool: Pool, deployment: Deployment, evaluator: TrustedEvaluator) -> ForwardSummary:
    def run(member_id: str) -> ForwardResult:
        m = pool.members[member_id]
        return evaluator.forward(m.source, m.record.name, m.id, m.record.params, vectorised=m.record.vectorised)

    out = ForwardSummary(None)
    for m in pool.members.values():
        if m.origin == "baseline":
            res = run(m.id)
            if res.ok:
                out.baseline_costs[m.record.name] = res.forward_cost
            else:
                out.baseline_errors[m.record.name] = res.error or "failed"
    dep = run(deployment.deployed_id)
    out.deployed_cost, out.deployed_error = dep.forward_cost, dep.error
    return out


def render_report(workspace_name: str, pool: Pool, deployment: Deployment, fwd: ForwardSummary | None,
                  notice: str | None = None) -> str:
    """``notice`` (e.g. the proposer never ran, :mod:`evolve.runinfo`) becomes the first line."""
    dep = pool.members[deployment.deployed_id]
    ref = pool.members[pool.reference_id]
    lines = [notice, ""] if notice else []
    lines += [
        f"invevolve report: workspace {workspace_name}",
        f"candidates evaluated: {len(pool.members) - sum(m.origin == 'baseline' for m in pool.members.values())} valid "
        f"(+5 baselines); champion {pool.champion_id}; reference {pool.reference_id}",
        "",
        f"DEPLOYED: {dep.id}  ({dep.record.name})",
        f"  why: {deployment.reason}",
    ]
    if deployment.certificate is not None:
        c = deployment.certificate
        lines.append(f"  certificate vs {c.comparator_id}: n={c.n} mean gain={c.mean_gain:.4f} sd={c.sd_gain:.4f} "
                     f"{c.radius_kind} radius={c.radius:.4f} LCB={c.lcb:.4f} UCB={c.ucb:.4f} "
                     f"delta={c.delta:g} N_t={c.n_pairs} eps={c.eps:g}")
        lines.append(f"  note: {c.note}")
    lines.append(f"  params: {', '.join(f'{k}={v:.4g}' for k, v in dep.record.params.items()) or '(none)'}")
    lines += ["", "replay cost per day (trusted replay):"]
    lines.append(f"  {'deployed':24s} {dep.record.replay_cost:10.4f}")
    for m in sorted((m for m in pool.members.values() if m.origin == "baseline"), key=lambda m: m.record.replay_cost):
        delta = (dep.record.replay_cost - m.record.replay_cost) / m.record.replay_cost if m.record.replay_cost else 0.0
        tag = " (reference)" if m.id == ref.id else ""
        lines.append(f"  {m.record.name:24s} {m.record.replay_cost:10.4f}   deployed {delta:+.1%}{tag}")
    if fwd is not None:
        lines += ["", "test (forward) window, cost per day:"]
        best = fwd.best_baseline
        if fwd.deployed_cost is None:
            lines.append(f"  deployed policy FAILED in the test window: {fwd.deployed_error}")
        elif best is not None:
            name, cost = best
            change = (fwd.deployed_cost - cost) / cost if cost else 0.0
            lines.append(f"  deployed {fwd.deployed_cost:.4f} vs best baseline {name} {cost:.4f} ({change:+.1%}): "
                         f"{'SUCCESS' if fwd.success else 'no improvement'}")
        for bname, err in sorted(fwd.baseline_errors.items()):
            lines.append(f"  baseline {bname} FAILED in the test window: {err}")
    safety = [m.safety for m in pool.members.values() if m.safety is not None and m.origin != "baseline"]
    if safety:
        top = sorted(safety, key=lambda c: -c.ucb)[:8]
        lines += ["", "top candidates by UCB vs reference:", format_certificate_table(top)]
    return "\n".join(lines) + "\n"
