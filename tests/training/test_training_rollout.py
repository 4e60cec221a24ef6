"""Rollouts: token in / token out, masks, log-probabilities and budgets, in real sandboxed shells."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("transformers")

from inventory.workspace import load_workspace
from tests.training.conftest import WINNING_POLICY, WINNING_SCRIPT
from tests.training.scripted import ScriptedGenerator
from training.data import build_prompt
from training.generation import FinishReason, Generation, cut_at_stop
from training.models import load_tokenizer
from training.rollout import RolloutLimits, RolloutTask, run_rollouts
from training.transcript import TokenTranscript, TranscriptError
from agent.llm.text_protocol import tool_block_complete
from agent.tools import TOOLS


@pytest.fixture(scope="module")
def tok(tiny_model: Path):
    return load_tokenizer(tiny_model)


def _task(ws: Path, budget: int) -> RolloutTask:
    system, user = build_prompt(load_workspace(ws), budget)
    return RolloutTask(str(ws), system["content"], user["content"], seed=3)


def _check_lengths(r) -> None:
    assert len(r.completion_ids) == len(r.logprobs) == len(r.env_mask)
    assert set(r.env_mask) <= {0, 1}


def test_transcript_decodes_to_the_template_rendering(tok):
    """Prompt + sampled + environment tokens spell exactly what the chat template renders."""
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "brief"}]
    tr = TokenTranscript(tok)
    tr.start(msgs)
    reply = "```shell\nls\n```"
    sampled = tok(reply, add_special_tokens=False)["input_ids"]
    tr.add_model(sampled, [-1.0] * len(sampled))
    convo = msgs + [{"role": "assistant", "content": reply}, {"role": "user", "content": "[result]\nfile.py"}]
    env = tr.environment_ids(convo)
    tr.add_environment(env, convo)
    assert tok.decode(tr.ids) == tok.apply_chat_template(convo, tokenize=False, add_generation_prompt=True)
    assert tr.completion_ids[: len(sampled)] == sampled            # sampled ids kept verbatim
    assert tr.mask == [1] * len(sampled) + [0] * len(env)
    assert tr.logprobs == [-1.0] * len(sampled) + [0.0] * len(env)
    with pytest.raises(TranscriptError):
        tr.environment_ids(msgs)                                    # no model reply where one is due


def test_model_eos_is_not_added_twice(tok):
    tr = TokenTranscript(tok)
    tr.start([{"role": "user", "content": "hi"}])
    tr.add_model([5, 6, tok.eos_token_id], [-0.1, -0.2, -0.3])
    env = tr.environment_ids([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"},
                              {"role": "user", "content": "again"}])
    assert env[0] != tok.eos_token_id and tok.decode(env).startswith("\n<|im_start|>user")


def test_cut_at_stop_keeps_the_shortest_complete_block(tok):
    text = "thinking\n```shell\nls -la\n```\n[result of shell call]: made up"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    gen = cut_at_stop(tok, Generation(ids, [-0.5] * len(ids), FinishReason.LENGTH),
                      lambda t: tool_block_complete(t, TOOLS))
    assert gen.finish is FinishReason.STOP and len(gen.ids) == len(gen.logprobs) < len(ids)
    assert tool_block_complete(tok.decode(gen.ids), TOOLS) and not tool_block_complete(tok.decode(gen.ids[:-1]), TOOLS)
    assert "made up" not in tok.decode(gen.ids)


def test_multi_turn_rollout_masks_tool_tokens(tok, promo_workspace, shell_factory):
    replies = ["Let me look.\n```shell\nhead -n 3 problem_description.md\n```\n[result of shell call t1_1]\nfake",
               WINNING_SCRIPT, "```submit\nfinal_submit.py\n```"]
    gen = ScriptedGenerator(tok, replies)
    (r,) = run_rollouts([_task(promo_workspace, 5)], gen, tok, shell_factory,
                        RolloutLimits(budget=5, max_tokens_per_turn=400, max_sequence_tokens=12000))
    _check_lengths(r)
    assert r.end_reason == "submitted" and r.submission == WINNING_POLICY and r.tool_calls == 3 and r.turns == 3
    # The mask-1 tokens are exactly what was sampled, in order, with the sampling log-probabilities.
    model = [t for t, m in zip(r.completion_ids, r.env_mask) if m]
    assert model == [t for s in gen.sampled for t in s]
    assert all(lp == ScriptedGenerator.LOGPROB for lp, m in zip(r.logprobs, r.env_mask) if m)
    assert all(lp == 0.0 for lp, m in zip(r.logprobs, r.env_mask) if not m)
    # The tool output (a real command in the sandbox) sits in mask-0 tokens only.
    tool_text = tok.decode([t for t, m in zip(r.completion_ids, r.env_mask) if not m])
    assert "[result of shell call t1_1]" in tool_text and "Daily replenishment" in tool_text
    assert "fake" not in tok.decode(r.completion_ids)           # the hallucinated result was cut off
    # Each turn was conditioned on the previous context + its sampled tokens + the tool tokens.
    assert gen.prompts[0] == r.prompt_ids
    for k in (1, 2):
        assert gen.prompts[k][: len(gen.prompts[k - 1]) + len(gen.sampled[k - 1])] == gen.prompts[k - 1] + gen.sampled[k - 1]
    assert (r.prompt_ids + r.completion_ids)[: len(gen.prompts[2])] == gen.prompts[2]
    assert r.completion_ids[-1] == tok.eos_token_id and r.env_mask[-1] == 0 and not r.truncated


def test_tool_call_budget_ends_the_rollout(tok, promo_workspace, shell_factory):
    gen = ScriptedGenerator(tok, ["no tool here"] * 10)
    (r,) = run_rollouts([_task(promo_workspace, 3)], gen, tok, shell_factory,
                        RolloutLimits(budget=3, max_tokens_per_turn=50, max_sequence_tokens=12000))
    _check_lengths(r)
    assert r.end_reason == "budget" and r.tool_calls == 3 and r.turns == 3 and r.submission is None
    assert sum(r.env_mask) == sum(len(s) for s in gen.sampled)


def test_token_budget_ends_the_rollout(tok, promo_workspace, shell_factory):
    gen = ScriptedGenerator(tok, ["```shell\nls\n```"] * 20)
    task = _task(promo_workspace, 20)
    limit = 3000
    (r,) = run_rollouts([task], gen, tok, shell_factory,
                        RolloutLimits(budget=20, max_tokens_per_turn=40, max_sequence_tokens=limit))
    _check_lengths(r)
    assert r.end_reason == "request_error" and "token budget" in (r.error or "")
    assert len(r.prompt_ids) + len(r.completion_ids) <= limit and 1 <= r.tool_calls < 20


def test_long_reply_is_truncated_and_flagged(tok, promo_workspace, shell_factory):
    gen = ScriptedGenerator(tok, ["word " * 200])
    (r,) = run_rollouts([_task(promo_workspace, 1)], gen, tok, shell_factory,
                        RolloutLimits(budget=1, max_tokens_per_turn=20, max_sequence_tokens=12000))
    _check_lengths(r)
    assert r.truncated and sum(r.env_mask) == 20 and r.completion_ids[-1] != tok.eos_token_id


def test_concurrent_rollouts_share_batches(tok, promo_workspace, shell_factory):
    gen = ScriptedGenerator(tok, ["```submit\nfinal_submit.py\n```"] * 4)
    tasks = [_task(promo_workspace, 2) for _ in range(4)]
    rs = run_rollouts(tasks, gen, tok, shell_factory, RolloutLimits(budget=2, max_tokens_per_turn=40,
                                                                   max_sequence_tokens=12000),
                      concurrency=4, batch_wait=30.0)
    assert len(rs) == 4 and all(r.submission is None for r in rs)
    assert gen.batches[0] == 4            # the first turns of all four rollouts were sampled as one batch
    assert all(r.submission_rejected is False for r in rs)   # no final_submit.py: submit fails, nothing collected
    for r in rs:
        _check_lengths(r)


class _BrokenGenerator(ScriptedGenerator):
    def generate(self, requests):
        raise RuntimeError("CUDA out of memory (simulated)")


def test_broken_sandbox_or_generation_gives_an_unscored_rollout(tok, promo_workspace, shell_factory, tmp_path):
    from training.config import RewardConfig
    from training.grpo import RewardFunction
    from training.progress import StepLog
    from training.reward import RewardStatus, TrustedReward

    def no_shell(root):
        raise OSError("sandbox backend vanished")

    limits = RolloutLimits(budget=2, max_tokens_per_turn=20, max_sequence_tokens=12000)
    (a,) = run_rollouts([_task(promo_workspace, 2)], ScriptedGenerator(tok, []), tok, no_shell, limits)
    (b,) = run_rollouts([_task(promo_workspace, 2)], _BrokenGenerator(tok, []), tok, shell_factory, limits)
    assert a.end_reason == "sandbox_error" and "vanished" in a.error
    assert b.end_reason == "endpoint_error" and "out of memory" in b.error
    for r in (a, b):
        _check_lengths(r)
        assert sum(r.env_mask) == 0 and r.submission is None      # nothing of it reaches the loss
    log = StepLog(tmp_path, group_size=2)
    fn = RewardFunction(TrustedReward(RewardConfig(trials=10)), log)
    got = fn([], [], rollout_workspace=[str(promo_workspace)] * 3, rollout_submission=[None, None, None],
             rollout_end_reason=["sandbox_error", "budget", "endpoint_error"])
    assert got == [None, 0.0, None]                              # no reward, not a zero reward
    assert [o.status for o in log.take().outcomes] == [RewardStatus.UNSCORED, RewardStatus.NO_SUBMISSION,
                                                       RewardStatus.UNSCORED]
