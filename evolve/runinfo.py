"""What a run directory records about how its run was started, and what a resume may change.

``run.json`` keeps, besides the workspace reference: the proposer and its settings (for the
LLM agent the whole resolved :class:`agent.AgentConfig`, including the endpoint, never a
key), the search config, the command line and the versions of the project and its key
dependencies. ``evolve --resume RUN_DIR`` rebuilds the same proposer and config from it.

A flag given on resume is compared with what the run recorded (:func:`resume_settings`):
- equal: nothing to do;
- ``--rounds`` larger than recorded: applied (more rounds; the pairs budget N_t grows and
  every round is re-gated with it);
- where the code runs or how the endpoint is reached (``--sandbox``, ``--base-url``,
  ``--concurrency``, the agent's timeouts and retries): applied, logged and recorded;
- anything else that shaped the candidates or certificates (seed, trials, delta, the model,
  the budget, ...): refused with the reason, because the resumed run would no longer be the
  run that was started.

:class:`TrackedProposer` wraps the proposer to know afterwards whether it ever produced a
candidate, and :func:`deployable_source` writes a deployed policy that carries its tuned
parameters.
"""
from __future__ import annotations

import ast
import json
import logging
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from evolve.config import ConfigError, EvolveConfig
from inventory.provenance import code_commit
from evolve.proposer import Outcome, Proposal, ProposalContext, Proposer, ProposerUnavailable

log = logging.getLogger(__name__)

KEY_PACKAGES = ("numpy", "scipy", "optuna", "openai", "tqdm", "docker", "torch", "transformers", "vllm")
# Agent settings that say how the endpoint is reached, not what the episodes do.
OPERATIONAL_AGENT_FIELDS = frozenset({"base_url", "api_key_env", "concurrency", "timeout", "retries", "backoff",
                                      "backoff_max", "max_endpoint_failures", "hf_device", "hf_threads"})
# Search settings a resume may change (see the module docstring).
APPLICABLE_ON_RESUME = frozenset({"sandbox.backend", "search.workers"})  # neither changes a number


class ProposerKind(str, Enum):
    BUILTIN = "builtin"
    AGENT = "agent"


@dataclass(frozen=True)
class ProposerSettings:
    """Which proposer a run uses; ``agent`` is the resolved AgentConfig as a dict (no key in it)."""

    kind: ProposerKind
    agent: dict[str, Any] | None = None

    @property
    def model(self) -> str | None:
        return None if self.agent is None else str(self.agent["model"])

    def describe(self) -> str:
        if self.kind is ProposerKind.BUILTIN:
            return "built-in structural search"
        where = f" at {self.agent['base_url']}" if self.agent and self.agent.get("base_url") else ""
        return f"LLM agent {self.model}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "agent": self.agent}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str) -> "ProposerSettings":
        try:
            kind = ProposerKind(raw["kind"])
        except (KeyError, ValueError, TypeError):
            raise ConfigError(f"{where}: field 'proposer.kind' must be one of "
                              f"{', '.join(k.value for k in ProposerKind)}, got {raw!r}") from None
        agent = raw.get("agent")
        if kind is ProposerKind.AGENT and not isinstance(agent, dict):
            raise ConfigError(f"{where}: field 'proposer.agent' must hold the agent settings")
        return cls(kind, dict(agent) if agent else None)



