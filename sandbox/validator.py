"""Static white-box validator: the structural-validity indicator V(pi).

:func:`validate_policy` inspects a policy file's source with :mod:`ast` only; nothing is
executed. It accepts the policy contract of :mod:`inventory.policy` written in a plain,
auditable subset of Python, and gives one clear reason per violation.

Rules:

* size: at most :data:`MAX_BYTES` bytes and :data:`MAX_LINES` lines; it must parse;
* complexity: at most :data:`MAX_NODES` AST nodes, :data:`MAX_DEPTH` nesting depth,
  :data:`MAX_FUNCTIONS` functions;
* imports: only the modules of :data:`sandbox.validator_rules.MODULE_ATTRS` (exact paths:
  ``numpy`` and ``numpy.linalg``, not ``numpy.random``); no relative imports, no ``import *``;
* **module attributes are an allowlist**: a module may be used only as ``mod.name`` with
  ``name`` in its list (``np.maximum`` yes; ``np.load``, ``np.lib``, ``dataclasses.sys``,
  ``statistics.random``, ``operator.attrgetter`` no), ``from mod import name`` likewise,
  and a module name never appears bare (``f(np)``, ``m = np``), so it cannot be aliased
  past the check;
* **builtins are an allowlist** (:data:`~sandbox.validator_rules.BUILTINS`): a name the file
  does not bind itself can only resolve through builtins, so any other builtin is rejected;
  ``exec``, ``eval``, ``open``, ``getattr``, ``type``... are rejected wherever they appear,
  even as a parameter name;
* object attributes: no frame, code or generator internals (``gi_frame``, ``f_back``,
  ``tb_frame``, ``co_*``...), no ``.format``/``.format_map`` (their fields traverse
  attributes; use f-strings), no ``.base`` (the array a view was cut from), no file dumps;
* randomness is rejected (``random``, ``np.random``): deterministic rules are what a
  certificate and an audit can rely on; the worker seeds the global generators anyway;
* no dunder names or dunder attribute access (``x.__class__``, ``__builtins__``);
  ``__name__ == "__main__"`` guards are not allowed either;
* no ``global``/``nonlocal``, ``async``, ``yield`` at module level, ``lambda`` default
  traps are fine (they are ordinary code);
* contract: a module-level ``def order(obs, params)`` with exactly those two positional
  parameters, no defaults or ``*args``; and either a ``PARAMS`` dict literal (values
  ``(low, high)`` or ``(low, high, "int"|"log")`` of numeric literals) or a
  ``def search_space(info)`` function. A file with neither is accepted only if ``order``
  never reads ``params`` (a parameter-free policy).
* module body: only imports, function definitions, and assignments of literals (constants,
  ``PARAMS``); no statements that run code at import time beyond that.

It is a filter, not the security boundary: anything it passes still runs in the sandbox.
"""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

from sandbox.validator_rules import (ATTR_REASONS, BUILTINS, FORBIDDEN_MODULES, FORBIDDEN_NAMES, MODULE_ATTRS,
                                     MODULES, OBJECT_ATTR_PREFIXES, OBJECT_ATTRS, SUBMODULES)

MAX_BYTES = 20_000
MAX_LINES = 400
MAX_NODES = 4_000
MAX_DEPTH = 40
MAX_FUNCTIONS = 30
MAX_PARAMS = 12

ALLOWED_IMPORTS = frozenset(m.split(".")[0] for m in MODULES if m != "__future__")
_PY_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Validation:
    """Outcome of :func:`validate_policy`. ``ok`` iff ``reasons`` is empty."""

    ok: bool
    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.ok


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _depth(node: ast.AST, limit: int) -> int:
    best = 0
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        if best > limit:
            return best
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return best


def _literal_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _check_params_literal(value: ast.AST, reasons: list[str]) -> None:
    if not isinstance(value, ast.Dict):
        reasons.append("PARAMS must be a dict literal like {'S': (0.0, 60.0), 'r': (0, 30, 'int')}")
        return
    if len(value.keys) > MAX_PARAMS:
        reasons.append(f"PARAMS has {len(value.keys)} entries; at most {MAX_PARAMS} tunable parameters")
    for k, v in zip(value.keys, value.values):
        if not (isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.isidentifier()):
            reasons.append("PARAMS keys must be string literals that are identifiers")
            continue
        if not isinstance(v, (ast.Tuple, ast.List)) or len(v.elts) not in (2, 3):
            reasons.append(f"PARAMS[{k.value!r}] must be (low, high) or (low, high, 'int'|'log')")
            continue
        if not all(_literal_number(e) for e in v.elts[:2]):
            reasons.append(f"PARAMS[{k.value!r}]: low and high must be numeric literals")
        if len(v.elts) == 3 and not (isinstance(v.elts[2], ast.Constant) and v.elts[2].value in ("int", "log")):
            reasons.append(f"PARAMS[{k.value!r}]: third entry must be 'int' or 'log'")


