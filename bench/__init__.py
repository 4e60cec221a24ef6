"""``invevolve bench``: the InvEvolve paper's experiments as resumable sweeps over suites.

Modules: :mod:`bench.suites` (which workspaces, how grouped), :mod:`bench.settings`
(evolve config and proposer of a sweep), :mod:`bench.sweep` (resumable per-workspace jobs on
any :class:`~evolve.executor.Executor`), :mod:`bench.evolve_job` / :mod:`bench.classical_job`
(the per-workspace work), :mod:`bench.tables` and :mod:`bench.report` (rows and files),
:mod:`bench.paper` (the published figures), :mod:`bench.experiments` and :mod:`bench.cli`.
"""
