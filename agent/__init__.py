"""The LLM agent that writes white-box inventory policies (paper Sec. 4.2; SPEC §5-6).

Entry points:
- :func:`make_proposer` — what ``evolve --llm ...`` calls to get an :class:`AgentProposer`;
- :class:`AgentConfig` — settings (``AgentConfig.from_toml(path, overrides)``);
- :func:`agent.trajectory.read_trajectories` — the trajectory reader used by training.

``agent`` never imports ``training``; it uses ``sandbox`` for shells and validation,
``inventory`` for the workspace, and ``evolve.proposer`` for the Proposer interface.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import AgentConfig, ConfigError, ModelSpec
from agent.llm.base import EndpointUnavailable

if TYPE_CHECKING:
    from agent.proposer import AgentProposer, ShellFactory

__all__ = ["AgentConfig", "ConfigError", "EndpointUnavailable", "ModelSpec", "make_proposer"]


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
