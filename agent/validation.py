"""Structural check of a submitted policy before it leaves the episode.

The white-box validator is :func:`sandbox.validator.validate_policy` (owned by the sandbox
package). While that module is not installed, :func:`validate_submission` falls back to a
conservative static check of its own (parse, ``order`` defined, imports from a small
allow-list only, no dynamic-execution builtins or dunder access) and says so in the reasons
it returns on failure. Either way this is a pre-filter: the search loop validates again and
the trusted evaluator runs the policy in its sandbox, so nothing here decides a score.
"""
from __future__ import annotations

import ast
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_SOURCE_BYTES = 100_000
ALLOWED_IMPORTS = frozenset({"math", "numpy", "statistics", "collections", "itertools", "functools", "typing",
                             "dataclasses", "bisect", "heapq", "__future__"})
FORBIDDEN_NAMES = frozenset({"open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "getattr",
                             "setattr", "delattr", "input", "breakpoint", "exit", "quit", "help", "memoryview"})


@dataclass(frozen=True)
class SubmissionCheck:
    ok: bool
    reasons: tuple[str, ...]
    validator: str        # "sandbox.validator" or "agent.fallback"


def _sandbox_validator():  # type: ignore[no-untyped-def]
    try:
        from sandbox.validator import validate_policy  # owned by the sandbox package
    except ImportError:
        return None
    return validate_policy


def fallback_check(source: str) -> tuple[str, ...]:
    """Reasons ``source`` is not an acceptable policy file (empty when it is)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return (f"syntax error at line {exc.lineno}: {exc.msg}",)
    reasons: list[str] = []
    top_defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    top_assigns = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    if "order" not in top_defs:
        reasons.append("no top-level function `order(obs, params)`")
    if "PARAMS" not in top_assigns and "search_space" not in top_defs:
        reasons.append("no `PARAMS` dict or `search_space(info)` function")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in ALLOWED_IMPORTS:
                    reasons.append(f"line {node.lineno}: import of {alias.name!r} is not allowed")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] not in ALLOWED_IMPORTS or node.level:
                reasons.append(f"line {node.lineno}: import from {node.module!r} is not allowed")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            reasons.append(f"line {node.lineno}: use of {node.id!r} is not allowed")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            reasons.append(f"line {node.lineno}: dunder attribute {node.attr!r} is not allowed")
    return tuple(dict.fromkeys(reasons))


def validate_submission(source_bytes: bytes) -> tuple[str | None, SubmissionCheck]:
    """Decode and check a submitted file: (source or None when undecodable, verdict)."""
    if len(source_bytes) > MAX_SOURCE_BYTES:
        return None, SubmissionCheck(False, (f"file is {len(source_bytes)} bytes; the limit is {MAX_SOURCE_BYTES}",), "agent")
    try:
        source = source_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, SubmissionCheck(False, (f"file is not UTF-8 text ({exc})",), "agent")
    if not source.strip():
        return source, SubmissionCheck(False, ("file is empty",), "agent")
    validate = _sandbox_validator()
    if validate is not None:
        verdict = validate(source)
        return source, SubmissionCheck(bool(verdict.ok), tuple(str(r) for r in verdict.reasons), "sandbox.validator")
    reasons = fallback_check(source)
    if reasons:
        reasons += ("(checked by the agent's fallback validator; sandbox.validator is not installed)",)
    return source, SubmissionCheck(not reasons, reasons, "agent.fallback")
