"""Trusted score of one policy file: what an auditor runs before a rule reaches a warehouse.

The candidate is compared with the same two baselines everywhere, each named for what it is:
- the **reference**: the baseline with the lowest cost on the replay window, which is what
  ``evolve`` certifies against (``search.reference = "best_baseline"``); the replay line, the
  certificate and the test-window line all compare with it;
- the **best baseline on the test window** (the best in hindsight), which is SPEC §3's
  success criterion; the test-window line names it separately.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from certify import GateConfig, compare
from evaluation.factory import open_hosts, policy_validator
from evaluation.trusted import TrustedEvaluator
from inventory.tuning import TuningConfig
from inventory.workspace import load_workspace


class PolicyFileError(ValueError):
    """The policy file cannot be read as UTF-8 text, or lacks what the request needs."""


@dataclass(frozen=True)
class ScoreResult:
    """The printed report and the trusted verdict: ``status`` is ok | invalid | failed."""

    text: str
    status: str

    @property
    def accepted(self) -> bool:
        return self.status == "ok"


def read_policy(policy: Path) -> str:
    """The policy file as text; a clear :class:`PolicyFileError` when it cannot be."""
    policy = Path(policy)
    if not policy.is_file():
        raise PolicyFileError(f"{policy}: no such policy file")
    try:
        return policy.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f"{policy}: not UTF-8 text (byte {exc.start}: {exc.reason}); "
                              "a policy file is Python source") from None


def tuned_params(source: str) -> dict[str, float] | None:
    """The ``TUNED_PARAMS = {...}`` literal of a policy (as a run's deployed_policy.py has), read with ast."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for stmt in reversed(tree.body):
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == "TUNED_PARAMS"):
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError):
                return None
            if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, (int, float))
                                               and not isinstance(v, bool) for k, v in value.items()):
                return {k: float(v) for k, v in value.items()}
            return None
    return None


def _pct(new: float, old: float) -> str:
    return f"{(new - old) / old:+.1%}" if old else "n/a"


def score_policy_file(workspace: Path, policy: Path, *, sandbox: str = "auto", trials: int = 50, seed: int = 0,
                      tuned: bool = False) -> ScoreResult:
    """Validate, tune (or, with ``tuned``, use the file's TUNED_PARAMS), replay and forward-test ``policy``."""
    ws = load_workspace(workspace)
    source = read_policy(policy)
    params = None
    if tuned:
        params = tuned_params(source)
        if params is None:
            raise PolicyFileError(f"{policy}: --tuned needs a literal TUNED_PARAMS = {{...}} "
                                  "(as in a run's deployed_policy.py)")
    ev = TrustedEvaluator(ws, open_hosts(sandbox), TuningConfig(n_trials=trials, seed=seed), validator=policy_validator())
    try:
        rec = ev.evaluate(source, Path(policy).stem, "candidate", params=params)
        if not rec.ok:
            status = str(getattr(rec.status, "value", rec.status))
            return ScoreResult(f"{policy}: {status.upper()}: {rec.error}\n", status)
        best = min(ws.baselines.values(), key=lambda b: (b.replay_cost, b.name))
        ref = ev.evaluate(ws.baseline_source(best.name), best.name, "reference", params=best.params)
        cert = compare("candidate", rec.source_hash, f"baseline-{best.name}", rec.replay_costs, ref.replay_costs,
                       config=GateConfig(method="blockwise_t"), n_pairs=1, bound=None,
                       lead_time=ws.spec.problem.lead_time, role="safety")
        how = "TUNED_PARAMS from the file" if tuned else f"tuned with {trials} trials"
        lines = [f"{policy}: replay cost/day {rec.replay_cost:.4f} ({how}: {rec.params})",
                 f"reference {best.name} (the best baseline on the replay window, as evolve uses): "
                 f"replay cost/day {ref.replay_cost:.4f}; policy {_pct(rec.replay_cost, ref.replay_cost)}",
                 f"single-pair certificate vs reference {best.name}: {cert.summary()}"]
        if ws.has_forward:
            run = ev.forward(source, "candidate", "candidate", rec.params, vectorised=rec.vectorised)
            if not run.ok:
                lines.append(f"test window: the policy FAILED there: {run.error}")
                return ScoreResult("\n".join(lines) + "\n", "failed")
            fwd = run.forward_cost
            runs = {b.name: ev.forward(ws.baseline_source(b.name), b.name, f"b-{b.name}", b.params)
                    for b in ws.baselines.values()}
            base_fwd = {k: r.forward_cost for k, r in runs.items() if r.ok}
            if best.name not in base_fwd or not base_fwd:
                raise RuntimeError(f"baseline {best.name} failed in the trusted test-window replay: "
                                   f"{runs[best.name].error}")
            hind, hind_cost = min(base_fwd.items(), key=lambda kv: (kv[1], kv[0]))
            verdict = "SUCCESS: beats" if fwd < hind_cost else "no improvement: does not beat"
            lines.append(f"test window cost/day: policy {fwd:.4f}; reference {best.name} {base_fwd[best.name]:.4f} "
                         f"({_pct(fwd, base_fwd[best.name])}); best baseline on the test window {hind} "
                         f"{hind_cost:.4f} ({verdict} it, SPEC §3)")
        return ScoreResult("\n".join(lines) + "\n", "ok")
    finally:
        ev.close()
