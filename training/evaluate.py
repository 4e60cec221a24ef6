"""``invevolve train eval``: a checkpoint as the agent on the held-out split, and success against compute.

For each checkpoint the model runs the real agent episode (the same sandboxed rollouts as
training, at ``eval.temperature``) on every workspace of the split's held-out list
(``eval.split``, default ``test``), ``eval.episodes`` times, and each submission is scored
by the trusted evaluator (:mod:`training.reward`). Reported, per checkpoint:

- success rate: share of episodes whose submission is valid and strictly cheaper than the
  best baseline on the test window (the GRPO reward);
- structural validity rate: share of episodes whose submission passed the validator and
  replayed without error;
- mean cost change: mean over valid submissions of (cost - best baseline) / best baseline
  on the test window (negative = cheaper).

Evaluating a training run (``--run``) takes every complete ``checkpoint-N`` plus the
starting model (step 0), reads the training compute at each step from the run's
``metrics.jsonl`` (tokens processed, wall seconds) and plots success against it
(``success_vs_compute.png``), as the paper's Fig. 4 does.
"""
from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from training.config import ConfigError, TrainConfig
from training.data import heldout_rows
from training.progress import METRICS_FILE
from training.reward import RewardOutcome, TrustedReward
from training.rollout import RolloutLimits, RolloutTask, ShellFactory, run_rollouts

log = logging.getLogger(__name__)

COMPUTE_AXES = {"tokens": "training tokens (prompt + completion)", "seconds": "training wall time (s)",
                "steps": "optimizer steps"}


@dataclass(frozen=True)
class CheckpointEval:
    checkpoint: str
    step: int
    episodes: int
    success_rate: float
    validity_rate: float
    mean_cost_change: float | None        # over valid submissions; None when there is none
    n_valid: int
    tokens: float | None = None           # training compute at this step (from metrics.jsonl)
    seconds: float | None = None
    workspaces: list[str] = field(default_factory=list)


def summarize(checkpoint: str, step: int, outcomes: list[RewardOutcome], workspaces: list[str],
              compute: tuple[float | None, float | None] = (None, None)) -> CheckpointEval:
    n = len(outcomes)
    if n == 0:
        raise ValueError("no episodes to summarise")
    changes = [o.relative_change for o in outcomes if o.valid and o.relative_change is not None]
    return CheckpointEval(checkpoint, step, n, sum(o.reward for o in outcomes) / n,
                          sum(1 for o in outcomes if o.valid) / n, sum(changes) / len(changes) if changes else None,
                          sum(1 for o in outcomes if o.valid), compute[0], compute[1], sorted(set(workspaces)))


def _generator(checkpoint: Path, config: TrainConfig, tok: Any, eos: frozenset[int]) -> Any:
    import importlib.util

    from training.generation import HFGenerator, VLLMEngineGenerator
    from training.models import base_model_of, device_and_dtype, load_policy

    device, dtype = device_and_dtype(config.model)
    use_vllm = (device == "cuda" and importlib.util.find_spec("vllm") is not None
                and config.generation.backend.value != "transformers" and base_model_of(checkpoint) is None)
    if use_vllm:
        from vllm import LLM

        llm = LLM(model=str(checkpoint), gpu_memory_utilization=0.85, seed=config.eval.seed,
                  max_model_len=config.generation.vllm_max_model_length or config.rollout.max_sequence_tokens)
        return VLLMEngineGenerator(llm, tok, eos, top_p=config.grpo.top_p)
    model = load_policy(checkpoint, device, dtype)
    return HFGenerator(lambda: contextlib.nullcontext(model), tok, eos, top_p=config.grpo.top_p)


