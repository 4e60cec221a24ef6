"""A scripted token generator for rollout unit tests: it 'samples' given texts, token by token."""
from __future__ import annotations

from typing import Any, Sequence

from training.generation import FinishReason, GenRequest, Generation, TokenGenerator, cut_at_stop


class ScriptedGenerator(TokenGenerator):
    """Returns the tokenisation of the next scripted reply (cut to ``max_new_tokens``), logprob -0.25 each.

    ``prompts`` records every prompt it was asked to continue, so tests can check that each
    turn's context is the previous context + the sampled tokens + the tool tokens.
    """

    LOGPROB = -0.25

    def __init__(self, tokenizer: Any, replies: Sequence[str], *, end_with_eos: bool = False):
        self.tokenizer, self.replies = tokenizer, list(replies)
        self.eos_ids = frozenset([tokenizer.eos_token_id])
        self.end_with_eos = end_with_eos
        self.prompts: list[list[int]] = []
        self.sampled: list[list[int]] = []
        self.batches: list[int] = []

    def generate(self, requests: Sequence[GenRequest]) -> list[Generation]:
        out = []
        self.batches.append(len(requests))
        for req in requests:
            self.prompts.append(list(req.prompt_ids))
            text = self.replies.pop(0) if self.replies else "I have nothing more to say."
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if self.end_with_eos:
                ids = ids + [self.tokenizer.eos_token_id]
            finish = FinishReason.EOS if self.end_with_eos else FinishReason.STOP
            if len(ids) > req.max_new_tokens:
                ids, finish = ids[: req.max_new_tokens], FinishReason.LENGTH
            gen = cut_at_stop(self.tokenizer, Generation(ids, [self.LOGPROB] * len(ids), finish), req.stop_when)
            self.sampled.append(list(gen.ids))
            out.append(gen)
        return out
