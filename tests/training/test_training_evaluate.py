"""Checkpoint evaluation on the held-out split: rates, the Fig. 4 plot, the CLI."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("matplotlib")

from training.config import ConfigError, TrainConfig
from training.evaluate import evaluate_run, run_checkpoints, summarize
from training.reward import RewardOutcome, RewardStatus

CONFIG = """
[model]
device = "cpu"
[rollout]
budget = 1
max_tokens_per_turn = 16
max_sequence_tokens = 4096
concurrency = 1
[reward]
trials = 10
"""


def test_summary_rates():
    outs = [RewardOutcome(1.0, RewardStatus.SUCCESS, cost=8.0, baseline_cost=10.0),
            RewardOutcome(0.0, RewardStatus.NO_IMPROVEMENT, cost=12.0, baseline_cost=10.0),
            RewardOutcome(0.0, RewardStatus.INVALID), RewardOutcome(0.0, RewardStatus.NO_SUBMISSION)]
    s = summarize("ckpt", 3, outs, ["a", "b", "a", "b"], (1e6, 60.0))
    assert (s.episodes, s.success_rate, s.validity_rate, s.n_valid) == (4, 0.25, 0.5, 2)
    assert s.mean_cost_change == pytest.approx(((8 - 10) / 10 + (12 - 10) / 10) / 2)
    assert (s.tokens, s.seconds, s.workspaces) == (1e6, 60.0, ["a", "b"])
    assert summarize("c", 0, [RewardOutcome(0.0, RewardStatus.TIMEOUT)], ["a"]).mean_cost_change is None


def _fake_run(tmp_path: Path, tiny_model: Path) -> Path:
    """A GRPO output directory as train_grpo leaves it: config, one checkpoint, metrics."""
    run = tmp_path / "run"
    run.mkdir()
    cfg = TrainConfig().override(model={"path": str(tiny_model)})
    (run / "train_config.json").write_text(json.dumps(cfg.to_dict()))
    ckpt = run / "checkpoint-2"
    shutil.copytree(tiny_model, ckpt)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 2}))
    (run / "checkpoint-5").mkdir()          # interrupted save: no trainer_state.json, skipped
    (run / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "tokens_total": 1000.0 * s,
                                                           "seconds_total": 10.0 * s}) + "\n" for s in (1, 2)))
    return run


def test_evaluate_run_on_held_out_workspaces(tiny_model, mini_suite, shell_factory, tmp_path):
    run = _fake_run(tmp_path, tiny_model)
    assert [s for s, _ in run_checkpoints(run)] == [0, 2]
    cfg_file = tmp_path / "train.toml"
    cfg_file.write_text(CONFIG)
    from training.config import load_train_config

    cfg = load_train_config(cfg_file)
    out = tmp_path / "eval"
    results = evaluate_run(run, cfg, mini_suite, out, shell_factory=shell_factory)
    assert [r.step for r in results] == [0, 2]
    assert [(r.tokens, r.seconds) for r in results] == [(0.0, 0.0), (2000.0, 20.0)]
    for r in results:
        assert r.episodes == 2 and r.workspaces == ["held_1", "held_2"]      # the held-out list only
        assert 0.0 <= r.success_rate <= r.validity_rate <= 1.0
    episodes = [json.loads(x) for x in (out / "checkpoint-2" / "episodes.jsonl").read_text().splitlines()]
    assert sorted(e["workspace"] for e in episodes) == ["held_1", "held_2"]
    assert sum(e["reward"] for e in episodes) / 2 == results[1].success_rate
    assert len((out / "summary.jsonl").read_text().splitlines()) == 2
    png = (out / "success_vs_compute.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_train_eval_cli(tiny_model, mini_suite, tmp_path, capsys):
    from cli.main import main

    cfg_file = tmp_path / "train.toml"
    cfg_file.write_text(CONFIG)
    rc = main(["train", "eval", "--config", str(cfg_file), "--checkpoint", str(tiny_model), "--suite", str(mini_suite),
               "--out", str(tmp_path / "ev"), "--limit", "1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "success" in out and "model" in out and (tmp_path / "ev" / "success_vs_compute.png").exists()
    assert json.loads((tmp_path / "ev" / "model" / "summary.json").read_text())["workspaces"] == ["held_1"]


def test_cli_errors_are_one_line_with_status_2(tmp_path, capsys):
    from cli.main import main

    bad = tmp_path / "bad.toml"
    bad.write_text("[grpo]\nnum_generations = 1\n")
    assert main(["train", "grpo", "--config", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert main(["train", "eval", "--out", str(tmp_path / "e")]) == 2
    with pytest.raises(ConfigError, match="not a training run"):
        run_checkpoints(tmp_path)