def evaluate_checkpoint(checkpoint: str | Path, config: TrainConfig, suite: str | Path, out: str | Path, *,
                        step: int = 0, compute: tuple[float | None, float | None] = (None, None),
                        shell_factory: ShellFactory | None = None) -> CheckpointEval:
    """Run ``checkpoint`` as the agent on the held-out list of ``suite``; writes ``out/episodes.jsonl``."""
    import torch

    from agent.proposer import sandbox_shell_factory
    from training.models import eos_ids, load_tokenizer, model_context_length

    checkpoint, out = Path(checkpoint), Path(out)
    if not checkpoint.is_dir():
        raise ConfigError(f"checkpoint {checkpoint} is not a directory")
    e, r = config.eval, config.rollout
    rows = heldout_rows(Path(suite), config.data.split, e.split, r.budget, e.limit)
    if not rows:
        raise ConfigError(f"{suite}: the '{e.split}' list of split '{config.data.split}' is empty")
    torch.set_num_threads(config.model.threads)
    tok = load_tokenizer(checkpoint, config.model.chat_template)
    eos = eos_ids(checkpoint, tok)
    gen = _generator(checkpoint, config, tok, eos)
    shells = shell_factory or sandbox_shell_factory(r.sandbox, command_timeout=r.command_timeout,
                                                    max_output=max(4 * r.max_output, 8000))
    tasks = [RolloutTask(row.workspace, row.prompt[0]["content"], row.prompt[1]["content"], e.seed + 1000 * k + i)
             for i, row in enumerate(rows) for k in range(e.episodes)]
    context = model_context_length(checkpoint)
    limits = RolloutLimits(r.budget, r.max_tokens_per_turn, min(r.max_sequence_tokens, context or r.max_sequence_tokens),
                           r.max_output, r.command_timeout, e.temperature)
    log.info("evaluating %s on %d held-out workspaces x %d episode(s)", checkpoint, len(rows), e.episodes)
    rollouts = run_rollouts(tasks, gen, tok, shells, limits, concurrency=r.concurrency, batch_wait=r.batch_wait)
    outcomes = TrustedReward(config.reward).score_many([(ro.workspace, ro.submission) for ro in rollouts])
    out.mkdir(parents=True, exist_ok=True)
    with (out / "episodes.jsonl").open("w", encoding="utf-8") as fh:
        for ro, o in zip(rollouts, outcomes):
            fh.write(json.dumps({"workspace": Path(ro.workspace).name, "end_reason": ro.end_reason,
                                 "tool_calls": ro.tool_calls, "model_tokens": ro.model_tokens,
                                 "submission": ro.submission, **o.to_dict()}, sort_keys=True) + "\n")
    res = summarize(str(checkpoint), step, outcomes, [Path(ro.workspace).name for ro in rollouts], compute)
    (out / "summary.json").write_text(json.dumps(asdict(res), indent=1, sort_keys=True) + "\n")
    log.info("%s: success %.3f, validity %.3f, mean cost change %s over %d episodes", checkpoint.name,
             res.success_rate, res.validity_rate,
             "n/a" if res.mean_cost_change is None else f"{res.mean_cost_change:+.2%}", res.episodes)
    return res


def run_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, directory) of the starting model (step 0) and every complete checkpoint of a GRPO run."""
    from training.models import resolve_model_dir

    cfg_file = run_dir / "train_config.json"
    if not cfg_file.exists():
        raise ConfigError(f"{run_dir}: not a training run (no train_config.json)")
    start = resolve_model_dir(json.loads(cfg_file.read_text())["model"]["path"], run_dir / "base_model")
    ckpts = sorted((int(p.name.split("-")[-1]), p) for p in run_dir.glob("checkpoint-*")
                   if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").exists())
    return [(0, start), *ckpts]


def step_compute(run_dir: Path) -> dict[int, tuple[float | None, float | None]]:
    """step -> (tokens, seconds) of training so far, from the run's metrics.jsonl."""
    path = run_dir / METRICS_FILE
    out: dict[int, tuple[float | None, float | None]] = {0: (0.0, 0.0)}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                m = json.loads(line)
                out[int(m["step"])] = (m.get("tokens_total"), m.get("seconds_total"))
    return out


def evaluate_run(run_dir: str | Path, config: TrainConfig, suite: str | Path, out: str | Path, *,
                 compute_axis: str = "tokens", shell_factory: ShellFactory | None = None) -> list[CheckpointEval]:
    """Evaluate the starting model and every checkpoint of ``run_dir``; writes ``summary.jsonl`` and the plot."""
    run_dir, out = Path(run_dir), Path(out)
    compute = step_compute(run_dir)
    results = []
    for step, path in run_checkpoints(run_dir):
        res = evaluate_checkpoint(path, config, suite, out / (path.name if step else "step-0"), step=step,
                                  compute=compute.get(step, (None, None)), shell_factory=shell_factory)
        results.append(res)
    with (out / "summary.jsonl").open("w", encoding="utf-8") as fh:
        for res in results:
            fh.write(json.dumps(asdict(res), sort_keys=True) + "\n")
    plot_success(results, out / "success_vs_compute.png", compute_axis)
    return results


def plot_success(results: list[CheckpointEval], path: str | Path, axis: str = "tokens") -> Path:
    """Success rate (and validity rate) against training compute, one point per checkpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if axis not in COMPUTE_AXES:
        raise ConfigError(f"compute axis must be one of {sorted(COMPUTE_AXES)}, got {axis!r}")
    pts = sorted(results, key=lambda r: r.step)
    xs = [float(r.step) if axis == "steps" else (getattr(r, axis) if getattr(r, axis) is not None else float("nan"))
          for r in pts]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(xs, [r.success_rate for r in pts], marker="o", label="success rate (beats best baseline)")
    ax.plot(xs, [r.validity_rate for r in pts], marker="s", linestyle="--", label="structural validity rate")
    for x, r in zip(xs, pts):
        ax.annotate(f"step {r.step}", (x, r.success_rate), textcoords="offset points", xytext=(3, 5), fontsize=7)
    ax.set_xlabel(COMPUTE_AXES[axis])
    ax.set_ylabel("rate on the held-out split")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"Success against training compute ({pts[0].episodes} episodes per point)" if pts else "")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
