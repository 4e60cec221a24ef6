"""Benchmark data generators (InvEvolve Sec. 4.1, 5.2, 5.3.1; Appendices 10 and 14).

Three suites, each written as folders of workspaces through
:func:`inventory.workspace_write.write_workspace` (which tunes the five baselines):

- :mod:`datagen.synthetic` — 47 synthetic seed datasets in 15 domains, sliced into 470
  workspaces of 100 replay + 30 forward days, with a standard train/test split;
- :mod:`datagen.cj` — the Dunnhumby Complete Journey real-data benchmark with
  censored-demand reconstruction (needs the ``realdata`` extra);
- :mod:`datagen.classical` — the 96 stationary scenarios of the classical testbed.

:mod:`datagen.summary` prints the suite statistics the paper reports, and
:func:`datagen.cli.register` adds the ``datagen`` subcommand tree to an argparse parser.
Latent generator states are written to ``OUT/_diagnostics/``, outside every workspace.
"""
