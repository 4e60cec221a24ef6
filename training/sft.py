"""SFT warm start with TRL's ``SFTTrainer`` on agent trajectories that beat the best baseline.

Data (paper Sec. 4.2): the agent's JSONL trajectories (``invevolve.trajectory/1``, read with
:func:`agent.trajectory.read_trajectories`), filtered to ``Trajectory.improved`` (the trusted
outcome: a valid submission strictly cheaper than the best baseline). Each one becomes one
pre-tokenised example in the token layout GRPO trains on (:class:`TokenTranscript`): the
conversation rendered for the text tool protocol (native tool calls of, e.g., an OpenAI
model are rewritten as the fenced blocks the trained model will write), the assistant
turns in the loss (``assistant_masks`` = 1) and everything else (system, briefing, tool
results, chat-template markers) out of it. Examples longer than ``sft.max_length`` are
skipped, never cut mid-turn.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from agent.llm.text_protocol import render_messages
from agent.tools import TOOLS
from agent.trajectory import Trajectory, read_trajectories
from training.config import ConfigError, TrainConfig
from training.transcript import TokenTranscript

log = logging.getLogger(__name__)

SFT_METRICS = "sft_metrics.jsonl"


@dataclass(frozen=True)
class SFTData:
    examples: list[dict[str, list[int]]]
    read: int              # trajectories read
    improved: int          # of which improved on the best baseline
    too_long: int          # improved but longer than max_length (skipped)


def as_text_protocol(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Native tool calls rewritten as fenced tool blocks in the assistant text (the text protocol)."""
    out = []
    for m in messages:
        calls = m.get("tool_calls") or ()
        if m["role"] != "assistant" or not calls:
            out.append(m)
            continue
        parts = [m.get("content") or ""]
        for c in calls:
            name, raw = c["function"]["name"], c["function"].get("arguments") or "{}"
            try:
                args = json.loads(raw)
            except json.JSONDecodeError:
                args = None
            if isinstance(args, dict) and name == "shell" and set(args) == {"command"}:
                body = str(args["command"])
            else:
                body = raw
            parts.append(f"```{name}\n{body}\n```")
        out.append({**m, "content": "\n".join(p for p in parts if p)})
    return out


def tokenize_trajectory(t: Trajectory, tokenizer: Any, eos: frozenset[int]) -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` of one trajectory (see the module docstring)."""
    msgs = render_messages(as_text_protocol(t.messages) if t.tool_protocol != "text" else t.messages, TOOLS)
    first = next((i for i, m in enumerate(msgs) if m["role"] == "assistant"), None)
    if first is None:
        raise ValueError(f"trajectory {t.episode_id} has no assistant turn")
    tr = TokenTranscript(tokenizer, eos)
    tr.start(msgs[:first])
    i = first
    while i < len(msgs):
        if msgs[i]["role"] != "assistant":
            raise ValueError(f"trajectory {t.episode_id}: expected an assistant turn at message {i}")
        ids = tokenizer(msgs[i]["content"] or "", add_special_tokens=False)["input_ids"]
        tr.add_model(ids, [0.0] * len(ids))
        j = next((k for k in range(i + 1, len(msgs)) if msgs[k]["role"] == "assistant"), len(msgs))
        if j < len(msgs):
            tr.add_environment(tr.environment_ids(msgs[:j]), msgs[:j])
        i = j
    close = tr.closing_ids()
    k = next((n for n, tok in enumerate(close) if tok in tr.eos_ids), None)
    tr.add_environment(close[: k + 1] if k is not None else close)
    return {"input_ids": tr.prompt_ids + tr.completion_ids, "assistant_masks": [0] * len(tr.prompt_ids) + tr.mask}


def trajectory_files(paths: Iterable[str | Path]) -> list[Path]:
    out = []
    for p in map(Path, paths):
        f = p / "agent" / "trajectories.jsonl" if p.is_dir() else p
        if not f.is_file():
            raise ConfigError(f"sft.trajectories: {p} is neither a trajectory JSONL file nor an evolve run directory")
        out.append(f)
    return out


def sft_dataset(paths: Iterable[str | Path], tokenizer: Any, eos: frozenset[int], max_length: int) -> SFTData:
    examples, read, improved, too_long = [], 0, 0, 0
    for f in trajectory_files(paths):
        for t in read_trajectories(f):
            read += 1
            if not t.improved:
                continue
            improved += 1
            ex = tokenize_trajectory(t, tokenizer, eos)
            if len(ex["input_ids"]) > max_length:
                too_long += 1
                continue
            examples.append(ex)
    log.info("SFT data: %d trajectories read, %d improved on the best baseline, %d too long, %d examples",
             read, improved, too_long, len(examples))
    return SFTData(examples, read, improved, too_long)


def train_sft(config: TrainConfig, output: str | Path, trajectories: Iterable[str | Path] | None = None) -> Path:
    """Fine-tune ``model.path`` on the improved trajectories; returns ``output/final`` (a GRPO ``model.path``)."""
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from training.models import device_and_dtype, eos_ids, load_tokenizer, peft_config, resolve_model_dir

    output = Path(output)
    s = config.sft
    paths = list(trajectories) if trajectories is not None else list(s.trajectories)
    if not paths:
        raise ConfigError("sft.trajectories is empty: name trajectory files or evolve run directories")
    device, dtype = device_and_dtype(config.model)
    if device == "cpu":
        torch.set_num_threads(config.model.threads)
    model_dir = resolve_model_dir(config.model.path, output / "base_model")
    tok = load_tokenizer(model_dir, config.model.chat_template)
    data = sft_dataset(paths, tok, eos_ids(model_dir, tok), s.max_length)
    if not data.examples:
        raise ConfigError(f"no SFT examples: {data.read} trajectories read, {data.improved} improved, "
                          f"{data.too_long} longer than sft.max_length = {s.max_length}")

    class _Log(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> None:
            if state.is_world_process_zero and logs and "loss" in logs:
                with (output / SFT_METRICS).open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": state.global_step, **logs}, sort_keys=True) + "\n")

    args = SFTConfig(output_dir=str(output), per_device_train_batch_size=s.batch_size,
                     gradient_accumulation_steps=s.gradient_accumulation_steps, learning_rate=s.learning_rate,
                     num_train_epochs=s.epochs, max_steps=s.max_steps or -1, max_length=s.max_length, seed=s.seed,
                     logging_steps=1, save_strategy="no", report_to=[], use_cpu=device == "cpu",
                     bf16=dtype == torch.bfloat16, gradient_checkpointing=config.grpo.gradient_checkpointing,
                     model_init_kwargs={"dtype": str(dtype).removeprefix("torch.")})
    trainer = SFTTrainer(model=str(model_dir), args=args, train_dataset=Dataset.from_list(data.examples),
                         processing_class=tok, peft_config=peft_config(config.lora), callbacks=[_Log()])
    output.mkdir(parents=True, exist_ok=True)
    trainer.train()
    final = output / "final"
    model = trainer.model
    if config.lora.enabled:          # a full model is what GRPO and evaluation start from
        model = model.merge_and_unload()
    model.save_pretrained(str(final))
    tok.save_pretrained(str(final))
    log.info("SFT finished after %d steps on %d examples; model in %s", trainer.state.global_step,
             len(data.examples), final)
    return final
