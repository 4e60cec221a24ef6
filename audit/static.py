"""Static reading of a policy file: what it is, what it reads, and what it claims.

Everything here works on the source text with :mod:`ast`; nothing is executed. Besides
the validator's verdict it extracts what an auditor reads first: the observation fields
and features the rule names, its constants, size and complexity, any source of
randomness, and two *claims* the behaviour probes then test:

* ``claims_monotone``: the rule computes a gap ``level - obs.position`` (or on hand /
  pipeline), the order-up-to structure of every SPEC §3 baseline, which orders less the
  more stock there is;
* ``claimed_features``: declared feature names that appear as string literals in the code
  (``obs.features["promo"]`` or a ``FEATURES = ("promo",)`` tuple), and ``claims_weekday``
  when it reads ``obs.date``.
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable

from evaluation.factory import policy_validator
from inventory.sequence import FeatureSpec

STATE_FIELDS = ("on_hand", "pipeline", "position")
TIME_FIELDS = ("t", "date")
COST_FIELDS = ("h", "p", "lead_time")
RANDOM_ATTRS = frozenset({"random", "default_rng", "RandomState", "Generator", "SeedSequence"})
RANDOM_NAMES = frozenset({"random", "secrets", "uuid"})
_BRANCHES = (ast.If, ast.For, ast.While, ast.IfExp, ast.ExceptHandler, ast.comprehension, ast.Assert)


@dataclass(frozen=True)
class FeatureUse:
    name: str
    kind: str
    availability: str
    horizon: int
    description: str
    lines: tuple[int, ...]

    @property
    def claimed(self) -> bool:
        return bool(self.lines)


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    line: int
    lines: int
    complexity: int


@dataclass
class StaticReport:
    valid: bool
    reasons: tuple[str, ...]
    parsed: bool = False
    fields_read: dict[str, tuple[int, ...]] = field(default_factory=dict)
    features: tuple[FeatureUse, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, tuple[int, ...]] = field(default_factory=dict)
    space_kind: str = "none"          # PARAMS | search_space | none
    size_bytes: int = 0
    lines: int = 0
    code_lines: int = 0
    ast_nodes: int = 0
    max_depth: int = 0
    functions: tuple[FunctionInfo, ...] = ()
    randomness: tuple[str, ...] = ()
    claims_monotone: bool = False
    gap_lines: tuple[int, ...] = ()
    claims_weekday: bool = False

    @property
    def reads_state(self) -> bool:
        return any(f in self.fields_read for f in STATE_FIELDS)

    @property
    def reads_demand(self) -> bool:
        return "demand" in self.fields_read

    def claimed_features(self) -> list[str]:
        return [f.name for f in self.features if f.claimed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "validator_reasons": list(self.reasons), "parsed": self.parsed,
            "fields_read": {k: list(v) for k, v in self.fields_read.items()},
            "features": [{"name": f.name, "kind": f.kind, "availability": f.availability, "horizon": f.horizon,
                          "claimed": f.claimed, "lines": list(f.lines)} for f in self.features],
            "constants": self.constants, "numbers": {k: list(v) for k, v in self.numbers.items()},
            "space_kind": self.space_kind,
            "size": {"bytes": self.size_bytes, "lines": self.lines, "code_lines": self.code_lines,
                     "ast_nodes": self.ast_nodes, "max_depth": self.max_depth},
            "functions": [{"name": f.name, "line": f.line, "lines": f.lines, "complexity": f.complexity}
                          for f in self.functions],
            "randomness": list(self.randomness), "claims_monotone": self.claims_monotone,
            "gap_lines": list(self.gap_lines), "claims_weekday": self.claims_weekday,
        }


def _docstring_nodes(tree: ast.Module) -> set[int]:
    out = set()
    for node in [tree, *ast.walk(tree)]:
        if isinstance(node, (ast.Module, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def _obs_names(tree: ast.Module) -> set[str]:
    """The name ``order`` calls its first argument, and helpers' parameters of that name."""
    names = {"obs"}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "order" and node.args.args:
            names.add(node.args.args[0].arg)
    return names


