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
from audit.config import AuditConfig
from audit.model import BLOCKING, Check, CheckId, Verdict
from audit.pipeline import AuditResult, run_audit
from audit.report import write_audit
from audit.target import AuditTarget, from_file, from_run

__all__ = ["BLOCKING", "AuditConfig", "AuditResult", "AuditTarget", "Check", "CheckId", "Verdict", "from_file",
           "from_run", "run_audit", "write_audit"]
