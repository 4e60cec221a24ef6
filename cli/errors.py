"""Exit codes of ``evolve`` and ``invevolve``, and the one place that turns an exception into one.

Every command ends through :func:`guarded`: an expected failure prints one line
(``PROG: error: MESSAGE``) on stderr and exits with its documented code; only an unexpected
exception (a bug) prints its traceback, and only with ``-v``.
"""
from __future__ import annotations

import logging
import sys
from enum import IntEnum
from typing import Callable

log = logging.getLogger("invevolve.cli")


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1          # a bug: rerun with -v for the traceback and report it
    BAD_INPUT = 2         # command line, config file, workspace, run directory (also: busy, unwritable) or policy file
    UNAVAILABLE = 3       # the proposer (LLM endpoint/backend) or the sandbox asked for cannot run
    POLICY_REJECTED = 4   # `invevolve score`: the policy is invalid or failed in the trusted evaluator
    INTERRUPTED = 130     # Ctrl-C (the run directory can be resumed)


EXIT_CODES_HELP = """exit codes:
  0    success (evolve: a policy was deployed; it may be the reference baseline, the report says why)
  1    internal error (a bug; rerun with -v for the traceback)
  2    bad input: a flag, config file, workspace, run directory or policy file (the message names it)
  3    unavailable: the LLM proposer (no API key, dead endpoint, backend not installed) or the sandbox
       backend asked for; evolve still finishes and reports when the proposer fails mid-run
  4    the policy was judged and failed: invevolve score (rejected by the validator, raised, bad output)
       or invevolve audit (a blocking check failed, see docs/audit.md)
  130  interrupted (evolve --resume RUN_DIR continues the run)"""


class Unavailable(RuntimeError):
    """A component the command needs cannot run here (exit code 3)."""


def _input_errors() -> tuple[type[BaseException], ...]:
    from evaluation.score import PolicyFileError
    from evolve.rundir import RunDirError
    from inventory.errors import ConfigError
    from inventory.workspace import WorkspaceError

    types: list[type[BaseException]] = [ConfigError, WorkspaceError, PolicyFileError, RunDirError, FileExistsError,
                                        FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError]
    try:
        from datagen.extras import MissingExtraError
        types.append(MissingExtraError)
    except ImportError:
        pass
    return tuple(types)


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    from evolve.executor import WorkerLost
    from evolve.proposer import ProposerUnavailable
    from sandbox.backends import SandboxUnavailable

    return (Unavailable, ProposerUnavailable, SandboxUnavailable, WorkerLost)


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one-line message for ``exc``."""
    message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "interrupted"
    if isinstance(exc, _unavailable_errors()):
        return ExitCode.UNAVAILABLE, message
    if isinstance(exc, _input_errors()):
        return ExitCode.BAD_INPUT, message
    return ExitCode.INTERNAL, f"internal error: {type(exc).__name__}: {message} (rerun with -v for the traceback)"


def guarded(prog: str, fn: Callable[[], int], *, verbose: bool = False,
            on_interrupt: Callable[[], str | None] | None = None) -> int:
    """Run ``fn`` and map what it raises to an exit code; see the module docstring."""
    try:
        return int(fn())
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - this is the CLI's one boundary
        code, message = classify(exc)
        if code is ExitCode.INTERRUPTED and on_interrupt is not None:
            message = on_interrupt() or message
        if code is ExitCode.INTERNAL and verbose:
            log.exception("%s", message)
        sys.stderr.write(f"{prog}: error: {message}\n")
        sys.stderr.flush()
        return int(code)
