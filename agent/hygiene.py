"""What the episode does to every model reply and tool result before keeping or sending it.

Two jobs, both defence in depth for issue #8:

* **bounds**: a reply is at most ``reply_char_limit(max_tokens)`` characters of text and of
  each tool call's arguments, and at most ``2 * max_tokens`` completion token ids; anything
  longer is cut (text: head and tail kept, with a note) before it is stored in the
  conversation, sent back to the model or written to a trajectory. A misbehaving endpoint
  can otherwise fill the run directory (629 MB of trajectories from a tiny run was seen).
* **secrets**: every string goes through the run's :class:`evaluation.redact.Redactor`.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from agent.llm.base import ChatResponse, ToolCall

Scrub = Callable[[Any], Any]


def identity(obj: Any) -> Any:
    return obj


def reply_char_limit(max_tokens: int) -> int:
    """Characters a reply of ``max_tokens`` tokens can honestly need (about 4 per token, x4 margin)."""
    return max(16 * int(max_tokens), 16_000)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = int(limit * 0.75)
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - head - tail} characters of the reply cut ...]\n{text[-tail:]}"


def clean_response(resp: ChatResponse, max_tokens: int, scrub: Scrub = identity) -> ChatResponse:
    """``resp`` bounded and redacted (see the module docstring)."""
    limit = reply_char_limit(max_tokens)
    calls = []
    for c in resp.tool_calls:
        raw = c.raw if isinstance(c.raw, str) else json.dumps(c.raw, default=str)
        if len(raw) > limit:
            calls.append(ToolCall(scrub(c.id), scrub(str(c.name)[:200]), None, scrub(_cut(raw, limit)),
                                  f"arguments are {len(raw)} characters long, over the limit of {limit}"))
        else:
            calls.append(ToolCall(scrub(c.id), scrub(str(c.name)[:200]), scrub(c.arguments), scrub(raw),
                                  scrub(c.error)))
    ids = resp.completion_token_ids
    if ids is not None and len(ids) > 2 * max_tokens:
        ids = None
    return dataclasses.replace(resp, text=scrub(_cut(resp.text, limit)), tool_calls=tuple(calls),
                               completion_token_ids=ids, protocol_error=scrub(resp.protocol_error))


def clean_step(step: Any, scrub: Scrub) -> Any:
    """A StepRecord with its texts (and any submission source) redacted."""
    sub = step.submission
    if sub is not None:
        sub = dataclasses.replace(sub, source=scrub(sub.source), rationale=scrub(sub.rationale))
    return dataclasses.replace(step, result=scrub(step.result), error=scrub(step.error), raw=scrub(step.raw),
                               arguments=scrub(step.arguments), submission=sub)
