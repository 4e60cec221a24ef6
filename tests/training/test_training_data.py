"""Training prompts come from the training split only; the held-out list is never trained on."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from training.config import ConfigError, DataConfig
from training.data import LeakageError, heldout_rows, prompt_key, read_split, training_rows


def test_training_rows_are_the_train_list_and_never_the_test_list(mini_suite):
    rows = training_rows(DataConfig(suite=str(mini_suite)), budget=60)
    split = read_split(mini_suite)
    assert sorted(r.name for r in rows) == sorted(split.train) == ["promo_a", "promo_b"]
    assert not {r.name for r in rows} & set(split.test)
    held = heldout_rows(mini_suite, "standard", "test", budget=60)
    assert sorted(r.name for r in held) == ["held_1", "held_2"]
    assert not {r.key for r in rows} & {r.key for r in held}


def test_prompt_is_the_agent_briefing_without_hidden_data(mini_suite):
    (row,) = [r for r in training_rows(DataConfig(suite=str(mini_suite)), budget=60) if r.name == "promo_a"]
    system, user = row.prompt
    assert system["role"] == "system" and "60 tool calls" in system["content"]
    assert user["role"] == "user" and "problem_description.md" in user["content"]
    assert "base_stock" in user["content"] and "strictly below" in user["content"]
    assert "hidden" not in user["content"] and str(mini_suite) not in user["content"]
    assert prompt_key(row.to_record()["prompt"]) == row.key


def test_split_with_a_workspace_in_both_lists_is_refused(mini_suite, tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(mini_suite, suite)
    (suite / "splits" / "standard.json").write_text(json.dumps({"train": ["promo_a", "held_1"], "test": ["held_1"]}))
    with pytest.raises(LeakageError, match="held_1"):
        training_rows(DataConfig(suite=str(suite)), budget=60)


def test_cj_training_products_exclude_its_test_list(mini_suite, tmp_path):
    cj = tmp_path / "cj"
    cj.mkdir()
    for name in ("cj_1", "cj_2"):
        shutil.copytree(mini_suite / "promo_b", cj / name)
    (cj / "splits").mkdir()
    (cj / "splits" / "standard.json").write_text(json.dumps({"test": ["cj_2"]}))
    (cj / "suite.json").write_text(json.dumps({"workspaces": [{"name": "cj_1"}, {"name": "cj_2"}]}))
    rows = training_rows(DataConfig(suite=str(mini_suite), cj_suite=str(cj)), budget=60)
    assert sorted(r.name for r in rows) == ["cj_1", "promo_a", "promo_b"]


def test_missing_split_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="splits/standard.json"):
        training_rows(DataConfig(suite=str(tmp_path)), budget=60)


def test_shared_suite_is_not_trained_on_its_test_list():
    """When the shared synthetic suite exists, its training rows and its test list are disjoint."""
    suite = Path("/work/data/synthetic")
    if not (suite / "splits" / "standard.json").exists():
        pytest.skip("the shared synthetic suite is not built here")
    split = read_split(suite)
    assert split.train and split.test and not set(split.train) & set(split.test)
