"""One agent rollout (paper Sec. 4.2; SPEC §6): model turns and tool calls until submit or budget.

Contract of :func:`run_episode`:
- The conversation starts with the system prompt and the briefing; each model turn may make
  tool calls, each executed in order and answered with a ``tool`` message (OpenAI format).
- Budget K counts executed or refused tool calls plus replies with no tool call; calls beyond
  K in one reply are answered "not run" and the episode ends. The token budget counts the
  prompt and completion tokens of every model call; it is checked before each call.
- The episode ends on the first accepted ``submit`` (``end_reason="submitted"``), on budget
  exhaustion (``"budget"`` / ``"token_budget"``), on an endpoint failure (``"endpoint_error"``,
  after the client's retries), on a rejected request (``"request_error"``), or on a sandbox
  failure (``"sandbox_error"``). Without an accepted submit, an existing ``final_submit.py``
  is read and validated as the submission (``submission_kind="file"``).
- It never raises for model, endpoint or sandbox failures: they end up in the result.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from agent.llm.base import EndpointError, LLMClient, LLMRequestError, Usage
from agent.prompts import BUDGET_WARNING, NO_TOOL_CALL
from agent.tools import SUBMIT_FILE, TOOLS, Submission, StepRecord, ToolRunner
from agent.validation import validate_submission
from sandbox.shell import ShellSession

log = logging.getLogger(__name__)

END_REASONS = ("submitted", "budget", "token_budget", "endpoint_error", "request_error", "sandbox_error")


@dataclass(frozen=True)
class EpisodeLimits:
    budget: int = 60
    token_budget: int = 1_500_000
    max_tokens: int = 4096
    max_output: int = 4000
    command_timeout: float = 300.0
    temperature: float = 0.7


@dataclass(frozen=True)
class TurnRecord:
    turn: int
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    latency_s: float
    attempts: int
    n_tool_calls: int
    protocol_error: str | None = None
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None


@dataclass
class EpisodeResult:
    episode_id: str
    model: str
    messages: list[dict[str, Any]]
    steps: list[StepRecord] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    usage: Usage = Usage()
    tool_calls_used: int = 0
    end_reason: str = "budget"
    error: str | None = None
    endpoint_fatal: bool = False
    submission: Submission | None = None
    submission_kind: str | None = None      # "tool" (explicit submit) or "file" (final_submit.py at the end)
    wall_s: float = 0.0

    @property
    def accepted(self) -> bool:
        """True when the episode produced a structurally valid submission."""
        return self.submission is not None and self.submission.check.ok and self.submission.source is not None

    @property
    def endpoint_failed(self) -> bool:
        return self.end_reason == "endpoint_error"


def new_episode_id() -> str:
    return uuid.uuid4().hex[:12]


def _tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def run_episode(
    client: LLMClient,
    session: ShellSession,
    *,
    system: str,
    briefing: str,
    limits: EpisodeLimits,
    seed: int | None = None,
    episode_id: str | None = None,
    on_turn: "Callable[[EpisodeResult], None] | None" = None,
) -> EpisodeResult:
    """Run one rollout in ``session``; see the module docstring for the contract.

    ``on_turn(result_so_far)`` runs after every model turn and its tool calls (checkpoints;
    it may raise to stop the episode, e.g. when the run is interrupted).
    """
    t0 = time.monotonic()
    res = EpisodeResult(episode_id or new_episode_id(), client.model,
                        [{"role": "system", "content": system}, {"role": "user", "content": briefing}])
    runner = ToolRunner(session, max_output=limits.max_output, command_timeout=limits.command_timeout)
    submitted = False
    turn = 0
    while not submitted:
        if on_turn is not None and turn:
            on_turn(res)
        if res.tool_calls_used >= limits.budget:
            res.end_reason = "budget"
            break
        if res.usage.total_tokens >= limits.token_budget:
            res.end_reason = "token_budget"
            break
        try:
            resp = client.chat(res.messages, TOOLS, temperature=limits.temperature, max_tokens=limits.max_tokens,
                               seed=None if seed is None else seed + turn)
        except EndpointError as exc:
            res.end_reason, res.error, res.endpoint_fatal = "endpoint_error", str(exc), exc.fatal
            log.error("episode %s: model endpoint failed: %s", res.episode_id, exc)
            break
        except LLMRequestError as exc:
            res.end_reason, res.error = "request_error", str(exc)
            log.warning("episode %s: model request rejected: %s", res.episode_id, exc)
            break
        turn += 1
        res.usage = res.usage + resp.usage
        res.turns.append(TurnRecord(turn, resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.finish_reason,
                                    round(resp.latency_s, 4), resp.attempts, len(resp.tool_calls), resp.protocol_error,
                                    resp.prompt_token_ids, resp.completion_token_ids))
        res.messages.append(resp.assistant_message())
        if not resp.tool_calls:
            res.tool_calls_used += 1
            left = limits.budget - res.tool_calls_used
            msg = NO_TOOL_CALL.format(left=left)
            if resp.protocol_error:
                msg = f"Could not parse a tool call: {resp.protocol_error}.\n" + msg
            res.messages.append({"role": "user", "content": msg})
            log.debug("episode %s turn %d: no tool call (%s)", res.episode_id, turn, resp.protocol_error or "plain text")
            continue
        for call in resp.tool_calls:
            if submitted:
                res.messages.append(_tool_message(call.id, "Not run: the episode ended with your submission."))
                continue
            if res.tool_calls_used >= limits.budget:
                res.messages.append(_tool_message(call.id, "Not run: the tool-call budget is spent."))
                continue
            res.tool_calls_used += 1
            try:
                step = runner.run(call, index=res.tool_calls_used, turn=turn)
            except Exception as exc:  # noqa: BLE001 - a broken sandbox ends the episode, never the run
                res.end_reason, res.error = "sandbox_error", f"{type(exc).__name__}: {exc}"
                log.error("episode %s: sandbox failed on %s: %s", res.episode_id, call.name, exc)
                res.messages.append(_tool_message(call.id, "ERROR: the sandbox failed; the episode ends."))
                res.wall_s = time.monotonic() - t0
                return res
            res.steps.append(step)
            left = limits.budget - res.tool_calls_used
            content = step.result
            if step.submission is not None:
                res.submission, res.submission_kind = step.submission, "tool"
                submitted = step.submission.check.ok
            if not submitted:
                content += "\n" + (BUDGET_WARNING.format(left=left) if left <= 3 else f"[{left} tool calls left]")
            res.messages.append(_tool_message(call.id, content))
            log.debug("episode %s call %d: %s -> %s", res.episode_id, res.tool_calls_used, call.name,
                      step.error or f"exit {step.exit_code}")
    if submitted:
        res.end_reason = "submitted"
    elif res.end_reason != "sandbox_error":
        _collect_file_submission(res, session)
    res.wall_s = time.monotonic() - t0
    log.info("episode %s ended (%s) after %d tool calls, %d tokens, %.1fs; submission %s",
             res.episode_id, res.end_reason, res.tool_calls_used, res.usage.total_tokens, res.wall_s,
             "accepted" if res.accepted else ("rejected" if res.submission else "none"))
    return res


def _collect_file_submission(res: EpisodeResult, session: ShellSession) -> None:
    """Without an accepted submit: take ``final_submit.py`` if the agent wrote one (paper's convention)."""
    try:
        data = session.read_file(SUBMIT_FILE)
    except Exception as exc:  # noqa: BLE001 - the session may already be broken
        log.warning("episode %s: cannot read %s: %s", res.episode_id, SUBMIT_FILE, exc)
        return
    if data is None:
        return
    source, check = validate_submission(data)
    res.submission, res.submission_kind = Submission(SUBMIT_FILE, source, check), "file"
