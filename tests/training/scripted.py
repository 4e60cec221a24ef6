"""A scripted token generator for rollout unit tests: it 'samples' given texts, token by token."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from agent.llm.base import ChatResponse, LLMClient, ToolCall, Usage
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


class ScriptedChatClient(LLMClient):
    """A chat model that replies with scripted turns: ``(text, [(tool, arguments), ...])`` (native tool calls)
    or plain text (for the text protocol: wrap it in ``TextProtocolClient``)."""

    backend = "scripted"

    def __init__(self, turns: Sequence[Any], *, native: bool):
        self.turns, self.native_tools, self.model = list(turns), native, "scripted"
        self.n = 0

    def chat(self, messages, tools=(), *, temperature=0.7, max_tokens=1024, seed=None, stop_when=None) -> ChatResponse:
        turn = self.turns.pop(0) if self.turns else "nothing left"
        self.n += 1
        if not self.native:
            return ChatResponse(text=str(turn), usage=Usage(10, 5))
        text, calls = turn
        tcs = tuple(ToolCall(f"c{self.n}_{k}", name, args, json.dumps(args)) for k, (name, args) in enumerate(calls))
        return ChatResponse(text=text, tool_calls=tcs, usage=Usage(10, 5))

    @property
    def native(self) -> bool:
        return self.native_tools


def write_trajectories(run_dir, workspace, episodes, shell_factory, *, native: bool) -> Path:
    """Run real agent episodes (AgentProposer, sandboxed shells) with scripted replies and record them.

    ``episodes`` is a list of ``(turns, beats_best_baseline)``; each episode is one round whose
    trusted outcome is reported back with :meth:`AgentProposer.observe`, as the loop does.
    """
    from agent.config import AgentConfig
    from agent.llm.text_protocol import TextProtocolClient
    from agent.proposer import AgentProposer
    from evolve.proposer import Outcome
    from inventory.workspace import load_workspace
    from training.data import workspace_context

    ws = load_workspace(workspace)
    ctx = workspace_context(ws)
    for turns, beats in episodes:
        client = ScriptedChatClient(turns, native=native)
        cfg = AgentConfig(model="openai:scripted" if native else "hf:scripted", budget=6,
                          tool_protocol="native" if native else "text")
        prop = AgentProposer(cfg, Path(run_dir), shell_factory=shell_factory,
                             client=client if native else TextProtocolClient(client))
        for p in prop.propose(ctx):
            prop.observe(p, Outcome("cand", "pooled", True, 5.0, 6.0, beats, "scripted outcome"))
        prop.close()
    return Path(run_dir) / "agent" / "trajectories.jsonl"
