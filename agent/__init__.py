"""The LLM agent that writes white-box inventory policies (paper Sec. 4.2; SPEC §5-6).

Entry points:
- :func:`make_proposer` — what ``evolve --llm ...`` calls to get an :class:`AgentProposer`;
- :class:`AgentConfig` — settings (``AgentConfig.from_toml(path, overrides)``);
- :func:`agent.trajectory.read_trajectories` — the trajectory reader used by training.

``agent`` never imports ``training``; it uses ``sandbox`` for shells and validation,
``inventory`` for the workspace, and ``evolve.proposer`` for the Proposer interface.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import AgentConfig, ConfigError, ModelSpec
from agent.llm.base import EndpointUnavailable

if TYPE_CHECKING:
    from agent.proposer import AgentProposer, ShellFactory

__all__ = ["AgentConfig", "ConfigError", "EndpointUnavailable", "ModelSpec", "make_proposer", "make_proposer_from_cli"]

log = logging.getLogger(__name__)


def make_proposer(config: AgentConfig, run_dir: Path, sandbox_backend: str = "auto", *,
                  shell_factory: "ShellFactory | None" = None) -> "AgentProposer":
    """An :class:`AgentProposer` for ``config`` writing into ``run_dir``.

    Shells come from ``sandbox.open_shell(root, sandbox_backend, ...)`` unless a
    ``shell_factory`` is given. The model client is created on the first round, so a dead
    endpoint surfaces as :class:`EndpointUnavailable` from ``propose``, never here.
    """
    from agent.proposer import AgentProposer, sandbox_shell_factory

    if shell_factory is None:
        shell_factory = sandbox_shell_factory(sandbox_backend, command_timeout=config.command_timeout,
                                              max_output=max(4 * config.max_output, 8000))
    return AgentProposer(config, Path(run_dir), shell_factory=shell_factory)


def make_proposer_from_cli(llm: str, base_url: str | None, agent_config: Path | None, evolve_config: Any,
                           run_dir: Path, **overrides: Any) -> "AgentProposer":
    """What ``evolve --llm SPEC [--base-url URL] [--agent-config FILE]`` calls.

    Settings: ``AgentConfig`` defaults, then the ``[agent]`` table of ``agent_config`` (if
    given), then ``--llm``/``--base-url`` and any non-None ``overrides``. From the search
    config it takes ``search.candidates_per_round`` (episodes per round; each episode gives
    at most one proposal), ``search.seed`` (episode seeds) and ``sandbox`` (the shell's
    backend; ``none`` has no shell isolation, so ``auto`` is used for shells). Raises
    :class:`ConfigError` for bad settings.
    """
    from agent.config import evolve_agent_config

    search = getattr(evolve_config, "search", None)
    if search is not None:  # episodes per round and seed come from the search; a conflicting file is refused
        config = evolve_agent_config(llm, base_url, agent_config, candidates_per_round=int(search.candidates_per_round),
                                     seed=int(search.seed), **overrides)
    elif agent_config is not None:
        config = AgentConfig.from_toml(agent_config, {"model": llm, "base_url": base_url, **overrides})
    else:
        config = AgentConfig().override(model=llm, base_url=base_url, **overrides)
    backend = str(getattr(evolve_config, "sandbox", "auto") or "auto")
    if backend == "none":
        log.warning("sandbox backend 'none' runs policies in-process; the agent's shell still needs isolation, "
                    "using 'auto' for agent shells")
        backend = "auto"
    log.info("agent proposer: %s%s, budget %d tool calls, %d episode(s) per round, concurrency %d",
             config.model, f" at {config.base_url}" if config.base_url else "", config.budget,
             config.episodes_per_round, config.concurrency)
    return make_proposer(config, Path(run_dir), backend)
