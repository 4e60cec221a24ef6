"""Run settings recorded in run.json and what a resume may change (evolve.runinfo)."""
from __future__ import annotations

import json

import pytest

from agent.config import AgentConfig
from evaluation.score import tuned_params
from evolve.config import ConfigError, EvolveConfig, with_overrides
from evolve.rundir import RunDir
from evolve.runinfo import (ProposerKind, ProposerSettings, TrackedProposer, deployable_source, resume_settings,
                            run_meta)
from evolve.proposer import Proposer, ProposerUnavailable
from sandbox.validator import validate_policy


def _run_dir(tmp_path, proposer: ProposerSettings, config: EvolveConfig = EvolveConfig()):
    rd = RunDir(tmp_path / "run")
    rd.create({**run_meta(config, proposer, ["evolve", "--workspace", "w"]), "workspace": "w"}, config.to_dict())
    return rd.root


AGENT = AgentConfig(model="openai:m", base_url="http://127.0.0.1:1/v1")


def test_run_meta_records_settings_but_never_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    root = _run_dir(tmp_path, ProposerSettings(ProposerKind.AGENT, AGENT.explicit()))
    text = (root / "run.json").read_text()
    meta = json.loads(text)
    assert "sk-secret-123" not in text
    assert meta["proposer"]["agent"]["base_url"] == "http://127.0.0.1:1/v1"
    assert meta["versions"]["python"] and "numpy" in meta["versions"]
    assert AgentConfig(**ProposerSettings.from_dict(meta["proposer"], "run.json").agent) == AGENT


def test_resume_applies_more_rounds_and_the_sandbox_and_refuses_the_rest(tmp_path):
    root = _run_dir(tmp_path, ProposerSettings(ProposerKind.BUILTIN))
    base = EvolveConfig()
    asked = with_overrides(base, search_rounds=9, sandbox="none")
    got = resume_settings(root, asked, {"search.rounds": "--rounds", "sandbox.backend": "--sandbox"}, None, {})
    assert got.config.search.rounds == 9 and got.config.sandbox == "none"
    assert got.changes == {"search.rounds": 9, "sandbox.backend": "none"}
    same = resume_settings(root, with_overrides(base, tuning_n_trials=base.tuning.n_trials), {"tuning.n_trials": "--trials"},
                           None, {})
    assert same.config == base and same.changes == {}
    with pytest.raises(ConfigError, match="--seed 4: this run was started with search.seed = 0") as err:
        resume_settings(root, with_overrides(base, search_seed=4, search_rounds=2),
                        {"search.seed": "--seed", "search.rounds": "--rounds"}, None, {})
    assert "--rounds 2: a resumed run can add rounds but not drop them" in str(err.value)


def test_resume_of_an_agent_run_applies_the_endpoint_and_refuses_the_budget(tmp_path):
    root = _run_dir(tmp_path, ProposerSettings(ProposerKind.AGENT, AGENT.explicit()))
    moved = AGENT.override(base_url="http://127.0.0.1:2/v1")
    got = resume_settings(root, None, {}, moved, {"base_url": "--base-url"})
    assert got.proposer.agent["base_url"] == "http://127.0.0.1:2/v1"
    assert got.changes == {"agent.base_url": "http://127.0.0.1:2/v1"}
    with pytest.raises(ConfigError, match="--budget 5: this run's agent was started with budget = 60"):
        resume_settings(root, None, {}, AGENT.override(budget=5), {"budget": "--budget"})
    with pytest.raises(ConfigError, match="--llm hf:smollm2: this run's agent was started with model = 'openai:m'"):
        resume_settings(root, None, {}, AgentConfig(model="hf:smollm2"), {"model": "--llm"})


def test_deployed_source_stays_valid_and_carries_its_parameters(tmp_path):
    src = "import numpy as np\nPARAMS = {'S': (0.0, 40.0)}\n\ndef order(obs, params):\n    return params['S']\n"
    out = deployable_source(src, {"S": 12.5}, candidate_id="r01-x", workspace="w", replay_cost=3.0, run_dir=tmp_path)
    assert validate_policy(out).ok, validate_policy(out).reasons
    assert tuned_params(out) == {"S": 12.5}
    assert tuned_params(src) is None


class _Down(Proposer):
    name = "agent"

    def propose(self, ctx):
        raise ProposerUnavailable("agent model openai:m is unavailable: no API key")


def test_tracked_proposer_reports_that_it_never_ran():
    tp = TrackedProposer(_Down(), "LLM agent openai:m")

    class Ctx:
        round = 1

    with pytest.raises(ProposerUnavailable):
        tp.propose(Ctx())
    assert tp.failed and tp.name == "agent"
    assert tp.notice().startswith("PROPOSER UNAVAILABLE: the LLM agent openai:m never produced a candidate")