def _reads_state(node: ast.AST, obs: set[str]) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr in STATE_FIELDS and isinstance(n.value, ast.Name)
               and n.value.id in obs for n in ast.walk(node))


def _complexity(fn: ast.FunctionDef) -> int:
    score = 1
    for n in ast.walk(fn):
        if isinstance(n, _BRANCHES):
            score += 1
        elif isinstance(n, ast.BoolOp):
            score += len(n.values) - 1
    return score


def _depth(node: ast.AST) -> int:
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return best


def read_source(source: str, features: Iterable[FeatureSpec]) -> StaticReport:
    """The static report of ``source`` for a workspace declaring ``features``."""
    ok, reasons = policy_validator()(source)
    specs = tuple(features)
    rep = StaticReport(valid=ok, reasons=tuple(reasons), size_bytes=len(source.encode("utf-8", "replace")),
                       lines=source.count("\n") + (0 if source.endswith("\n") else 1),
                       code_lines=sum(1 for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")))
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        rep.features = tuple(FeatureUse(s.name, s.kind.value, s.availability.value, s.horizon, s.description, ())
                             for s in specs)
        return rep
    rep.parsed = True
    rep.ast_nodes = sum(1 for _ in ast.walk(tree))
    rep.max_depth = _depth(tree)
    obs = _obs_names(tree)
    docs = _docstring_nodes(tree)
    fields: dict[str, set[int]] = {}
    strings: dict[str, set[int]] = {}
    numbers: dict[str, set[int]] = {}
    randomness: list[str] = []
    gaps: set[int] = set()
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in obs:
            fields.setdefault(node.attr, set()).add(line)
        if isinstance(node, ast.Constant) and id(node) not in docs:
            if isinstance(node.value, str):
                strings.setdefault(node.value, set()).add(line)
            elif isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                numbers.setdefault(repr(node.value), set()).add(line)
        if isinstance(node, ast.Attribute) and node.attr in RANDOM_ATTRS:
            randomness.append(f"line {line}: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in RANDOM_NAMES:
            randomness.append(f"line {line}: {node.id}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            randomness += [f"line {line}: import {m}" for m in mods if m.split(".")[0] in RANDOM_NAMES or "random" in m]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _reads_state(node.right, obs):
            gaps.add(line)
    rep.fields_read = {k: tuple(sorted(v)) for k, v in sorted(fields.items())}
    rep.numbers = {k: tuple(sorted(v)) for k, v in sorted(numbers.items(), key=lambda kv: float(kv[0]))}
    rep.features = tuple(FeatureUse(s.name, s.kind.value, s.availability.value, s.horizon, s.description,
                                    tuple(sorted(strings.get(s.name, ())))) for s in specs)
    rep.randomness = tuple(dict.fromkeys(randomness))
    rep.gap_lines = tuple(sorted(gaps))
    rep.claims_monotone = bool(gaps)
    rep.claims_weekday = "date" in fields
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and stmt.value is not None:
                if t.id == "PARAMS":
                    rep.space_kind = "PARAMS"
                rep.constants[t.id] = ast.get_source_segment(source, stmt.value) or ast.dump(stmt.value)
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "search_space":
            rep.space_kind = "search_space"
    rep.functions = tuple(FunctionInfo(f.name, f.lineno, (f.end_lineno or f.lineno) - f.lineno + 1, _complexity(f))
                          for f in tree.body if isinstance(f, ast.FunctionDef))
    return rep


def side_by_side_diff(reference: str, candidate: str, ref_name: str, cand_name: str) -> str:
    """HTML table (difflib.HtmlDiff; it escapes every line) of reference vs candidate source."""
    return difflib.HtmlDiff(tabsize=4, wrapcolumn=72).make_table(
        reference.splitlines(), candidate.splitlines(), ref_name, cand_name, context=False)


def unified_diff(reference: str, candidate: str, ref_name: str, cand_name: str) -> str:
    return "".join(difflib.unified_diff(reference.splitlines(True), candidate.splitlines(True), ref_name, cand_name))
