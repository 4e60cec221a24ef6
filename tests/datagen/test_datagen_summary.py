"""The summary command on a small synthetic build."""
import numpy as np

from datagen import cli
from datagen.summary import PAPER, render_summary, summarise


def test_summary_matches_the_workspaces(small_suite, capsys):
    stats = summarise(small_suite)
    assert stats.suite == "synthetic" and len(stats.names) == 4
    assert sum(stats.domains.values()) == 4
    assert np.all(stats.mean > 0) and np.all(stats.cv > 0)
    text = render_summary(stats)
    assert "CV: median" in text and str(PAPER["synthetic"]["cv_median"]) in text
    assert cli.main(["summary", str(small_suite)]) == 0
    assert "mean demand: median" in capsys.readouterr().out


def test_summary_of_a_non_suite_folder_fails_cleanly(tmp_path):
    assert cli.main(["summary", str(tmp_path)]) == 2
