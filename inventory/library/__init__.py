"""Library policies shipped as policy files (the same format an LLM writes).

The five baselines of SPEC §3 and the paper's evolved structures. They are kept as plain
``.py`` files so that workspaces can copy them verbatim into ``baseline_policies/``.
"""
from __future__ import annotations

from importlib import resources

BASELINES = ("base_stock", "capped_base_stock", "constant_order", "newsvendor", "s_S")
EVOLVED = ("tilted_cbs", "tilted_pic")


def policy_source(name: str) -> str:
    """Source text of a library policy by name."""
    if name not in BASELINES + EVOLVED:
        raise KeyError(f"unknown library policy {name!r}; known: {', '.join(BASELINES + EVOLVED)}")
    return resources.files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")
