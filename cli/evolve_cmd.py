"""`evolve`: find and certify a policy for one workspace.

    evolve --workspace workspaces/retail_promo            # built-in proposer, offline
    evolve --workspace X --llm openai:MODEL --base-url URL
    evolve --resume runs/retail_promo-20261123-101500     # after an interruption: same proposer, same settings

Everything the command line says is validated before anything is written (:func:`plan`):
the config and flags, the agent settings, the workspace, the run directory, then whether
the proposer's backend and a named sandbox can run at all. Then :func:`evolve.run.execute`
does the run. Exit codes: see :mod:`cli.errors` (``evolve --help``).
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certify import GAIN_SOURCES, METHODS
from cli.errors import EXIT_CODES_HELP, ExitCode, Unavailable, guarded
from cli.logs import setup_logging
from evolve.config import SANDBOX_BACKENDS, ConfigError, EvolveConfig, load_config, with_overrides
from evolve.runinfo import ProposerKind, ProposerSettings, TrackedProposer, resume_settings, run_meta

log = logging.getLogger("evolve")

# (flag, argparse dest, config field, type, help): the search settings a flag can set.
CONFIG_FLAGS: tuple[tuple[str, str, str, type, str], ...] = (
    ("--rounds", "rounds", "search.rounds", int, "LGPS rounds R (on --resume: more rounds than recorded are added)"),
    ("--candidates", "candidates", "search.candidates_per_round", int, "proposals gated per round"),
    ("--seed", "seed", "search.seed", int, "seeds the proposer and every Optuna study"),
    ("--trials", "trials", "tuning.n_trials", int, "Optuna trials per policy"),
    ("--workers", "workers", "search.workers", int, "candidates evaluated at once, in local processes or Ray actors (0 = one per core, 1 = serial)"),
    ("--delta", "delta", "certify.delta", float, "period confidence budget, in (0, 1)"),
    ("--eps", "eps", "certify.eps", float, "replay-to-deployment discrepancy budget, >= 0"),
)
# (flag, argparse dest, AgentConfig field): the agent settings a flag can set.
AGENT_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--llm", "llm", "model"), ("--base-url", "base_url", "base_url"),
    ("--budget", "budget", "budget"), ("--concurrency", "concurrency", "concurrency"),
)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="evolve", description="Evolve and certify a white-box inventory policy.",
                                 epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--workspace", type=Path, help="workspace folder")
    src.add_argument("--resume", type=Path, metavar="RUN_DIR",
                     help="resume an interrupted run with the settings it recorded")
    ap.add_argument("--config", type=Path, help="TOML config (default: configs/evolve.toml settings)")
    ap.add_argument("--run-dir", type=Path, help="where to write the run (default runs/<workspace>-<time>)")
    for flag, dest, path, typ, text in CONFIG_FLAGS:
        ap.add_argument(flag, dest=dest, type=typ, help=f"{path}: {text}")
    ap.add_argument("--method", choices=METHODS, help="certify.method")
    ap.add_argument("--gains", choices=GAIN_SOURCES,
                    help="certify.gains (replications: the formal simulation mode, needs the workspace's [demand_model])")
    ap.add_argument("--periods", type=int, metavar="K",
                    help="walk the workspace period by period (K periods of forward_days each; re-run to resume)")
    ap.add_argument("--sandbox", choices=SANDBOX_BACKENDS, help="sandbox.backend")
    ap.add_argument("--executor", choices=("local", "ray"), default="local",
                    help="where --workers evaluate candidates: local processes (default) or Ray (docs/scale.md)")
    ap.add_argument("--address", help="Ray cluster for --executor ray (default: a private local instance)")
    ap.add_argument("--replay", choices=("daily", "periodic"), help="replay.backend (periodic: Algorithm-2 review)")
    ap.add_argument("--review-period", type=int, metavar="R", help="replay.review_period (implies --replay periodic)")
    ap.add_argument("--orpr-baseline", action="store_true", default=None, help="baselines.orpr: add the OR label")
    ap.add_argument("--llm", help="LLM proposer: openai:MODEL | vllm:PATH | hf:PATH_OR_GGUF | hf:smollm2 "
                                  "(default: the built-in structural search)")
    ap.add_argument("--base-url", help="OpenAI-compatible endpoint for --llm openai:")
    ap.add_argument("--agent-config", type=Path, help="agent TOML config (budget, concurrency, ...)")
    ap.add_argument("--budget", type=int, help="agent tool-call budget K per episode (default per backend)")
    ap.add_argument("--concurrency", type=int, help="agent episodes run at once")
    ap.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress bars")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


@dataclass
class Plan:
    """A validated run: nothing has been written yet."""

    workspace: Path | None
    run_dir: Path
    resume: bool
    config: EvolveConfig
    proposer: ProposerSettings
    meta: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)


def _config_overrides(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    """(with_overrides keywords, field path -> flag) for the config flags given."""
    given = [(flag, path, getattr(args, dest)) for flag, dest, path, _t, _h in CONFIG_FLAGS]
    given += [("--method", "certify.method", args.method), ("--gains", "certify.gains", args.gains), ("--sandbox", "sandbox.backend", args.sandbox),
              ("--replay", "replay.backend", args.replay), ("--review-period", "replay.review_period", args.review_period),
              ("--orpr-baseline", "baselines.orpr", args.orpr_baseline)]
    overrides, labels = {}, {}
    for flag, path, value in given:
        if value is not None:
            key = "sandbox" if path == "sandbox.backend" else path.replace(".", "_", 1)
            overrides[key], labels[path] = value, flag
    return overrides, labels


def _agent_labels(args: argparse.Namespace) -> dict[str, str]:
    labels = {name: flag for flag, dest, name in AGENT_FLAGS if getattr(args, dest) is not None}
    if args.agent_config is not None:
        from agent.config import read_agent_table
        labels.update({k: f"field '{k}' of {args.agent_config}" for k in read_agent_table(args.agent_config)})
    return labels


def _agent_config(args: argparse.Namespace, model: str, config: EvolveConfig):
    from agent.config import evolve_agent_config
    return evolve_agent_config(model, args.base_url, args.agent_config,
                               candidates_per_round=config.search.candidates_per_round, seed=config.search.seed,
                               budget=args.budget, concurrency=args.concurrency)


def _recorded_agent(proposer: ProposerSettings):
    """The AgentConfig a run records (run.json's ``proposer.agent``)."""
    from agent.config import AgentConfig
    return AgentConfig(**proposer.agent)


def plan(args: argparse.Namespace, argv: list[str]) -> Plan:
    """Validate the whole command line; raises ConfigError/WorkspaceError/FileExistsError (exit 2)."""
    from evolve.rundir import RunDir
    from evolve.run import default_run_dir
    from inventory.workspace import MANIFEST_FILE, WorkspaceError, load_workspace, manifest_digest

    overrides, labels = _config_overrides(args)
    if args.resume is not None:
        if args.run_dir is not None:
            raise FileExistsError("--run-dir has no meaning with --resume: the run continues in RUN_DIR")
        rd = RunDir(args.resume)
        meta = _run_meta(rd)
        base = load_config(args.config) if args.config is not None else None
        if args.config is not None:
            labels = {**{p: f"field '{p}' of {args.config}" for p in _paths(base)}, **labels}
        recorded = EvolveConfig.from_dict(rd.config_dict(), str(rd.root / "config.toml"))
        requested = with_overrides(base or recorded, where="command line", labels=labels, **overrides)
        agent_request = None
        agent_labels = _agent_labels(args)
        if agent_labels:
            recorded_model = (meta.get("proposer") or {}).get("agent") or {}
            model = args.llm or recorded_model.get("model")
            if model is None:
                raise FileExistsError(f"{', '.join(sorted(set(agent_labels.values())))}: {rd.root} was run with the "
                                      "built-in proposer; these flags configure the LLM agent")
            agent_request = _agent_config(args, model, recorded)
        settings = resume_settings(rd.root, requested, labels, agent_request, agent_labels)
        ws = load_workspace(meta["workspace"])
        if manifest_digest(ws.root) != meta.get("workspace_manifest_sha256"):
            raise WorkspaceError(ws.root / MANIFEST_FILE, None, f"the workspace changed since {rd.root} started; "
                                 "a run can only be resumed on the workspace it started with")
        return Plan(None, rd.root, True, settings.config, settings.proposer,
                    {"command_line": argv}, settings.changes)
    config = with_overrides(load_config(args.config), where="command line", labels=labels, **overrides)
    if args.llm is not None:
        proposer = ProposerSettings(ProposerKind.AGENT, _agent_config(args, args.llm, config).explicit())
    else:
        proposer = ProposerSettings(ProposerKind.BUILTIN)
    ws = load_workspace(args.workspace)
    if config.certify.gains == "replications":
        from evolve.replications import check_formal
        check_formal(ws, config.certify)
    run_dir = args.run_dir or default_run_dir(ws)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise FileExistsError(f"{run_dir} already holds a run; use `evolve --resume {run_dir}` or another --run-dir")
    return Plan(args.workspace, run_dir, False, config, proposer, run_meta(config, proposer, argv))


def _run_meta(rd: Any) -> dict[str, Any]:
    """run.json of a run to resume, or a ConfigError naming what is wrong with it."""
    import json

    from evolve.config import ConfigError
    try:
        meta = rd.meta()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{rd.root / 'run.json'}: unreadable ({exc}); not a run directory evolve can resume") from None
    if not isinstance(meta, dict) or "workspace" not in meta:
        raise ConfigError(f"{rd.root / 'run.json'}: field 'workspace' is missing; not a run directory evolve can resume")
    return meta


def _paths(cfg: EvolveConfig) -> list[str]:
    return [f"{sect}.{name}" for sect, table in cfg.to_dict().items() for name in table]


def preflight(p: Plan) -> None:
    """Refuse (exit 3) what cannot run here before a run directory is created."""
    if p.proposer.kind is ProposerKind.AGENT:
        from agent.config import backend_problem
        problem = backend_problem(_recorded_agent(p.proposer))
        if problem:
            raise Unavailable(problem)
    if p.config.sandbox != "none":
        from sandbox import select_backend
        select_backend(p.config.sandbox)  # raises SandboxUnavailable with the reason; the result is cached


def proposer_factory(p: Plan, tracked: list[TrackedProposer]):
    def make(config: EvolveConfig, ws: Any, rd: Any) -> TrackedProposer:
        if p.proposer.kind is ProposerKind.AGENT:
            from agent import make_proposer
            backend = config.sandbox
            if backend == "none":
                log.warning("sandbox backend 'none' runs policies in-process; the agent's shell still needs isolation, "
                            "using 'auto' for agent shells")
                backend = "auto"
            agent_cfg = _recorded_agent(p.proposer)
            log.info("proposer: %s, budget %d tool calls, %d max tokens per reply, %d episode(s) per round",
                     p.proposer.describe(), agent_cfg.budget, agent_cfg.max_tokens, agent_cfg.episodes_per_round)
            inner = make_proposer(agent_cfg, rd.root, backend)
        else:
            from evolve.builtin import BuiltinProposer
            inner = BuiltinProposer(per_round=config.search.candidates_per_round)
        tp = TrackedProposer(inner, p.proposer.describe())
        tracked.append(tp)
        return tp
    return make


def run_periods_cmd(args: argparse.Namespace, argv: list[str], state: dict[str, Any]) -> int:
    """``evolve --periods K``: one run directory per period under ``--run-dir`` (re-run to resume)."""
    from evolve.periods import run_periods
    from inventory.workspace import load_workspace

    if args.resume is not None:
        raise ConfigError("--periods: re-run the same --periods command to resume; --resume takes one run directory")
    if args.periods < 1:
        raise ConfigError(f"command line: --periods must be >= 1, got {args.periods}")
    overrides, labels = _config_overrides(args)
    config = with_overrides(load_config(args.config), where="command line", labels=labels, **overrides)
    if args.llm is not None:
        proposer = ProposerSettings(ProposerKind.AGENT, _agent_config(args, args.llm, config).explicit())
    else:
        proposer = ProposerSettings(ProposerKind.BUILTIN)
    ws = load_workspace(args.workspace)
    out = args.run_dir or Path("runs") / f"{ws.name}-periods"
    state["run_dir"] = out
    p = Plan(args.workspace, out, False, config, proposer, run_meta(config, proposer, argv))
    preflight(p)
    tracked: list[TrackedProposer] = []
    outcome = run_periods(args.workspace, config, proposer_factory(p, tracked), periods=args.periods, out=out,
                          progress=not args.quiet)
    sys.stdout.write(outcome.summary())
    if tracked and tracked[0].failed:
        sys.stderr.write(f"evolve: error: {tracked[0].notice()}\n")
        return ExitCode.UNAVAILABLE
    return ExitCode.OK


def _executor(args: argparse.Namespace, config: EvolveConfig):
    """``--executor ray``: a RayExecutor with ``search.workers`` actors; local: execute's default."""
    from contextlib import nullcontext

    if args.executor != "ray":
        if args.address is not None:
            raise ConfigError("--address is for --executor ray")
        return nullcontext(None)
    from evolve.executor import default_workers
    from evolve.executor_ray import RayExecutor
    return RayExecutor(config.search.workers or default_workers(), args.address, sandbox=config.sandbox)


def run(args: argparse.Namespace, argv: list[str], state: dict[str, Any]) -> int:
    from evolve.run import execute

    if args.periods is not None:
        return run_periods_cmd(args, argv, state)
    p = plan(args, argv)
    state["run_dir"] = p.run_dir
    preflight(p)
    tracked: list[TrackedProposer] = []
    with _executor(args, p.config) as executor:
        outcome = execute(p.workspace, p.config, proposer_factory(p, tracked),
                          run_dir=None if p.resume else p.run_dir, resume=p.run_dir if p.resume else None,
                          progress=not args.quiet, meta=p.meta, resume_changes=p.changes, executor=executor)
    sys.stdout.write(outcome.report)
    sys.stdout.write(f"\nrun directory: {outcome.run_dir}  ({outcome.seconds:.1f} s)\n")
    if tracked and tracked[0].failed:
        sys.stderr.write(f"evolve: error: {tracked[0].notice()}\n")
        return ExitCode.UNAVAILABLE
    return ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.llm and args.resume is None and any(
            v is not None for v in (args.base_url, args.agent_config, args.budget, args.concurrency)):
        parser.error("--base-url, --agent-config, --budget and --concurrency configure the LLM agent: add --llm")
    if args.replay == "daily" and args.review_period not in (None, 1):
        parser.error("--review-period applies to --replay periodic")
    if args.review_period is not None and args.replay is None:
        args.replay = "periodic"
    setup_logging(-1 if args.quiet else 1 if args.verbose else 0)
    line = ["evolve", *(sys.argv[1:] if argv is None else argv)]
    state: dict[str, Any] = {}

    def interrupted() -> str:
        rd = state.get("run_dir")
        if rd is not None and (Path(rd) / "run.json").exists():
            return f"interrupted; continue with: evolve --resume {rd}"
        return "interrupted before the run started"

    return guarded("evolve", lambda: run(args, line, state), verbose=args.verbose, on_interrupt=interrupted)


if __name__ == "__main__":
    sys.exit(main())
