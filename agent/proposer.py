"""``AgentProposer``: the LLM agent as a :class:`evolve.proposer.Proposer` (SPEC §5, §6).

Per LGPS round, :meth:`AgentProposer.propose` runs ``episodes_per_round`` agent episodes
(at most ``concurrency`` at once, asyncio over worker threads), each in its own sandboxed
copy of the workspace, conditioned on the pool (trusted replay costs, safety LCBs), the
feedback of earlier rounds and the refined extra baselines. Every episode whose submission
passes the structural check becomes one :class:`Proposal`; the trusted score comes back
through :meth:`observe`, which completes the episode's trajectory line.

Operational contract:
- A round in which every episode failed at the endpoint returns ``[]`` and logs why; after
  ``max_endpoint_failures`` such rounds in a row, or at once when the failure cannot heal
  (bad key, unknown model, missing backend), :class:`EndpointUnavailable` is raised; the
  loop should catch it and stop (or continue without the agent) with its message.
- Tokens and costs are recorded in ``<run_dir>/agent/usage.jsonl`` and
  ``usage_summary.json``; trajectories in ``<run_dir>/agent/trajectories.jsonl``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from agent.accounting import EpisodeUsage, UsageLedger
from agent.config import AgentConfig
from agent.episode import EpisodeLimits, EpisodeResult, new_episode_id, run_episode
from agent.inflight import EpisodeInterrupted, InflightEpisodes
from agent.llm.base import EndpointError, EndpointUnavailable, LLMClient
from agent.prompts import briefing, extra_baselines, system_prompt, target_cost
from agent.tools import TOOLS
from agent.trajectory import FORMAT, TrajectoryOutcome, TrajectoryWriter, compress_prompt_ids, reward_of, source_sha256
from evolve.proposer import Outcome, Proposal, ProposalContext, Proposer
from sandbox.shell import ShellSession

log = logging.getLogger(__name__)

ShellFactory = Callable[[Path], ShellSession]


def sandbox_shell_factory(backend: str, *, command_timeout: float, max_output: int) -> ShellFactory:
    """Shells from :func:`sandbox.open_shell` (the sandbox package's isolation backends)."""
    try:
        from sandbox import open_shell  # type: ignore[attr-defined]
    except ImportError as exc:
        raise RuntimeError("the agent needs sandbox.open_shell(workspace_root, backend, timeout=, max_output=), "
                           f"which this installation of the sandbox package does not provide ({exc})") from exc

    def factory(root: Path) -> ShellSession:
        return open_shell(root, backend, timeout=command_timeout, max_output=max_output)

    return factory


@dataclass
class _Pending:
    record: dict[str, Any]
    proposal_name: str


class AgentProposer(Proposer):
    name = "agent"

    def __init__(
        self,
        config: AgentConfig,
        run_dir: Path,
        *,
        shell_factory: ShellFactory,
        client: LLMClient | None = None,
        client_factory: Callable[[AgentConfig], LLMClient] | None = None,
    ):
        """``client`` (or ``client_factory``, default :func:`agent.llm.make_client`) is built lazily."""
        from agent.llm import make_client

        self.config = config
        self.run_dir = Path(run_dir)
        self.shell_factory = shell_factory
        self._client = client
        self._client_factory = client_factory or make_client
        self._client_lock = threading.Lock()
        self.ledger = UsageLedger(self.run_dir, price_prompt_per_mtok=config.price_prompt_per_mtok,
                                  price_completion_per_mtok=config.price_completion_per_mtok)
        self.writer = TrajectoryWriter(self.run_dir / "agent" / "trajectories.jsonl")
        self.inflight = InflightEpisodes(self.run_dir)
        self.inflight.flush(self.writer)  # episodes of a killed earlier process on this run directory
        self._stop = threading.Event()
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self.consecutive_endpoint_failures = 0
        self._fatal: str | None = None
        self.limits = EpisodeLimits(budget=config.budget, token_budget=config.token_budget,
                                    max_tokens=config.max_tokens, max_output=config.max_output,
                                    command_timeout=config.command_timeout, temperature=config.temperature)

    # ---------------------------------------------------------------- client

    def _get_client(self) -> LLMClient:
        with self._client_lock:
            if self._client is None:
                try:
                    self._client = self._client_factory(self.config)
                except EndpointError as exc:
                    msg = f"agent model {self.config.model} is unavailable: {exc}"
                    log.error(msg)
                    raise EndpointUnavailable(msg) from exc
            return self._client

    # ---------------------------------------------------------------- rounds

    def propose(self, ctx: ProposalContext) -> list[Proposal]:
        """Run this round's episodes; see the module docstring. May raise EndpointUnavailable."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.apropose(ctx))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from inside an event loop
            return pool.submit(asyncio.run, self.apropose(ctx)).result()

    async def apropose(self, ctx: ProposalContext) -> list[Proposal]:
        client = self._get_client()
        sem = asyncio.Semaphore(self.config.concurrency)

        async def one(k: int) -> tuple[EpisodeResult, dict[str, Any]]:
            async with sem:
                return await asyncio.to_thread(self._episode, ctx, client, k)

        if self._fatal is not None:
            raise EndpointUnavailable(self._fatal)
        try:
            results = await asyncio.gather(*(one(k) for k in range(self.config.episodes_per_round)))
        except asyncio.CancelledError:  # Ctrl-C: stop the episode threads at their next turn
            self._stop.set()
            getattr(getattr(client, "inner", client), "cancel", lambda: None)()  # a local model stops at once
            raise
        proposals = [p for p in (self._finish(ctx, res, meta) for res, meta in results) if p is not None]
        try:
            self._check_endpoint(ctx, [res for res, _ in results])
        except EndpointUnavailable as exc:
            if not proposals:
                raise
            self._fatal = str(exc)  # hand over this round's proposals; stop at the next round
        return proposals

    def _episode_seed(self, ctx: ProposalContext, k: int) -> int | None:
        if self.config.seed is None:
            return None
        digest = hashlib.sha256(f"{self.config.seed}:{ctx.seed}:{ctx.round}:{k}".encode()).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF

    def _episode(self, ctx: ProposalContext, client: LLMClient, k: int) -> tuple[EpisodeResult, dict[str, Any]]:
        eid = new_episode_id()
        seed = self._episode_seed(ctx, k)
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        meta = {"episode_index": k, "seed": seed, "started_at": started}
        extras = extra_baselines(ctx)
        system = system_prompt(self.limits.budget)
        brief = briefing(ctx, budget=self.limits.budget, feedback_items=self.config.feedback_items, extras=extras)
        try:
            session = self.shell_factory(ctx.workspace.root)
        except Exception as exc:  # noqa: BLE001 - no sandbox: this episode cannot run
            log.error("round %d episode %s: cannot open a sandbox shell: %s", ctx.round, eid, exc)
            res = EpisodeResult(eid, client.model, [{"role": "system", "content": system}, {"role": "user", "content": brief}],
                                end_reason="sandbox_error", error=f"cannot open a sandbox shell: {exc}")
            return res, meta
        with session:
            for x in extras:
                session.write_file(x.rel_path, x.entry.source.encode("utf-8"))
            res = run_episode(client, session, system=system, briefing=brief, limits=self.limits, seed=seed,
                              episode_id=eid, on_turn=lambda r: self._on_turn(ctx, r, meta))
        return res, meta

    def _on_turn(self, ctx: ProposalContext, res: EpisodeResult, meta: dict[str, Any]) -> None:
        """Checkpoint the episode so far (see agent.inflight); stop it when the run is interrupted."""
        cost = self.ledger.cost(res.usage.prompt_tokens, res.usage.completion_tokens)
        self.inflight.save(res.episode_id, self._record(ctx, res, meta, cost))
        if self._stop.is_set():
            raise EpisodeInterrupted(f"episode {res.episode_id} stopped: the run is being interrupted")

    def _finish(self, ctx: ProposalContext, res: EpisodeResult, meta: dict[str, Any]) -> Proposal | None:
        self.inflight.done(res.episode_id)
        cost = self.ledger.cost(res.usage.prompt_tokens, res.usage.completion_tokens)
        self.ledger.record(EpisodeUsage(res.episode_id, ctx.round, res.model, len(res.turns), res.usage.prompt_tokens,
                                        res.usage.completion_tokens, res.tool_calls_used, round(cost, 8),
                                        round(res.wall_s, 3), res.end_reason))
        record = self._record(ctx, res, meta, cost)
        if not res.accepted:
            # No proposal: the reward is known without the evaluator (0), except when the
            # infrastructure failed and there was no real rollout (None).
            record["reward"] = None if res.end_reason in ("endpoint_error", "sandbox_error") else 0
            self.writer.write(record)
            return None
        assert res.submission is not None and res.submission.source is not None
        name = f"{self.config.name_prefix}_r{ctx.round}_{res.episode_id[:6]}"
        record["proposal_name"] = name
        with self._pending_lock:
            self._pending[res.episode_id] = _Pending(record, name)
        rationale = res.submission.rationale or _last_text(res.messages)
        return Proposal(source=res.submission.source, name=name, rationale=rationale[:2000], meta={
            "episode_id": res.episode_id, "model": res.model, "end_reason": res.end_reason,
            "submission_kind": res.submission_kind or "", "tool_calls": str(res.tool_calls_used),
            "prompt_tokens": str(res.usage.prompt_tokens), "completion_tokens": str(res.usage.completion_tokens),
        })

    def _check_endpoint(self, ctx: ProposalContext, results: list[EpisodeResult]) -> None:
        failed = [r for r in results if r.endpoint_failed]
        if any(r.endpoint_fatal for r in failed):
            msg = f"agent model {self.config.model} is unavailable: {failed[0].error}"
            log.error(msg)
            raise EndpointUnavailable(msg)
        if results and len(failed) == len(results):
            self.consecutive_endpoint_failures += 1
            n, limit = self.consecutive_endpoint_failures, self.config.max_endpoint_failures
            where = self.config.base_url or self.config.model
            if n >= limit:
                msg = (f"agent endpoint {where} failed in {n} consecutive rounds (last error: {failed[-1].error}); "
                       "stopping the agent")
                log.error(msg)
                raise EndpointUnavailable(msg)
            log.error("round %d: agent endpoint %s failed (%s); no agent proposal this round (%d/%d consecutive failures)",
                      ctx.round, where, failed[-1].error, n, limit)
        elif len(failed) < len(results):
            self.consecutive_endpoint_failures = 0

    # ---------------------------------------------------------------- trajectories

    def _record(self, ctx: ProposalContext, res: EpisodeResult, meta: dict[str, Any], cost: float) -> dict[str, Any]:
        sub = res.submission
        steps = []
        for s in res.steps:
            d = asdict(s)
            if s.submission is not None:
                d["submission"] = {"path": s.submission.path, "ok": s.submission.check.ok,
                                   "reasons": list(s.submission.check.reasons)}
            steps.append(d)
        tgt = target_cost(ctx)
        return {
            "format": FORMAT,
            "episode_id": res.episode_id,
            "workspace": ctx.workspace.name,
            "round": ctx.round,
            "episode_index": meta["episode_index"],
            "seed": meta["seed"],
            "started_at": meta["started_at"],
            "wall_s": round(res.wall_s, 3),
            "model": self.config.model,
            "backend": self.config.spec.backend,
            "tool_protocol": "text" if self.config.text_protocol else "native",
            "tools": [t.openai_schema() for t in TOOLS],
            "messages": res.messages,
            "steps": steps,
            "turns": compress_prompt_ids([asdict(t) for t in res.turns]),
            "usage": {"prompt_tokens": res.usage.prompt_tokens, "completion_tokens": res.usage.completion_tokens,
                      "model_calls": len(res.turns), "cost_usd": round(cost, 8)},
            "budget": self.limits.budget,
            "token_budget": self.limits.token_budget,
            "tool_calls_used": res.tool_calls_used,
            "end_reason": res.end_reason,
            "error": res.error,
            "submission": None if sub is None else {
                "path": sub.path, "kind": res.submission_kind, "source": sub.source, "sha256": source_sha256(sub.source),
                "valid": sub.check.ok, "reasons": list(sub.check.reasons), "validator": sub.check.validator,
                "rationale": sub.rationale},
            "target": None if tgt is None else {"name": tgt[0], "replay_cost": tgt[1]},
            "proposal_name": None,
            "outcome": None,
            "reward": None,
        }

    def observe(self, proposal: Proposal, outcome: Outcome) -> None:
        """Complete and write the trajectory of the episode that produced ``proposal``."""
        eid = proposal.meta.get("episode_id", "")
        with self._pending_lock:
            pending = self._pending.pop(eid, None)
        if pending is None:
            log.warning("observe: no pending agent episode for proposal %s (episode %r)", proposal.name, eid)
            return
        out = TrajectoryOutcome(outcome.candidate_id, outcome.status, outcome.valid, outcome.replay_cost,
                                outcome.best_baseline_cost, outcome.beats_best_baseline, outcome.message)
        pending.record["outcome"] = asdict(out)
        pending.record["reward"] = reward_of(out)
        self.writer.write(pending.record)
        log.info("agent proposal %s: %s, trusted replay cost %s (best baseline %.4f)%s", proposal.name, outcome.status,
                 "n/a" if outcome.replay_cost is None else f"{outcome.replay_cost:.4f}", outcome.best_baseline_cost,
                 ", beats the best baseline" if outcome.beats_best_baseline else "")

    def close(self) -> None:
        """Write trajectories still waiting for an outcome (outcome null), then release the client."""
        with self._pending_lock:
            pending, self._pending = list(self._pending.values()), {}
        for p in pending:
            self.writer.write(p.record)
        self._stop.set()
        self.inflight.flush(self.writer)  # episodes cut short by an interruption
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _last_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m["role"] == "assistant" and (m.get("content") or "").strip():
            return str(m["content"]).strip()
    return ""
