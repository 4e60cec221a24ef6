"""Per-backend defaults and the evolve derivation of the agent settings (no dead configuration)."""
from __future__ import annotations

import pytest

from agent.config import BACKEND_DEFAULTS, AgentConfig, ConfigError, backend_problem, evolve_agent_config
from evolve.config import ConfigError as EvolveConfigError


def test_one_config_error_type():
    assert ConfigError is EvolveConfigError


def test_a_small_local_model_gets_small_defaults_and_explicit_values_win(tmp_path):
    hf = AgentConfig(model="hf:smollm2")
    assert (hf.budget, hf.max_tokens) == (BACKEND_DEFAULTS["hf"]["budget"], BACKEND_DEFAULTS["hf"]["max_tokens"])
    assert AgentConfig().budget == 60
    assert hf.override(model="openai:m").budget == 60            # re-derived, not carried over
    assert AgentConfig(model="hf:smollm2", budget=9).override(model="openai:m").budget == 9
    p = tmp_path / "a.toml"
    p.write_text("[agent]\nmax_tokens = 50\n")
    assert AgentConfig.from_toml(p, {"model": "hf:smollm2"}).max_tokens == 50


def test_evolve_takes_episodes_and_seed_from_the_search_and_refuses_conflicts(tmp_path):
    cfg = evolve_agent_config("openai:m", "http://127.0.0.1:1/v1", None, candidates_per_round=3, seed=5)
    assert (cfg.episodes_per_round, cfg.seed) == (3, 5)
    p = tmp_path / "a.toml"
    p.write_text("[agent]\nseed = 5\nepisodes_per_round = 3\nbudget = 7\n")  # agreeing values are fine
    cfg = evolve_agent_config("openai:m", None, p, candidates_per_round=3, seed=5, budget=None)
    assert cfg.budget == 7 and cfg.base_url is None
    with pytest.raises(ConfigError, match="field 'agent.seed' = 5 conflicts with search.seed"):
        evolve_agent_config("openai:m", None, p, candidates_per_round=3, seed=0)
    with pytest.raises(ConfigError, match="--llm 'gpt4'"):
        evolve_agent_config("gpt4", None, None, candidates_per_round=1, seed=0)


def test_backend_problem_is_known_before_a_run(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert "OPENAI_API_KEY" in backend_problem(AgentConfig(model="openai:m"))
    assert backend_problem(AgentConfig(model="openai:m", base_url="http://127.0.0.1:1/v1")) is None
    problem = backend_problem(AgentConfig(model="hf:/no/such/model.gguf"))
    assert "GGUF file not found" in problem or "needs torch" in problem   # the latter without the hf extra
