"""Multi-turn agent rollouts for training, independent of TRL (paper Sec. 4.2; SPEC §6).

A rollout is one episode of the real agent (:func:`agent.episode.run_episode`, the text
tool protocol, the ``shell`` and ``submit`` tools) in its own sandboxed copy of the
workspace (:func:`agent.proposer.sandbox_shell_factory`). The model behind it is a
:class:`TokenClient`: it keeps the conversation as tokens (:class:`TokenTranscript`), so
what the model sampled is never re-tokenised, and tool results enter as mask-0 tokens.

Budgets per rollout: ``budget`` tool calls (K; a reply without a call also counts, as in
the agent) and ``max_sequence_tokens`` for prompt + completion (model and tool tokens);
when the next turn would not fit, the episode ends (``end_reason = "request_error"`` with
the budget named) and ``final_submit.py``, if written, is still collected.

Contract of :func:`run_rollouts`: one :class:`Rollout` per row, in order, never raising for
a model, sandbox or protocol failure (the rollout records it and has no submission); the
completion's ids, log-probabilities and mask have equal lengths; the last token closes the
final model turn (an EOS) unless the model was cut off by ``max_tokens_per_turn``.
"""
from __future__ import annotations

import concurrent.futures
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from agent.episode import EpisodeLimits, run_episode
from agent.llm.base import ChatResponse, EndpointError, LLMClient, LLMRequestError, ToolSpec, Usage
from agent.llm.text_protocol import TextProtocolClient
from sandbox.shell import ShellSession
from training.generation import FinishReason, GenRequest, RequestBatcher, TokenGenerator
from training.transcript import TokenTranscript

log = logging.getLogger(__name__)

ShellFactory = Callable[[Path], ShellSession]


@dataclass(frozen=True)
class RolloutLimits:
    budget: int = 60
    max_tokens_per_turn: int = 2048
    max_sequence_tokens: int = 32768
    max_output: int = 4000
    command_timeout: float = 120.0
    temperature: float = 1.0


@dataclass(frozen=True)
class RolloutTask:
    """What one rollout needs: the workspace and the opening conversation (system, briefing)."""

    workspace: str
    system: str
    briefing: str
    seed: int | None = None


@dataclass
class Rollout:
    """One finished rollout, in TRL's terms (``prompt_ids``, ``completion_ids``, ``logprobs``, ``env_mask``)."""

    workspace: str
    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    env_mask: list[int]                  # 1 = sampled by the model (in the loss), 0 = tool result / template
    end_reason: str
    submission: str | None               # source of a structurally valid submission, else None
    submission_rejected: bool = False    # a submission existed but failed the structural check
    tool_calls: int = 0
    turns: int = 0
    truncated: bool = False              # the last model turn hit max_tokens_per_turn
    error: str | None = None
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_tokens(self) -> int:
        return sum(self.env_mask)

    @property
    def env_tokens(self) -> int:
        return len(self.env_mask) - sum(self.env_mask)


class TokenClient(LLMClient):
    """The agent's model, token in / token out, for one rollout (wrap it in :class:`TextProtocolClient`)."""

    backend = "train"
    native_tools = False

    def __init__(self, generator: TokenGenerator | RequestBatcher, tokenizer: Any, eos_ids: frozenset[int], *,
                 max_sequence_tokens: int, model: str = "policy"):
        self.generator, self.model = generator, model
        self.transcript = TokenTranscript(tokenizer, frozenset(eos_ids))
        self.max_sequence_tokens = max_sequence_tokens
        self.last_finish: FinishReason | None = None

    def chat(self, messages: Sequence[dict[str, Any]], tools: Sequence[ToolSpec] = (), *, temperature: float = 1.0,
             max_tokens: int = 1024, seed: int | None = None,
             stop_when: Callable[[str], bool] | None = None) -> ChatResponse:
        t0 = time.monotonic()
        tr = self.transcript
        plain = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        env: list[int] = []
        if not tr.started:
            tr.start(plain)
        else:
            env = tr.environment_ids(plain)
        room = self.max_sequence_tokens - len(tr) - len(env)
        if room < 1:
            raise LLMRequestError(f"rollout token budget of {self.max_sequence_tokens} tokens is spent")
        if env:
            tr.add_environment(env, plain)
        prompt_len = len(tr)
        req = GenRequest(tr.ids, min(max_tokens, room), temperature, seed, stop_when)
        try:
            gen = (self.generator.generate(req) if isinstance(self.generator, RequestBatcher)
                   else self.generator.generate([req])[0])
        except Exception as exc:  # noqa: BLE001 - the episode ends with endpoint_error, the rollout is unscored
            raise EndpointError(f"generation failed: {type(exc).__name__}: {exc}", fatal=True) from exc
        tr.add_model(gen.ids, gen.logprobs)
        self.last_finish = gen.finish
        text = tr.tokenizer.decode(gen.ids, skip_special_tokens=True)
        return ChatResponse(text=text, usage=Usage(prompt_len, len(gen.ids)),
                            finish_reason="length" if gen.finish is FinishReason.LENGTH else "stop",
                            model=self.model, completion_token_ids=list(gen.ids), latency_s=time.monotonic() - t0)


