import ast
import pathlib
import sys

import certify

ALLOWED_THIRD_PARTY = {"numpy", "scipy", "arch", "certify"}
FORBIDDEN = {"agent", "training", "sandbox", "evolve", "datagen", "cli", "inventory", "evaluation"}


def imported_roots(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_certify_imports_only_stdlib_numpy_scipy_arch():
    package = pathlib.Path(certify.__file__).parent
    files = sorted(package.glob("*.py"))
    assert len(files) >= 7
    for path in files:
        roots = imported_roots(path)
        assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
        outside = {r for r in roots if r not in sys.stdlib_module_names} - ALLOWED_THIRD_PARTY
        assert not outside, f"{path.name} imports {outside}"


def test_public_api_is_reexported():
    for name in ("hoeffding_radius", "block_means", "blockwise_t_radius", "default_block",
                 "gain_bound", "Certificate", "GateConfig", "compare", "pairs_budget",
                 "choose_deployment", "Deployment", "historical_quantile_eps",
                 "shift_conditioned_eps", "ipm_eps", "conservative_eps",
                 "format_certificate_table"):
        assert name in certify.__all__ and hasattr(certify, name)
