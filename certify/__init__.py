"""Replay certification for invevolve (SPEC §4): certification methods, safety and
improvement gates, the deployment rule, replay-to-deployment budgets eps_t and the
certificate records they produce.

Works on numbers only (per-day cost or gain paths, per-replication means) and imports
nothing from the rest of invevolve, so any caller that holds trusted evaluator costs can
certify with it. Methods (``certify.method.Method``): the paper's ``hoeffding`` and
``blockwise_t``, the selection-aware ``maxt_bootstrap`` and the anytime-valid ``eb_cs``;
each says what it guarantees for the gain source it is given (in-sample, walk-forward or
independent replications).
"""
from certify.blockmax import BlockwiseMaxT, max_t_quantile
from certify.bootstrap import MaxTBootstrap, auto_block
from certify.bounds import gain_bound
from certify.certificate import (
    EPS_ESTIMATORS,
    GAIN_SOURCES,
    GUARANTEES,
    KIND_CAVEATS,
    RADIUS_KINDS,
    Certificate,
    certificate_note,
)
from certify.classic import BlockwiseT, Hoeffding
from certify.deployment import Deployment, choose_deployment
from certify.eps_budget import EpsChoice, EpsEstimator, EpsInputs, choose_eps, window_gaps
from certify.epsilon import (
    conservative_eps,
    historical_quantile_eps,
    ipm_eps,
    shift_conditioned_eps,
)
from certify.gates import METHODS, ROLES, GateConfig, certify_family, compare, make_method, pairs_budget
from certify.method import GainDays, GainSource, Guarantee, Interval, Method
from certify.radii import block_means, blockwise_t_radius, default_block, hoeffding_radius
from certify.report import format_certificate_table
from certify.sequential import EmpiricalBernsteinCS, alpha_spending, eb_confidence_sequence

__all__ = [
    "EPS_ESTIMATORS", "GAIN_SOURCES", "GUARANTEES", "KIND_CAVEATS", "METHODS", "RADIUS_KINDS",
    "ROLES",
    "BlockwiseMaxT", "BlockwiseT", "Certificate", "Deployment", "EmpiricalBernsteinCS", "EpsChoice",
    "EpsEstimator", "EpsInputs", "GainDays", "GainSource", "GateConfig", "Guarantee",
    "Hoeffding", "Interval", "MaxTBootstrap", "Method",
    "alpha_spending", "auto_block", "block_means", "blockwise_t_radius", "certificate_note",
    "certify_family", "choose_deployment", "choose_eps", "compare", "conservative_eps",
    "default_block", "eb_confidence_sequence", "format_certificate_table", "gain_bound",
    "historical_quantile_eps", "hoeffding_radius", "ipm_eps", "make_method", "max_t_quantile", "pairs_budget",
    "shift_conditioned_eps", "window_gaps",
]
