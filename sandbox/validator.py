"""Static white-box validator: the structural-validity indicator V(pi).

:func:`validate_policy` inspects a policy file's source with :mod:`ast` only; nothing is
executed. It accepts the policy contract of :mod:`inventory.policy` written in a plain,
auditable subset of Python, and gives one clear reason per violation.

Rules:

* size: at most :data:`MAX_BYTES` bytes and :data:`MAX_LINES` lines; it must parse;
* complexity: at most :data:`MAX_NODES` AST nodes, :data:`MAX_DEPTH` nesting depth,
  :data:`MAX_FUNCTIONS` functions;
* imports: only modules in :data:`ALLOWED_IMPORTS` (and their submodules, e.g.
  ``numpy.linalg``); no relative imports, no ``import *``;
* forbidden names (called or merely referenced): ``exec``, ``eval``, ``compile``, ``open``,
  ``__import__``, ``getattr``/``setattr``/``delattr``, ``globals``, ``locals``, ``vars``,
  ``breakpoint``, ``input``, ``memoryview``, ``help``, ``exit``/``quit``, and the modules of
  :data:`FORBIDDEN_MODULES` (os, sys, subprocess, socket, ctypes, ...);
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
from dataclasses import dataclass

MAX_BYTES = 20_000
MAX_LINES = 400
MAX_NODES = 4_000
MAX_DEPTH = 40
MAX_FUNCTIONS = 30
MAX_PARAMS = 12

ALLOWED_IMPORTS = frozenset({
    "math", "numpy", "statistics", "functools", "itertools", "collections", "dataclasses", "typing",
    "bisect", "heapq", "fractions", "decimal", "operator", "enum", "abc", "cmath", "numbers",
})
FORBIDDEN_MODULES = frozenset({
    "os", "sys", "subprocess", "socket", "ctypes", "gc", "inspect", "importlib", "builtins", "pickle",
    "marshal", "shutil", "signal", "threading", "multiprocessing", "io", "pathlib", "tempfile", "resource",
    "pty", "fcntl", "mmap", "code", "codeop", "runpy", "urllib", "http", "requests", "asyncio", "select",
    "selectors", "shelve", "dbm", "sqlite3", "zipimport", "pkgutil", "site", "sysconfig", "platform",
    "traceback", "types", "weakref", "atexit", "faulthandler", "tracemalloc", "posix", "pwd", "grp",
    "glob", "fnmatch", "copyreg", "ssl", "ftplib", "smtplib", "telnetlib", "webbrowser", "random",
})
FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint", "input", "memoryview", "help", "exit", "quit", "dir", "object", "type",
    "super", "classmethod", "staticmethod", "property", "__builtins__", "__loader__", "__spec__",
})
FORBIDDEN_ATTRS = frozenset({
    # numpy escape hatches that reach files, the OS or raw memory
    "ctypeslib", "ctypes", "load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt",
    "fromfile", "tofile", "memmap", "open_memmap", "lib", "f2py", "distutils", "testing", "DataSource",
    "frombuffer", "show_config", "system", "popen",
})


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

    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in FORBIDDEN_MODULES:
                    add(f"line {line}: import of forbidden module `{alias.name}`")
                elif top not in ALLOWED_IMPORTS:
                    add(f"line {line}: import of `{alias.name}` is not allowed (allowed: {', '.join(sorted(ALLOWED_IMPORTS))})")
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            top = mod.split(".")[0]
            if node.level:
                add(f"line {line}: relative imports are not allowed")
            elif mod == "__future__":
                pass
            elif top in FORBIDDEN_MODULES:
                add(f"line {line}: import from forbidden module `{mod}`")
            elif top not in ALLOWED_IMPORTS:
                add(f"line {line}: import from `{mod}` is not allowed (allowed: {', '.join(sorted(ALLOWED_IMPORTS))})")
            for alias in node.names:
                if alias.name == "*":
                    add(f"line {line}: `from {mod} import *` is not allowed")
                elif _dunder(alias.name) or alias.name in FORBIDDEN_ATTRS:
                    add(f"line {line}: importing `{alias.name}` from `{mod}` is not allowed")
        elif isinstance(node, ast.Name):
            if node.id in FORBIDDEN_NAMES:
                add(f"line {line}: use of `{node.id}` is not allowed")
            elif _dunder(node.id):
                add(f"line {line}: dunder name `{node.id}` is not allowed")
            elif node.id in FORBIDDEN_MODULES:
                add(f"line {line}: reference to module name `{node.id}` is not allowed")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("__") or (node.attr.startswith("_") and node.attr.endswith("_") and len(node.attr) > 2):
                add(f"line {line}: access to dunder/private attribute `.{node.attr}` is not allowed")
            elif node.attr in FORBIDDEN_ATTRS:
                add(f"line {line}: attribute `.{node.attr}` is not allowed (file, OS or raw-memory access)")
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
