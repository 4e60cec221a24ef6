"""The one small interface every LLM backend implements.

Messages are OpenAI chat-completions dicts (``role``, ``content``, optional ``tool_calls`` on
assistant messages, ``tool_call_id`` on ``tool`` messages). That list is the canonical
conversation the episode keeps and the trajectory stores; backends without native tool
calling get it rendered to plain text by :mod:`agent.llm.text_protocol`.

Error contract (what callers may rely on):

- :class:`EndpointError` with ``fatal=False``: the endpoint failed transiently (connection
  refused, timeout, HTTP 429/5xx) and kept failing after the client's own retries.
- :class:`EndpointError` with ``fatal=True``: retrying cannot help (bad key, unknown model,
  missing backend package). The proposer stops the run with :class:`EndpointUnavailable`.
- :class:`LLMRequestError`: the endpoint rejected this one request (context too long,
  malformed request). The episode ends; the endpoint is not considered down.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


class LLMError(Exception):
    """Base class of backend failures."""


class EndpointError(LLMError):
    """The backend is unreachable or unusable (after retries when transient)."""

    def __init__(self, message: str, *, fatal: bool = False, status: int | None = None):
        super().__init__(message)
        self.fatal, self.status = fatal, status


class LLMRequestError(LLMError):
    """The backend rejected one request (e.g. the context is too long)."""


try:  # the loop's "this proposer is done" signal, where evolve defines one
    from evolve.proposer import ProposerUnavailable as _UnavailableBase  # type: ignore[attr-defined]
except ImportError:
    _UnavailableBase = RuntimeError  # type: ignore[misc,assignment]


class EndpointUnavailable(_UnavailableBase):  # type: ignore[valid-type,misc]
    """Raised by the proposer when the endpoint is down for good.

    The loop should stop asking the agent and finish the run (certify and deploy with the
    pool it has), logging this message. It subclasses ``evolve.proposer.ProposerUnavailable``
    when that exists, else ``RuntimeError``.
    """


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model; ``parameters`` is a JSON schema object."""

    name: str
    description: str
    parameters: dict[str, Any]

    def openai_schema(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


@dataclass(frozen=True)
class ToolCall:
    """One tool call as the model wrote it.

    ``arguments`` is the decoded argument object, or None when decoding failed; then
    ``error`` says why (and is shown to the model). ``raw`` keeps the model's exact text.
    """

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw: str
    error: str | None = None

    def openai_message_part(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.raw}}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)


@dataclass(frozen=True)
class ChatResponse:
    """One model turn.

    ``text`` is the assistant's text (for text-protocol models: the raw text, tool blocks
    included). ``tool_calls`` are native or parsed calls. ``protocol_error`` is set by the
    text protocol when the reply held something that looked like a tool call but could not
    be parsed and yielded no call. Token ids are filled where the backend exposes them.
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()
    finish_reason: str | None = None
    model: str = ""
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    latency_s: float = 0.0
    protocol_error: str | None = None
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def assistant_message(self) -> dict[str, Any]:
        """The canonical (OpenAI-format) assistant message for the conversation."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            msg["tool_calls"] = [c.openai_message_part() for c in self.tool_calls]
        return msg


class LLMClient(ABC):
    """A chat model. Implementations must be safe to call from several threads.

    ``native_tools`` says whether ``tools`` are passed to the backend as structured tool
    definitions (True) or whether the caller must use the text protocol (False; see
    :class:`agent.llm.text_protocol.TextProtocolClient`).
    """

    backend: str = "llm"
    model: str = ""
    native_tools: bool = True

    @abstractmethod
    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[ToolSpec] = (),
        *,
        temperature: float = 0.7,
        max_tokens: int = 1024,
        seed: int | None = None,
        stop_when: Callable[[str], bool] | None = None,
    ) -> ChatResponse:
        """One completion for ``messages``. Raises :class:`EndpointError` or :class:`LLMRequestError`.

        ``stop_when(text_so_far)``: local backends may end generation early once it returns
        True (the text protocol uses it to stop after the first complete tool block); remote
        backends ignore it.
        """

    def close(self) -> None:
        """Release connections, models, engines."""


def decode_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Decode a tool call's JSON argument string: (arguments, error).

    Some servers send the arguments as an object instead of a JSON string; that is taken as
    is. Anything else that is not a string is an error shown to the model.
    """
    if isinstance(raw, dict):
        return raw, None
    if raw is not None and not isinstance(raw, str):
        return None, f"arguments must be a JSON object encoded as a string, got {type(raw).__name__}"
    if raw is None or raw.strip() == "":
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"arguments are not valid JSON ({exc.msg} at position {exc.pos})"
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None