def _check_signature(fn: ast.FunctionDef, expected: tuple[str, ...], reasons: list[str]) -> None:
    a = fn.args
    names = tuple(x.arg for x in a.posonlyargs + a.args)
    if len(names) != len(expected) or a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.kw_defaults:
        reasons.append(f"`{fn.name}` must have exactly the signature {fn.name}({', '.join(expected)}) "
                       f"(found {fn.name}({', '.join(names)}{', ...' if a.vararg or a.kwarg or a.kwonlyargs else ''}))")
    if fn.decorator_list:
        reasons.append(f"`{fn.name}` must not be decorated")


def _module_statement_ok(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
        return True  # docstring
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        value = stmt.value
        if value is None:
            return True
        try:
            ast.literal_eval(value)
            return True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    return False


def validate_policy(source: str) -> Validation:
    """Check ``source`` statically against the policy contract; never executes it."""
    reasons: list[str] = []
    if not isinstance(source, str):
        return Validation(False, ("source must be text",))
    size = len(source.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        reasons.append(f"file is {size} bytes; the limit is {MAX_BYTES}")
    lines = source.count("\n") + 1
    if lines > MAX_LINES:
        reasons.append(f"file has {lines} lines; the limit is {MAX_LINES}")
    if reasons:
        return Validation(False, tuple(reasons))
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        return Validation(False, (f"syntax error at line {exc.lineno}: {exc.msg}",))
    except (ValueError, RecursionError, MemoryError) as exc:
        return Validation(False, (f"unparsable source: {type(exc).__name__}",))

    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        reasons.append(f"too complex: {nodes} syntax nodes (limit {MAX_NODES})")
    depth = _depth(tree, MAX_DEPTH)
    if depth > MAX_DEPTH:
        reasons.append(f"too deeply nested (depth > {MAX_DEPTH})")
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    if len(funcs) > MAX_FUNCTIONS:
        reasons.append(f"too many functions: {len(funcs)} (limit {MAX_FUNCTIONS})")

    seen: set[str] = set()

    def add(msg: str) -> None:
        if msg not in seen:
            seen.add(msg)
            reasons.append(msg)

    modvars = _module_bindings(tree, add)
    assigned = _bound_names(tree)
    for name in modvars:
        if name in assigned:
            add(f"imported module name `{name}` is rebound; use another name")
    bound = assigned | {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}

    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue  # checked by _module_bindings
        elif isinstance(node, ast.Name):
            if node.id in FORBIDDEN_NAMES:
                add(f"line {line}: use of `{node.id}` is not allowed")
            elif _dunder(node.id):
                add(f"line {line}: dunder name `{node.id}` is not allowed")
            elif node.id in modvars:
                if not (isinstance(parents.get(node), ast.Attribute) and parents[node].value is node):
                    add(f"line {line}: module `{node.id}` may only be used as `{node.id}.<name>`")
            elif node.id in FORBIDDEN_MODULES and node.id not in bound:
                add(f"line {line}: reference to module name `{node.id}` is not allowed")
            elif node.id not in bound and node.id in _PY_BUILTINS and node.id not in BUILTINS:
                # An unbound name can only resolve through builtins (a name in no scope at all is
                # a NameError, harmless): so every builtin that is not on the allowlist is rejected.
                add(f"line {line}: builtin `{node.id}` is not allowed (allowed: the BUILTINS of sandbox/validator_rules.py)")
        elif isinstance(node, ast.arg):
            if node.arg in FORBIDDEN_NAMES or node.arg in modvars:
                add(f"line {line}: parameter name `{node.arg}` is not allowed")
        elif isinstance(node, ast.Attribute):
            mod = _module_of(node.value, modvars)
            if mod is not None:
                _check_module_attr(node, mod, parents, add)
            elif node.attr.startswith("__") or (node.attr.startswith("_") and node.attr.endswith("_") and len(node.attr) > 2):
                add(f"line {line}: access to dunder/private attribute `.{node.attr}` is not allowed")
            elif node.attr in OBJECT_ATTRS or node.attr.startswith(OBJECT_ATTR_PREFIXES):
                why = ATTR_REASONS.get(node.attr, "frames, formatting traversal or raw data")
                add(f"line {line}: attribute `.{node.attr}` is not allowed ({why})")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            add(f"line {line}: `global`/`nonlocal` are not allowed")
        elif isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
            add(f"line {line}: async code is not allowed")
        elif isinstance(node, ast.ClassDef):
            add(f"line {line}: class definitions are not allowed (use functions and dicts)")
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            for h in node.handlers:
                if h.type is None or (isinstance(h.type, ast.Name) and h.type.id in ("BaseException",)):
                    add(f"line {getattr(h, 'lineno', line)}: bare `except:`/`except BaseException` is not allowed")
        elif isinstance(node, ast.FunctionDef):
            for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
                if _dunder(arg.arg):
                    add(f"line {line}: dunder parameter name `{arg.arg}` is not allowed")
            if _dunder(node.name):
                add(f"line {line}: dunder function name `{node.name}` is not allowed")
            if node.name in FORBIDDEN_NAMES:
                add(f"line {line}: function name `{node.name}` is not allowed")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _mentions_dunder(node.value):
            add(f"line {line}: string literal naming a dunder attribute is not allowed")

    for stmt in tree.body:
        if not _module_statement_ok(stmt):
            add(f"line {stmt.lineno}: module-level `{type(stmt).__name__}` runs code at import time; only imports, "
                f"functions and literal assignments are allowed at module level")

    top_funcs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    order = top_funcs.get("order")
    if order is None:
        add("missing the entry point: define a module-level function `order(obs, params)`")
    else:
        _check_signature(order, ("obs", "params"), reasons)
    params_assign = [s for s in tree.body if isinstance(s, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "PARAMS" for t in s.targets)]
    params_ann = [s for s in tree.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                  and s.target.id == "PARAMS"]
    space_fn = top_funcs.get("search_space")
    if params_assign or params_ann:
        for s in params_assign:
            _check_params_literal(s.value, reasons)
        for s in params_ann:
            if s.value is None:
                add("PARAMS is annotated but never assigned")
            else:
                _check_params_literal(s.value, reasons)
        if space_fn is not None:
            add("define either PARAMS or search_space(info), not both")
    elif space_fn is not None:
        _check_signature(space_fn, ("info",), reasons)
    elif order is not None and _reads(order, order.args.args[1].arg if len(order.args.args) > 1 else "params"):
        add("order() reads params but the file defines neither a PARAMS dict nor search_space(info)")
    return Validation(not reasons, tuple(reasons))


def _mentions_dunder(text: str) -> bool:
    i = text.find("__")
    while i != -1:
        j = text.find("__", i + 2)
        if j == -1:
            return False
        inner = text[i + 2:j]
        if inner.isidentifier() and inner and not inner.startswith("_"):
            return True
        i = text.find("__", j + 2)
    return False


def _reads(fn: ast.FunctionDef, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(fn) if n is not fn)


def _module_bindings(tree: ast.Module, add) -> dict[str, str]:
    """name -> module path for every import; rejects what the allowlist does not name."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Import):
            for alias in node.names:
                mod = alias.name
                if not _import_ok(mod, line, add):
                    continue
                name, path = (alias.asname, mod) if alias.asname else (mod.split(".")[0], mod.split(".")[0])
                if out.get(name, path) != path:
                    add(f"line {line}: `{name}` names two different modules")
                out[name] = path
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                add(f"line {line}: relative imports are not allowed")
                continue
            if mod == "__future__" or not _import_ok(mod, line, add):
                continue
            for alias in node.names:
                bound = alias.asname or alias.name
                if alias.name == "*":
                    add(f"line {line}: `from {mod} import *` is not allowed")
                elif f"{mod}.{alias.name}" in SUBMODULES:
                    if out.get(bound, f"{mod}.{alias.name}") != f"{mod}.{alias.name}":
                        add(f"line {line}: `{bound}` names two different modules")
                    out[bound] = f"{mod}.{alias.name}"
                elif alias.name not in MODULE_ATTRS[mod]:
                    why = ATTR_REASONS.get(alias.name, f"not among the names {mod} exposes to policies")
                    add(f"line {line}: importing `{alias.name}` from `{mod}` is not allowed ({why})")
    return out


def _import_ok(mod: str, line, add) -> bool:
    top = mod.split(".")[0]
    if mod in MODULE_ATTRS:
        return True
    if top in FORBIDDEN_MODULES:
        add(f"line {line}: import of forbidden module `{mod}`")
    elif mod.split(".")[-1] in ATTR_REASONS:
        add(f"line {line}: import of `{mod}` is not allowed ({ATTR_REASONS[mod.split('.')[-1]]})")
    else:
        add(f"line {line}: import of `{mod}` is not allowed (allowed: {', '.join(sorted(MODULE_ATTRS))})")
    return False


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the file binds anywhere (assignment, parameter, def, loop, except, match)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            out.add(node.rest)
    return out


def _module_of(node: ast.AST, modvars: dict[str, str]) -> str | None:
    """The module path an expression denotes (``np`` or ``np.linalg``), or None."""
    if isinstance(node, ast.Name):
        return modvars.get(node.id)
    if isinstance(node, ast.Attribute):
        parent = _module_of(node.value, modvars)
        if parent is not None and f"{parent}.{node.attr}" in SUBMODULES:
            return f"{parent}.{node.attr}"
    return None


def _check_module_attr(node: ast.Attribute, mod: str, parents: dict, add) -> None:
    line = getattr(node, "lineno", "?")
    sub = f"{mod}.{node.attr}"
    if sub in SUBMODULES:
        parent = parents.get(node)
        if not (isinstance(parent, ast.Attribute) and parent.value is node):
            add(f"line {line}: module `{sub}` may only be used as `{sub}.<name>`")
        return
    if node.attr not in MODULE_ATTRS.get(mod, frozenset()):
        why = ATTR_REASONS.get(node.attr, f"not among the names {mod} exposes to policies")
        add(f"line {line}: `{mod}.{node.attr}` (attribute `.{node.attr}`) is not allowed ({why})")
