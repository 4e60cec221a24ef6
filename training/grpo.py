"""GRPO of the policy-writing LLM with TRL's ``GRPOTrainer`` (paper Sec. 4.2; SPEC §6).

Why ``rollout_func`` and not ``environment_factory``: a rollout here is a whole agent
episode (many model turns, sandboxed shell commands, a submission) run by the project's
own agent loop with its text tool protocol, budgets and sandbox, which works for any chat
model, including ones without a tool-calling template (SmolLM2). ``environment_factory``
would hand the turn loop to TRL's tool-call parser (a response schema per model family)
and re-implement the episode inside TRL; ``rollout_func`` keeps the episode in
:mod:`training.rollout` and gives TRL exactly what it trains on: prompt ids, completion
ids, sampling log-probabilities and the mask (``env_mask``) that removes tool-result tokens
from the loss.

Generation: ``transformers`` ``generate`` on the policy (CPU; or a GPU without vLLM);
``vllm_colocate`` (``use_vllm=True, vllm_mode="colocate"``, sleep mode: vLLM's weights and
KV cache are freed during the optimizer step); ``vllm_server`` (``vllm_mode="server"``, a
``trl vllm-serve`` process on other GPUs; TRL pushes the weights before every rollout
batch). TRL syncs the weights before calling the rollout function in both vLLM modes.

Reward: :mod:`training.reward` (trusted evaluator only). Progress: :mod:`training.progress`.
Checkpoints every ``grpo.save_steps`` steps; :func:`train_grpo` with ``resume=True``
continues from the last complete checkpoint of the output directory.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from training.config import ConfigError, GenerationBackend, TrainConfig
from training.data import PromptRow, prompt_key, training_rows
from training.generation import HFGenerator, TokenGenerator, VLLMEngineGenerator, VLLMServerGenerator
from training.models import (device_and_dtype, eos_ids, load_tokenizer, model_context_length, peft_config,
                             resolve_model_dir)
from training.progress import REWARD_NAME, MetricsCallback, StepLog
from training.reward import RewardOutcome, RewardStatus, TrustedReward
from training.rollout import RolloutLimits, RolloutTask, ShellFactory, run_rollouts

log = logging.getLogger(__name__)

CONFIG_FILE = "train_config.json"
BROKEN = ("sandbox_error", "endpoint_error")   # rollouts that say nothing about the policy


def resolve_backend(config: TrainConfig, device: str) -> GenerationBackend:
    backend = config.generation.backend
    if backend is GenerationBackend.AUTO:
        import importlib.util

        if device == "cuda" and importlib.util.find_spec("vllm") is not None:
            return GenerationBackend.VLLM_COLOCATE
        return GenerationBackend.TRANSFORMERS
    if backend is not GenerationBackend.TRANSFORMERS and device != "cuda":
        raise ConfigError(f"generation.backend = {backend.value!r} needs a CUDA device (model.device is {device!r})")
    if backend is GenerationBackend.VLLM_COLOCATE and config.generation.vllm_tensor_parallel_size != 1:
        raise ConfigError("generation.vllm_tensor_parallel_size must be 1 in colocate mode: multi-turn rollouts "
                          "generate asynchronously per process; use vllm_server for tensor parallelism")
    return backend


def per_device_batch(config: TrainConfig, world: int) -> int:
    """Rollouts per process and micro-batch: prompts x G per step, split over processes and accumulation."""
    g = config.grpo
    rollouts = g.prompts_per_step * g.num_generations
    per_device, rem = divmod(rollouts, world * g.gradient_accumulation_steps)
    if rem or per_device < 1:
        raise ConfigError(f"grpo: {g.prompts_per_step} prompts x {g.num_generations} rollouts = {rollouts} per step "
                          f"is not divisible by {world} process(es) x {g.gradient_accumulation_steps} accumulation steps")
    return per_device


def grpo_args(config: TrainConfig, output: Path, device: str, dtype: Any, backend: GenerationBackend, *,
              max_sequence_tokens: int | None = None, **overrides: Any) -> Any:
    """TRL ``GRPOConfig`` from the project config (``overrides`` are GRPOConfig fields, e.g. in tests).

    ``max_sequence_tokens``: the rollout length actually used (the config's, capped at the model's context).
    """
    import torch
    from trl import GRPOConfig

    g, r, gen = config.grpo, config.rollout, config.generation
    max_seq = max_sequence_tokens or r.max_sequence_tokens
    per_device = per_device_batch(config, int(os.environ.get("WORLD_SIZE", "1")))
    vllm = backend is not GenerationBackend.TRANSFORMERS
    kwargs: dict[str, Any] = dict(
        output_dir=str(output), per_device_train_batch_size=per_device,
        gradient_accumulation_steps=g.gradient_accumulation_steps, num_generations=g.num_generations,
        max_steps=g.max_steps, learning_rate=g.learning_rate, lr_scheduler_type=g.lr_scheduler, beta=g.beta,
        epsilon=g.epsilon, loss_type=g.loss_type, temperature=g.temperature, top_p=g.top_p, seed=g.seed,
        max_completion_length=max_seq, mask_truncated_completions=g.mask_truncated_completions,
        gradient_checkpointing=g.gradient_checkpointing, logging_steps=1, save_strategy="steps",
        save_steps=g.save_steps, save_total_limit=g.save_total_limit or None, report_to=[], disable_tqdm=True,
        use_cpu=device == "cpu", bf16=dtype == torch.bfloat16, fp16=False,
        model_init_kwargs={"dtype": str(dtype).removeprefix("torch.")}, remove_unused_columns=False,
        use_vllm=vllm,
    )
    if vllm:
        kwargs.update(vllm_mode="colocate" if backend is GenerationBackend.VLLM_COLOCATE else "server",
                      vllm_enable_sleep_mode=gen.vllm_sleep_mode, vllm_gpu_memory_utilization=gen.vllm_gpu_memory_utilization,
                      vllm_tensor_parallel_size=gen.vllm_tensor_parallel_size,
                      vllm_max_model_length=gen.vllm_max_model_length or max_seq,
                      vllm_server_base_url=gen.vllm_server_url)
    kwargs.update(overrides)
    return GRPOConfig(**kwargs)


@dataclass
class RolloutFunction:
    """TRL's ``rollout_func(prompts, trainer)``: runs the agent rollouts of one generation batch.

    ``prompts`` arrive already repeated ``num_generations`` times (TRL's sampler); each is
    mapped back to its workspace by :func:`training.data.prompt_key`. Returns TRL's keys
    plus ``env_mask`` and, for the reward function, ``rollout_workspace`` and
    ``rollout_submission``.
    """

    rows: dict[str, PromptRow]
    tokenizer: Any
    eos: frozenset[int]
    shell_factory: ShellFactory
    limits: RolloutLimits
    config: TrainConfig
    step_log: StepLog
    backend: GenerationBackend
    _generator: TokenGenerator | None = None

    def generator(self, trainer: Any) -> TokenGenerator:
        if self._generator is None:
            top_p, top_k = trainer.top_p, trainer.top_k or 0
            kwargs = dict(trainer.args.generation_kwargs or {})
            if self.backend is GenerationBackend.VLLM_COLOCATE:
                self._generator = VLLMEngineGenerator(trainer.vllm_generation.llm, self.tokenizer, self.eos,
                                                      top_p=top_p, top_k=top_k, generation_kwargs=kwargs,
                                                      trl_generation=trainer.vllm_generation)
            elif self.backend is GenerationBackend.VLLM_SERVER:
                self._generator = VLLMServerGenerator(self.config.generation.vllm_server_url, self.tokenizer, self.eos,
                                                      top_p=top_p, top_k=top_k, generation_kwargs=kwargs)
            else:
                from trl.models import unwrap_model_for_generation

                def model_context() -> Any:
                    return unwrap_model_for_generation(
                        trainer.model_wrapped, trainer.accelerator,
                        gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
                        gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs)

                self._generator = HFGenerator(model_context, self.tokenizer, self.eos, top_p=top_p,
                                              generation_kwargs=kwargs)
        return self._generator

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, list]:
        t0 = time.monotonic()
        step, rank = trainer.state.global_step, trainer.accelerator.process_index
        tasks = []
        for i, p in enumerate(prompts):
            row = self.rows.get(prompt_key(p))
            if row is None:
                raise RuntimeError("rollout_func got a prompt that is not one of the training rows")
            tasks.append(RolloutTask(row.workspace, p[0]["content"], p[1]["content"],
                                     _seed(self.config.grpo.seed, step, rank, i)))
        rollouts = run_rollouts(tasks, self.generator(trainer), self.tokenizer, self.shell_factory, self.limits,
                                concurrency=self.config.rollout.concurrency, batch_wait=self.config.rollout.batch_wait)
        self.step_log.add_rollouts(rollouts, time.monotonic() - t0)
        broken = [r for r in rollouts if r.end_reason in BROKEN]
        if broken and len(broken) == len(rollouts):
            raise RuntimeError(f"every rollout of step {step} failed ({broken[0].end_reason}: {broken[0].error}); "
                               "stopping rather than training on infrastructure failures")
        return {
            "prompt_ids": [r.prompt_ids for r in rollouts],
            "completion_ids": [r.completion_ids for r in rollouts],
            "logprobs": [r.logprobs for r in rollouts],
            "env_mask": [r.env_mask for r in rollouts],
            "rollout_workspace": [r.workspace for r in rollouts],
            "rollout_submission": [r.submission for r in rollouts],
            "rollout_end_reason": [r.end_reason for r in rollouts],
        }


class RewardFunction:
    """TRL reward function: the trusted reward of each rollout's submission (see :mod:`training.reward`).

    A rollout whose sandbox or generation broke (``end_reason`` in :data:`BROKEN`) gets no
    reward (None): TRL leaves it out of its group's baseline and gives it zero advantage,
    as the agent's trajectories record such episodes with reward null.
    """

    __name__ = REWARD_NAME

    def __init__(self, reward: TrustedReward, step_log: StepLog):
        self.reward, self.step_log = reward, step_log

    def __call__(self, prompts: list, completions: list, *, rollout_workspace: list[str],
                 rollout_submission: list[str | None], rollout_end_reason: list[str],
                 **kwargs: Any) -> list[float | None]:
        t0 = time.monotonic()
        scored = [i for i, e in enumerate(rollout_end_reason) if e not in BROKEN]
        got = self.reward.score_many([(rollout_workspace[i], rollout_submission[i]) for i in scored])
        outcomes = [RewardOutcome(0.0, RewardStatus.UNSCORED, error=f"rollout {e}") for e in rollout_end_reason]
        for i, o in zip(scored, got):
            outcomes[i] = o
        self.step_log.add_outcomes(outcomes, time.monotonic() - t0)
        return [None if o.status is RewardStatus.UNSCORED else o.reward for o in outcomes]


def _seed(base: int, step: int, rank: int, index: int) -> int:
    digest = hashlib.sha256(f"{base}:{step}:{rank}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def last_checkpoint(output: Path) -> Path | None:
    """The newest checkpoint of ``output`` that was written completely (it has ``trainer_state.json``)."""
    done = [p for p in Path(output).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
            and (p / "trainer_state.json").exists()]
    return max(done, key=lambda p: int(p.name.split("-")[-1])) if done else None


def build_trainer(config: TrainConfig, output: Path, *, shell_factory: ShellFactory | None = None,
                  rows: list[PromptRow] | None = None, **grpo_overrides: Any) -> tuple[Any, StepLog]:
    """A ready ``GRPOTrainer`` and its step log (``rows`` and ``shell_factory`` default to the config's)."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import GRPOTrainer

    from agent.proposer import sandbox_shell_factory

    device, dtype = device_and_dtype(config.model)
    if device == "cpu":
        torch.set_num_threads(config.model.threads)
    backend = resolve_backend(config, device)
    output = Path(output)
    model_dir = resolve_model_dir(config.model.path, output / "base_model")
    tok = load_tokenizer(model_dir, config.model.chat_template)
    rows = rows if rows is not None else training_rows(config.data, config.rollout.budget)
    if not rows:
        raise ConfigError("no training prompts")
    r = config.rollout
    max_seq = r.max_sequence_tokens
    context = model_context_length(model_dir)
    if context and context < max_seq:
        log.warning("rollout.max_sequence_tokens = %d exceeds the model's context of %d tokens; using %d",
                    max_seq, context, context)
        max_seq = context
    limits = RolloutLimits(r.budget, r.max_tokens_per_turn, max_seq, r.max_output, r.command_timeout,
                           config.grpo.temperature)
    shells = shell_factory or sandbox_shell_factory(r.sandbox, command_timeout=r.command_timeout,
                                                    max_output=max(4 * r.max_output, 8000))
    step_log = StepLog(output, group_size=config.grpo.num_generations)
    args = grpo_args(config, output, device, dtype, backend, max_sequence_tokens=max_seq, **grpo_overrides)
    rollout = RolloutFunction({row.key: row for row in rows}, tok, eos_ids(model_dir, tok), shells, limits, config,
                              step_log, backend)
    records = [row.to_record() for row in rows]
    if len(records) < config.grpo.prompts_per_step:   # a batch needs that many prompts: repeat the few there are
        log.warning("%d training prompt(s) for %d prompts per step: repeating them", len(records),
                    config.grpo.prompts_per_step)
        records = records * -(-config.grpo.prompts_per_step // len(records))
    trainer = GRPOTrainer(model=str(model_dir), reward_funcs=RewardFunction(TrustedReward(config.reward), step_log),
                          args=args, train_dataset=Dataset.from_list(records),
                          processing_class=tok, peft_config=peft_config(config.lora), rollout_func=rollout,
                          callbacks=[MetricsCallback(step_log)])
    trainer.remove_callback(PrinterCallback)     # the metrics line and the bar replace the printed log dicts
    return trainer, step_log


def train_grpo(config: TrainConfig, output: str | Path, *, resume: bool = False, **kwargs: Any) -> Path:
    """Run GRPO into ``output``; returns the directory of the final model (``output/final``)."""
    output = Path(output)
    ckpt = last_checkpoint(output) if resume else None
    if resume and ckpt is None:
        raise ConfigError(f"{output}: nothing to resume (no complete checkpoint-N directory)")
    if not resume and last_checkpoint(output) is not None:
        raise ConfigError(f"{output} already holds checkpoints; pass --resume to continue or choose a new --output")
    output.mkdir(parents=True, exist_ok=True)
    _write_config(output, config, resume)
    trainer, step_log = build_trainer(config, output, **kwargs)
    if ckpt is not None:
        step = json.loads((ckpt / "trainer_state.json").read_text())["global_step"]
        step_log.truncate_after(step)
        log.info("resuming GRPO from %s (step %d)", ckpt, step)
    trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    final = output / "final"
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))
    log.info("GRPO finished at step %d; final model in %s", trainer.state.global_step, final)
    return final


def _write_config(output: Path, config: TrainConfig, resume: bool) -> None:
    path = output / CONFIG_FILE
    new = config.to_dict()
    if resume and path.exists():
        old = json.loads(path.read_text())
        changed = sorted(k for k in new if k != "grpo" and old.get(k) != new[k])
        if changed:
            log.warning("resuming with changed settings in %s (was %s)", changed, path)
    path.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
