"""The outer period loop: windows, carried incumbent and gaps, cumulative cost, resume."""
import json

import pytest

from evolve.builtin import BuiltinProposer
from evolve.config import ConfigError, EvolveConfig, with_overrides
from evolve.periods import period_windows, run_periods
from tests.conftest import build_workspace


def test_period_windows_end_on_the_last_day():
    assert period_windows(130, 3, 30) == [40, 70, 100]
    with pytest.raises(ConfigError, match="leave 10 replay days"):
        period_windows(130, 4, 30)


@pytest.mark.slow
def test_two_periods_carry_incumbent_and_gaps(tmp_path):
    ws = build_workspace(tmp_path / "ws", replay=90, forward=20)
    cfg = with_overrides(EvolveConfig(), search_rounds=1, search_candidates_per_round=2, tuning_n_trials=10,
                         sandbox="none")
    make = lambda c, w, r: BuiltinProposer(per_round=2)  # noqa: E731
    out = run_periods(ws, cfg, make, periods=2, out=tmp_path / "periods", progress=False)
    assert [p.replay_days for p in out.periods] == [70, 90]
    second = tmp_path / "periods" / "period-02" / "run"
    rows = [json.loads(x) for x in (second / "candidates.jsonl").read_text().splitlines()]
    assert any(r["origin"] == "incumbent" for r in rows)              # last period's deployment carried
    hidden = json.loads((tmp_path / "periods" / "period-01" / "workspace" / "hidden" /
                         "forward_window.json").read_text())
    assert len(hidden["demand"]) == 20                                  # period 1's forward = days 70..89
    assert "cumulative cost" in out.summary() and (tmp_path / "periods" / "periods.txt").exists()
    again = run_periods(ws, cfg, make, periods=2, out=tmp_path / "periods", progress=False)
    assert again.periods == out.periods                                 # finished periods are read back
