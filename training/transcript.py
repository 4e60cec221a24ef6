"""A multi-turn conversation kept as tokens: token in, token out.

The model's sampled tokens are appended exactly as sampled and never re-tokenised. Only
text that did not come from the model (the prompt, tool results, the chat template's
turn markers) is tokenised, and only once, when it enters the conversation.

How the text between two model turns is found, for any chat template: the conversation is
rendered twice with every assistant message replaced by a sentinel string, once up to the
last assistant turn and once with the new messages and the generation prompt. The second
rendering must extend the first (:class:`TranscriptError` otherwise); the difference, plus
whatever the template writes after the last assistant content (e.g. ``<|im_end|>\\n``), is
the environment text. If the model already sampled the template's end-of-turn token, it is
not added twice.

Every completion token carries a mask bit (1 = sampled by the model, in the loss; 0 = tool
result or template text, out of the loss) and a sampling log-probability (0.0 for mask-0
tokens).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

SENTINEL = "\u2063INVEVOLVE-ASSISTANT-TURN\u2063"


class TranscriptError(RuntimeError):
    """The chat template does not render the conversation as a growing prefix."""


@dataclass
class TokenTranscript:
    """Prompt ids plus a completion built from model segments (mask 1) and environment segments (mask 0)."""

    tokenizer: Any
    eos_ids: frozenset[int] = frozenset()   # end-of-turn ids (default: the tokenizer's EOS)
    prompt_ids: list[int] = field(default_factory=list)
    completion_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    _messages: list[dict[str, str]] = field(default_factory=list)
    _last_model_eos: bool = False

    def __post_init__(self) -> None:
        if not self.eos_ids:
            eos = getattr(self.tokenizer, "eos_token_id", None)
            self.eos_ids = frozenset([eos] if isinstance(eos, int) else [])

    # ------------------------------------------------------------ building

    @property
    def started(self) -> bool:
        return bool(self.prompt_ids)

    def __len__(self) -> int:
        return len(self.prompt_ids) + len(self.completion_ids)

    @property
    def ids(self) -> list[int]:
        """The whole conversation so far: what the next model turn is conditioned on."""
        return self.prompt_ids + self.completion_ids

    def start(self, messages: Sequence[dict[str, str]]) -> None:
        """Tokenise the opening conversation (system + briefing) with the generation prompt."""
        if self.started:
            raise TranscriptError("transcript already started")
        text = self._render(messages, add_generation_prompt=True)
        self.prompt_ids = self._encode(text)
        self._messages = [dict(m) for m in messages]

    def environment_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """Token ids of what ``messages`` adds after the last model turn (not yet appended).

        ``messages`` is the full rendered conversation: the messages seen so far, the model's
        last reply, then the new (tool result) messages.
        """
        k = len(self._messages) - 1          # index of the model's last reply
        if k < 1 or self._messages[k]["role"] != "assistant":
            raise TranscriptError("no model turn to continue from")
        if len(messages) <= k or messages[k]["role"] != "assistant":
            raise TranscriptError(f"expected the model's reply at message {k}, got "
                                  f"{messages[k]['role'] if len(messages) > k else 'nothing'}")
        history = self._masked(list(messages[: k + 1]))
        new = [dict(m) for m in messages[k + 1:]]
        head = self._render(history, add_generation_prompt=False)
        full = self._render(history + new, add_generation_prompt=True)
        if not full.startswith(head):
            raise TranscriptError("the chat template does not render the conversation as a growing prefix")
        return self._join_closing(head, full[len(head):])

    def closing_ids(self) -> list[int]:
        """What the template writes after the last assistant content (to close a finished rollout)."""
        if not self._messages or self._messages[-1]["role"] != "assistant":
            raise TranscriptError("the conversation does not end with a model turn")
        history = self._masked(self._messages)
        head = self._render(history, add_generation_prompt=False)
        return self._join_closing(head, "")

    def add_environment(self, ids: Sequence[int], messages: Sequence[dict[str, str]] | None = None) -> None:
        """Append tool-result / template tokens (mask 0); ``messages`` is the conversation they complete."""
        self.completion_ids.extend(int(i) for i in ids)
        self.logprobs.extend(0.0 for _ in ids)
        self.mask.extend(0 for _ in ids)
        if messages is not None:
            self._messages = self._masked([dict(m) for m in messages])

    def add_model(self, ids: Sequence[int], logprobs: Sequence[float]) -> None:
        """Append sampled tokens exactly as sampled (mask 1)."""
        if len(ids) != len(logprobs):
            raise ValueError(f"{len(ids)} sampled tokens but {len(logprobs)} log-probabilities")
        self.completion_ids.extend(int(i) for i in ids)
        self.logprobs.extend(float(x) for x in logprobs)
        self.mask.extend(1 for _ in ids)
        self._messages.append({"role": "assistant", "content": SENTINEL})
        self._last_model_eos = bool(ids) and int(ids[-1]) in self.eos_ids

    # ------------------------------------------------------------ helpers

    def _join_closing(self, head: str, rest: str) -> list[int]:
        closing = head[head.rindex(SENTINEL) + len(SENTINEL):]
        ids = self._encode(closing + rest)
        if self._last_model_eos and ids and ids[0] in self.eos_ids:
            ids = ids[1:]      # the model already sampled the end-of-turn token
        return ids

    def _masked(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{**m, "content": SENTINEL} if m["role"] == "assistant" else dict(m) for m in messages]

    def _render(self, messages: Sequence[dict[str, str]], *, add_generation_prompt: bool) -> str:
        plain = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        return self.tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=add_generation_prompt)

    def _encode(self, text: str) -> list[int]:
        return [int(i) for i in self.tokenizer(text, add_special_tokens=False)["input_ids"]]
