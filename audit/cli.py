"""``invevolve audit``: audit a run's candidate or a policy file before it reaches a warehouse.

    invevolve audit RUN_DIR                       # the deployed policy of a run
    invevolve audit RUN_DIR --candidate ID        # any candidate of the run
    invevolve audit --workspace W POLICY.py       # a policy file (tuned by the audit)

Exit status: 0 when no blocking check failed, 4 when one did (docs/audit.md lists them),
2 for bad input (missing or malformed run directory, workspace or policy file).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from sandbox import BACKEND_CHOICES

log = logging.getLogger("invevolve.audit")

EXIT_BAD_INPUT = 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``audit`` subcommand to the ``invevolve`` parser."""
    p = sub.add_parser("audit", help="audit a run's candidate or a policy file (probes, stress, plots, report)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", type=Path, help="a run directory, or with --workspace a policy file")
    p.add_argument("--workspace", type=Path, help="audit TARGET as a policy file on this workspace")
    p.add_argument("--candidate", help="candidate id in the run (default: the deployed policy)")
    p.add_argument("--out", type=Path, help="output folder (default RUN/audit/<candidate> or ./<policy>-audit)")
    p.add_argument("--sandbox", choices=BACKEND_CHOICES, default="auto", help="where the policy runs")
    p.add_argument("--trials", type=int, default=50, help="Optuna trials when tuning a policy file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-order", type=float, help="stated cap on one order (default (L + 2) x max replay demand)")
    p.add_argument("--long-days", type=int, default=1000, help="length of the long-horizon replay")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from audit.config import AuditConfig
    from audit.pipeline import run_audit
    from audit.report import exit_code, write_audit
    from audit.target import TargetMode, from_file, from_run
    from evolve.config import ConfigError
    from inventory.workspace import WorkspaceError
    from sandbox.backends import SandboxUnavailable

    start = time.perf_counter()
    try:
        cfg = AuditConfig(sandbox=args.sandbox, seed=args.seed, trials=args.trials, max_order=args.max_order,
                          long_days=args.long_days)
        if args.workspace is not None:
            if args.candidate:
                raise ConfigError("--candidate names a run's candidate; it cannot be used with --workspace")
            target = from_file(args.workspace, args.target, args.out)
        else:
            if args.target.is_file():
                raise ConfigError(f"{args.target}: is a file; audit a policy file with --workspace W {args.target}")
            target = from_run(args.target, args.candidate, args.out)
        result = run_audit(target, cfg)
        out = write_audit(result)
    except (ConfigError, WorkspaceError, SandboxUnavailable, FileNotFoundError, FileExistsError) as exc:
        log.error("%s", exc)
        return EXIT_BAD_INPUT
    if target.mode is TargetMode.RUN and target.run_root is not None and args.out is None:
        _refresh_run_report(target.run_root)
    seconds = time.perf_counter() - start
    print(f"audit of {target.candidate_id}: {'PASSED' if result.passed else 'BLOCKED'} "
          f"({sum(c.verdict.value == 'warn' for c in result.checks)} warnings) in {seconds:.1f} s")
    for check in result.blocking_failures:
        print(f"  blocking: {check.key}: {check.reason}")
    for name in ("report.html", "report.md", "audit.json"):
        print(f"  {out / name}")
    return exit_code(result)


def _refresh_run_report(root: Path) -> None:
    """Re-render the run's report.html so that it links the new audit."""
    try:
        from evolve.report_html import write_run_report
        write_run_report(root)
    except Exception as exc:  # noqa: BLE001 - the audit itself is written; the run report is a convenience
        log.warning("could not refresh %s/report.html: %s", root, exc)


if __name__ == "__main__":  # python -m audit.cli ... (same arguments as `invevolve audit`)
    from cli.logs import setup_logging
    parser = argparse.ArgumentParser(prog="audit")
    register(parser.add_subparsers(dest="cmd", required=True))
    setup_logging(0)
    sys.exit(main(parser.parse_args(["audit", *sys.argv[1:]])))
