"""Trusted score of one policy file: what an auditor runs before a rule reaches a warehouse."""
from __future__ import annotations

from pathlib import Path

from certify import GateConfig, compare
from evaluation.factory import open_host, policy_validator
from evaluation.trusted import TrustedEvaluator
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace


def score_policy_file(workspace: Path, policy: Path, *, sandbox: str = "auto", trials: int = 50, seed: int = 0) -> str:
    """Validate, tune, replay and (if present) forward-test ``policy``; returns a text report."""
    ws = load_workspace(workspace)
    source = Path(policy).read_text(encoding="utf-8")
    host = open_host(ws.replay_problem(), sandbox)
    ev = TrustedEvaluator(ws, host, TuningConfig(n_trials=trials, seed=seed), validator=policy_validator())
    try:
        rec = ev.evaluate(source, Path(policy).stem, "candidate")
        if not rec.ok:
            return f"{policy}: {rec.status.upper()}: {rec.error}\n"
        best = min(ws.baselines.values(), key=lambda b: b.replay_cost)
        ref = ev.evaluate(ws.baseline_source(best.name), best.name, "reference", params=best.params)
        cert = compare("candidate", rec.source_hash, f"baseline-{best.name}", rec.replay_costs, ref.replay_costs,
                       config=GateConfig(method="blockwise_t"), n_pairs=1, bound=None,
                       lead_time=ws.spec.problem.lead_time, role="safety")
        lines = [f"{policy}: replay cost/day {rec.replay_cost:.4f} (params {rec.params})",
                 f"best baseline {best.name}: {best.replay_cost:.4f}",
                 f"single-pair certificate: {cert.summary()}"]
        if ws.has_forward:
            fwd = ev.forward(source, "candidate", "candidate", rec.params).forward_cost
            base_fwd = {b.name: ev.forward(ws.baseline_source(b.name), b.name, f"b-{b.name}", b.params).forward_cost
                        for b in ws.baselines.values()}
            name, cost = min(base_fwd.items(), key=lambda kv: kv[1])
            lines.append(f"test window: {fwd:.4f} vs best baseline {name} {cost:.4f} "
                         f"({'beats' if fwd < cost else 'does not beat'} it)")
        return "\n".join(lines) + "\n"
    finally:
        ev.close()
        host.close()
