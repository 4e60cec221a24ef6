"""Canonical form of policy source: two files that differ only in comments, docstrings,
formatting or the names of local variables have the same form, so a search can reject the
second before spending a tuning budget on it.
"""
from __future__ import annotations

import ast
import hashlib


class _Normalise(ast.NodeTransformer):
    """Drop docstrings and rename function-local variables to v0, v1, ... in order of use."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.body = [s for s in node.body if not _is_docstring(s)] or [ast.Pass()]
        names: dict[str, str] = {}
        args = {a.arg for a in node.args.args}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store) and sub.id not in args:
                names.setdefault(sub.id, f"v{len(names)}")
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in names:
                sub.id = names[sub.id]
        return node


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def canonical_source(source: str) -> str:
    """A digest of the normalised syntax tree, or of the raw text when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    tree.body = [s for s in tree.body if not _is_docstring(s)]
    tree = _Normalise().visit(tree)
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode("utf-8")).hexdigest()[:16]
