"""Audit of a white-box policy before deployment (``invevolve audit``; docs/audit.md).

Reads a run directory (or a workspace and a policy file) and writes ``audit/`` with
``report.html`` (self-contained, plots embedded), ``report.md`` and ``audit.json``:
static reading, behaviour probes on a grid of states and feature values, stress replays
against the reference, the certificate in plain words, and plots.

Public API::

    from_run(run_dir, candidate=None, out=None) -> AuditTarget
    from_file(workspace, policy, out=None) -> AuditTarget
    run_audit(target, AuditConfig()) -> AuditResult      # result.passed: no blocking failure
    write_audit(result) -> Path                          # the folder with the three files

Nothing in the project imports this package; it imports evaluation, inventory, certify,
sandbox (through evaluation) and evolve's config and run-report writer.
"""
from importlib import import_module
from typing import Any

# Public names, loaded on first use so that `invevolve --help` does not import the audit's
# dependencies (matplotlib, jinja2, optuna through evaluation) for every other command.
_EXPORTS = {
    "AuditConfig": "audit.config", "BLOCKING": "audit.model", "Check": "audit.model", "CheckId": "audit.model",
    "Verdict": "audit.model", "AuditResult": "audit.pipeline", "run_audit": "audit.pipeline",
    "write_audit": "audit.report", "AuditTarget": "audit.target", "from_file": "audit.target",
    "from_run": "audit.target",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'audit' has no attribute {name!r}")