def versions() -> dict[str, str | None]:
    """Versions of invevolve (and its git commit when run from a checkout) and of key packages."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    try:
        out["invevolve"] = metadata.version("invevolve")
    except metadata.PackageNotFoundError:
        out["invevolve"] = None
    commit = code_commit(short=False)
    if commit is not None:
        out["invevolve_commit"] = commit
    for pkg in KEY_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def run_meta(config: EvolveConfig, proposer: ProposerSettings, argv: Sequence[str]) -> dict[str, Any]:
    """The fields this module adds to ``run.json`` when a run starts."""
    return {"proposer": proposer.to_dict(), "config": config.to_dict(), "command_line": list(argv),
            "cwd": str(Path.cwd()), "versions": versions()}


# ---------------------------------------------------------------- resume


@dataclass
class ResumeSettings:
    """The resumed run's config and proposer, and what the resume changed (recorded in run.json)."""

    config: EvolveConfig
    proposer: ProposerSettings
    changes: dict[str, Any] = field(default_factory=dict)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def resume_settings(run_dir: Path, requested: EvolveConfig | None, labels: Mapping[str, str],
                    agent_request: "AgentConfig | None", agent_labels: Mapping[str, str]) -> ResumeSettings:
    """The settings of the run in ``run_dir``, with the changes ``requested`` may make.

    ``requested`` is the config the command line asks for (recorded config + flags) or None;
    ``labels`` maps each field path set on the command line to its flag, so that only those
    are compared. ``agent_request``/``agent_labels`` do the same for the agent's settings.
    Raises :class:`ConfigError` naming the flag and the recorded value when a flag would
    change what the run is.
    """
    from evolve.rundir import RunDir

    rd = RunDir(run_dir)
    meta = rd.meta()
    where = str(rd.root / "config.toml")
    try:
        recorded = EvolveConfig.from_dict(rd.config_dict(), where)
    except FileNotFoundError:
        raise ConfigError(f"{where}: missing; {rd.root} is not a complete run directory") from None
    proposer = (ProposerSettings.from_dict(meta["proposer"], str(rd.root / "run.json")) if "proposer" in meta
                else None)
    refused: list[str] = []
    changes: dict[str, Any] = {}
    config = recorded
    if requested is not None:
        old, new = _flatten(recorded.to_dict()), _flatten(requested.to_dict())
        raw = recorded.to_dict()
        for path, label in labels.items():
            if new[path] == old[path]:
                continue
            sect, _, name = path.partition(".")
            if path == "search.rounds" and new[path] > old[path]:
                raw[sect][name] = new[path]
                changes[path] = new[path]
            elif path in APPLICABLE_ON_RESUME:
                raw[sect][name] = new[path]
                changes[path] = new[path]
            elif path == "search.rounds":
                refused.append(f"{label} {new[path]}: a resumed run can add rounds but not drop them "
                               f"(this run was started with {old[path]})")
            else:
                refused.append(f"{label} {new[path]}: this run was started with {path} = {old[path]!r}")
        config = EvolveConfig.from_dict(raw, where)
    if proposer is None:
        log.warning("%s records no proposer (made by an older invevolve); using %s", rd.root / "run.json",
                    "the --llm settings given" if agent_request else "the built-in proposer")
        proposer = (ProposerSettings(ProposerKind.AGENT, agent_request.explicit()) if agent_request
                    else ProposerSettings(ProposerKind.BUILTIN))
    elif agent_request is not None:
        proposer = _merge_agent(proposer, agent_request, agent_labels, refused, changes)
    if refused:
        raise ConfigError(f"cannot resume {rd.root} with these flags: " + "; ".join(refused)
                          + ". A resumed run keeps the settings that shaped it; start a new run to change them")
    return ResumeSettings(config, proposer, changes)


def _merge_agent(recorded: ProposerSettings, request: "AgentConfig", labels: Mapping[str, str],
                 refused: list[str], changes: dict[str, Any]) -> ProposerSettings:
    if recorded.kind is ProposerKind.BUILTIN:
        flags = ", ".join(sorted(set(labels.values()))) or f"--llm {request.model}"
        refused.append(f"{flags}: this run's proposer is the {recorded.describe()}")
        return recorded
    agent = dict(recorded.agent or {})
    for name, label in labels.items():
        new, old = getattr(request, name), agent.get(name)
        if new == old:
            continue
        if name in OPERATIONAL_AGENT_FIELDS:
            agent[name] = new
            changes[f"agent.{name}"] = new
        else:
            refused.append(f"{label} {new}: this run's agent was started with {name} = {old!r}")
    return ProposerSettings(ProposerKind.AGENT, agent)


