"""Replay certification for invevolve (SPEC §4): confidence radii, safety and
improvement gates, the deployment rule, replay-to-deployment budgets eps_t and the
certificate records they produce.

Works on numbers only (per-day cost or gain paths) and imports nothing from the rest of
invevolve, so any caller that holds trusted evaluator costs can certify with it.
"""
from certify.bounds import gain_bound
from certify.certificate import KIND_CAVEATS, RADIUS_KINDS, Certificate, certificate_note
from certify.deployment import Deployment, choose_deployment
from certify.epsilon import (
    conservative_eps,
    historical_quantile_eps,
    ipm_eps,
    shift_conditioned_eps,
)
from certify.gates import ROLES, GateConfig, compare, pairs_budget
from certify.radii import block_means, blockwise_t_radius, default_block, hoeffding_radius
from certify.report import format_certificate_table

__all__ = [
    "KIND_CAVEATS",
    "RADIUS_KINDS",
    "ROLES",
    "Certificate",
    "Deployment",
    "GateConfig",
    "block_means",
    "blockwise_t_radius",
    "certificate_note",
    "choose_deployment",
    "compare",
    "conservative_eps",
    "default_block",
    "format_certificate_table",
    "gain_bound",
    "hoeffding_radius",
    "historical_quantile_eps",
    "ipm_eps",
    "pairs_budget",
    "shift_conditioned_eps",
]
