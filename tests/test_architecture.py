"""The import directions of the architecture guide (ARCHITECTURE.md), checked on the source.

Every ``import`` statement counts, including the ones inside functions: a lazy import is
still a dependency. The package graph must be acyclic, and the named layers may only import
what the guide allows.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("inventory", "evaluation", "evolve", "certify", "sandbox", "agent", "datagen", "cli", "audit", "orpr",
            "training", "bench")
# package -> the project packages it may import (None: any, as long as the graph stays acyclic)
ALLOWED: dict[str, frozenset[str] | None] = {
    "inventory": frozenset(),                                   # the ground floor
    "certify": frozenset(),                                     # numbers and records only
    "orpr": frozenset({"inventory"}),                           # baselines and a replay backend for inventory
    "datagen": frozenset({"inventory"}),
    "sandbox": frozenset({"inventory"}),                        # knows nothing of LLMs or the search
    "evaluation": frozenset({"inventory", "sandbox", "certify", "orpr"}),
    "agent": frozenset({"inventory", "sandbox", "evaluation", "evolve"}),  # never training
    "evolve": frozenset({"inventory", "sandbox", "evaluation", "certify", "orpr"}),  # asks a Proposer, not the agent
}
# Nothing imports these (the CLI registry loads their `cli` modules by name).
LEAVES = ("audit", "training", "bench")


def _imports(path: Path) -> set[str]:
    """Project packages a module imports (absolute imports; relative ones stay in the package)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        out.update(n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES)
    return out


def _graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> modules that import it."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for dep in _imports(path) - {pkg}:
                graph[pkg][dep].append(path.relative_to(ROOT).as_posix())
    return graph


def test_every_package_is_checked():
    found = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks", "workspaces", "configs"}
    assert found == set(PACKAGES)


@pytest.mark.parametrize("pkg", sorted(ALLOWED))
def test_layer_imports_only_what_the_guide_allows(pkg):
    graph = _graph()
    bad = {dep: mods for dep, mods in graph[pkg].items() if dep not in ALLOWED[pkg]}
    assert not bad, f"{pkg} imports {bad}"


@pytest.mark.parametrize("leaf", LEAVES)
def test_nothing_imports_the_audit_training_or_bench(leaf):
    graph = _graph()
    users = {pkg: deps[leaf] for pkg, deps in graph.items() if leaf in deps}
    assert not users, f"{leaf} is imported by {users}"


def test_only_command_modules_import_the_cli():
    """`cli/` is the thin top: other packages reach it only from their own `cli.py` command module."""
    graph = _graph()
    users = [m for pkg, deps in graph.items() for m in deps.get("cli", []) if not m.endswith("/cli.py")]
    assert not users, users


def test_the_package_graph_is_acyclic():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(pkg: str, path: list[str]) -> None:
        state[pkg] = 1
        for dep in sorted(graph[pkg]):
            if state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep] if dep in path else [pkg, dep]
                pytest.fail(f"import cycle {' -> '.join(cycle)}: {graph[pkg][dep][:3]}")
            if dep not in state:
                visit(dep, path + [dep])
        state[pkg] = 2

    for pkg in PACKAGES:
        if pkg not in state:
            visit(pkg, [pkg])