def record_resume(run_dir: Path, config: EvolveConfig, changes: Mapping[str, Any], argv: Sequence[str]) -> None:
    """Note a resume (its command line and changes) in run.json; rewrite config.toml if it changed."""
    import tomli_w

    from evolve.rundir import RunDir

    rd = RunDir(run_dir)
    meta = rd.meta()
    meta.setdefault("resumes", []).append({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                           "command_line": list(argv), "changes": dict(changes)})
    if changes:
        meta["config"] = config.to_dict()
        for key, value in changes.items():
            if key.startswith("agent.") and isinstance(meta.get("proposer", {}).get("agent"), dict):
                meta["proposer"]["agent"][key.split(".", 1)[1]] = value
        rd.write_text("config.toml", "# effective configuration of this run\n" + tomli_w.dumps(config.to_dict()))
    rd.write_text("run.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------- proposer tracking


class TrackedProposer(Proposer):
    """Delegates to ``inner`` and remembers whether it ever produced a candidate and why it stopped."""

    def __init__(self, inner: Proposer, description: str):
        self.inner, self.description = inner, description
        self.name = inner.name
        self.rounds_asked = 0
        self.proposals = 0
        self.unavailable: str | None = None
        self.stopped_in_round: int | None = None

    def propose(self, ctx: ProposalContext) -> list[Proposal]:
        self.rounds_asked += 1
        try:
            out = self.inner.propose(ctx)
        except ProposerUnavailable as exc:
            self.unavailable, self.stopped_in_round = str(exc), ctx.round
            raise
        self.proposals += len(out)
        return out

    def observe(self, proposal: Proposal, outcome: Outcome) -> None:
        self.inner.observe(proposal, outcome)

    def close(self) -> None:
        self.inner.close()

    @property
    def failing_rounds(self) -> int:
        """Rounds in a row, up to the last, in which the agent's endpoint failed (0 for other proposers)."""
        return int(getattr(self.inner, "consecutive_endpoint_failures", 0) or 0)

    @property
    def failed(self) -> bool:
        """The proposer became unavailable, or its endpoint was failing when the run ended."""
        return self.unavailable is not None or (self.rounds_asked > 0 and self.failing_rounds > 0)

    def notice(self) -> str | None:
        """The report's first line when the proposer did not do its job, else None."""
        if not self.failed:
            return None
        reason = self.unavailable or f"its endpoint failed in the last {self.failing_rounds} round(s)"
        if self.proposals == 0:
            return (f"PROPOSER UNAVAILABLE: the {self.description} never produced a candidate in this run "
                    f"({reason}); the deployment below was chosen without it")
        return (f"PROPOSER STOPPED in round {self.stopped_in_round or self.rounds_asked}: the {self.description} "
                f"failed ({reason}); later rounds had no new candidate")


def report_notice(proposer: Proposer) -> str | None:
    """What :func:`evolve.report.render_report` puts first (None for an untracked proposer)."""
    return proposer.notice() if isinstance(proposer, TrackedProposer) else None


# ---------------------------------------------------------------- deployed policy


def deployable_source(source: str, params: Mapping[str, float], *, candidate_id: str, workspace: str,
                      replay_cost: float | None, run_dir: Path) -> str:
    """``source`` with a header saying where it comes from and its tuned ``TUNED_PARAMS`` appended.

    The result is still a valid policy for the static validator (comments and one literal
    assignment): ``order(obs, TUNED_PARAMS)`` is the deployed rule, and
    ``invevolve score --workspace W deployed_policy.py --tuned`` replays it with exactly those
    parameters (no re-tuning).
    """
    literal = "{" + ", ".join(f"{k!r}: {float(v)!r}" for k, v in sorted(params.items())) + "}"
    ast.literal_eval(literal)  # what the validator and --tuned read back
    cost = "n/a" if replay_cost is None else f"{replay_cost:.6g}"
    header = (f"# Deployed by invevolve: candidate {candidate_id} on workspace {workspace} (run {run_dir}).\n"
              f"# Trusted replay cost per day with TUNED_PARAMS: {cost}.\n"
              "# Use: order(obs, TUNED_PARAMS). Re-score without re-tuning:\n"
              f"#   invevolve score --workspace WORKSPACE {Path(run_dir) / 'deployed_policy.py'} --tuned\n")
    body = source if source.endswith("\n") else source + "\n"
    return f"{header}{body}\n\n# Parameters tuned for this deployment (deployment.json: params).\nTUNED_PARAMS = {literal}\n"
