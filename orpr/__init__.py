"""ORPR (OR-guided pretrain-then-reinforce, JD.com) pieces used by invevolve: SPEC §7.

One job per module; ``orpr`` imports ``inventory``, never the reverse.

* :mod:`orpr.simulator` — Algorithm 2: replay every candidate inventory-days v of a SKU.
* :mod:`orpr.model` — the OR model (one v per SKU or category, loss budget), a HiGHS MILP.
* :mod:`orpr.calibration` — alpha_loss bisection to an observed turnover; OR labels.
* :mod:`orpr.baselines` — PTO_normal, PTO_gamma and BM_x formulas (paper Sec. 4.2.1).
* :mod:`orpr.backend` — replay backends: daily simulator and Algorithm-2 periodic review.
* :mod:`orpr.label_policy` — the OR label as an optional baseline of one workspace.
* :mod:`orpr.portfolio`, :mod:`orpr.experiment`, :mod:`orpr.report` — the Table-1 experiment.
"""
