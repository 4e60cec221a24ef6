"""Library policies shipped as policy files (the same format an LLM writes).

The five baselines of SPEC §3, the paper's evolved structures and the ORPR paper's baselines
(SPEC §7: Algorithm-2 inventory-days rule, PTO_normal, PTO_gamma, BM_x; see docs/orpr.md).
ORPR policies are not among the five success baselines. They are kept as plain
``.py`` files so that workspaces can copy them verbatim into ``baseline_policies/``.
"""
from __future__ import annotations

from importlib import resources

BASELINES = ("base_stock", "capped_base_stock", "constant_order", "newsvendor", "s_S")
EVOLVED = ("tilted_cbs", "tilted_pic")
ORPR = ("orpr_inventory_days", "pto_normal", "pto_gamma", "bm_quantile")
KNOWN = BASELINES + EVOLVED + ORPR


def policy_source(name: str) -> str:
    """Source text of a library policy by name."""
    if name not in KNOWN:
        raise KeyError(f"unknown library policy {name!r}; known: {', '.join(KNOWN)}")
    return resources.files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")