def run_rollout(task: RolloutTask, generator: TokenGenerator | RequestBatcher, tokenizer: Any, eos_ids: frozenset[int],
                shell_factory: ShellFactory, limits: RolloutLimits) -> Rollout:
    """One sandboxed agent episode as a training sample (see the module contract)."""
    t0 = time.monotonic()
    client = TokenClient(generator, tokenizer, eos_ids, max_sequence_tokens=limits.max_sequence_tokens)
    ep_limits = EpisodeLimits(budget=limits.budget, token_budget=2**62, max_tokens=limits.max_tokens_per_turn,
                              max_output=limits.max_output, command_timeout=limits.command_timeout,
                              temperature=limits.temperature)
    error = None
    try:
        with shell_factory(Path(task.workspace)) as session:
            res = run_episode(TextProtocolClient(client), session, system=task.system, briefing=task.briefing,
                              limits=ep_limits, seed=task.seed)
        end_reason, error = res.end_reason, res.error
        sub = res.submission
        source = sub.source if res.accepted and sub is not None else None
        rejected = sub is not None and not res.accepted
        calls, turns = res.tool_calls_used, len(res.turns)
    except Exception as exc:  # noqa: BLE001 - a broken sandbox or template ends this rollout only
        log.error("rollout on %s failed: %s: %s", task.workspace, type(exc).__name__, exc)
        end_reason, error, source, rejected, calls, turns = "sandbox_error", f"{type(exc).__name__}: {exc}", None, False, 0, 0
    tr = client.transcript
    if not tr.started:      # the episode never reached the model: an empty, masked-out sample
        tr.start([{"role": "system", "content": task.system}, {"role": "user", "content": task.briefing}])
    truncated = client.last_finish is FinishReason.LENGTH
    if tr.completion_ids and tr.mask[-1] == 1 and not truncated and tr.completion_ids[-1] not in eos_ids:
        close = tr.closing_ids()       # close the last model turn up to its end-of-turn token
        k = next((i for i, t in enumerate(close) if t in eos_ids), None)
        if k is not None:
            tr.add_environment(close[: k + 1])
    if not tr.completion_ids:
        tr.add_environment(_fallback_eos(eos_ids))
    return Rollout(task.workspace, list(tr.prompt_ids), list(tr.completion_ids), list(tr.logprobs), list(tr.mask),
                   end_reason, source, rejected, calls, turns, truncated, error, time.monotonic() - t0)


def _fallback_eos(eos_ids: frozenset[int]) -> list[int]:
    return [min(eos_ids)] if eos_ids else []


def run_rollouts(tasks: Sequence[RolloutTask], generator: TokenGenerator, tokenizer: Any, shell_factory: ShellFactory,
                 limits: RolloutLimits, *, concurrency: int = 1, batch_wait: float = 0.05,
                 progress: Callable[[Rollout], None] | None = None) -> list[Rollout]:
    """Run ``tasks`` (at most ``concurrency`` at once, generation batched across them)."""
    eos = generator.eos_ids
    batcher = RequestBatcher(generator, max_wait=batch_wait)

    def one(task: RolloutTask) -> Rollout:
        batcher.join()
        try:
            r = run_rollout(task, batcher, tokenizer, eos, shell_factory, limits)
        finally:
            batcher.leave()
        if progress is not None:
            progress(r)
        return r

    with generator.session():
        if concurrency <= 1:
            out = [one(t) for t in tasks]
        else:
            with concurrent.futures.ThreadPoolExecutor(min(concurrency, len(tasks)) or 1,
                                                       thread_name_prefix="rollout") as pool:
                out = list(pool.map(one, tasks))
    if batcher.batch_sizes:
        log.debug("generation batches: %d, mean size %.2f", len(batcher.batch_sizes),
                  sum(batcher.batch_sizes) / len(batcher.batch_sizes))
    return out
