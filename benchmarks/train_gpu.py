"""A few GRPO steps through the real rollout path: step time, rollouts per second, peak memory.

    python benchmarks/train_gpu.py                               # GPU: SmolLM2 (GGUF), vLLM colocate + sleep mode
    python benchmarks/train_gpu.py --model /models/Qwen2.5-1.5B-Instruct --steps 5 --budget 12
    python benchmarks/train_gpu.py --device cpu --tiny            # the CPU twin: tiny random Qwen2, transformers

Each step is 2 prompts x 4 rollouts (the paper's batch); every rollout is a sandboxed agent
episode (``--budget`` tool calls, ``--max-tokens-per-turn``) scored by the trusted evaluator.
Workspaces: the training list of ``--suite`` (default: the four shipped example workspaces
copied into a temporary suite). Printed per step: wall time, its rollout / reward / update
parts, rollouts per second, sampled tokens per second; at the end peak GPU memory (PyTorch
allocator peak and device-wide peak, vLLM included) or peak RSS on CPU. The baseline,
measured in the same run on the same model and prompts, is a plain single-turn TRL GRPO
step (TRL's own generation, one completion of ``--max-tokens-per-turn`` tokens, no tools):
the ratio says what the multi-turn agent rollouts cost on top of TRL itself.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

from training.config import TrainConfig  # noqa: E402

log = logging.getLogger("bench")
ROOT = Path(__file__).resolve().parents[1]


class MemorySampler:
    """Device-wide used GPU memory (vLLM's allocations included), sampled every ``every`` seconds."""

    def __init__(self, every: float = 0.25):
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import torch

        while not self._stop.is_set():
            free, total = torch.cuda.mem_get_info()
            self.peak = max(self.peak, total - free)
            self._stop.wait(self.every)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def example_suite(tmp: Path) -> Path:
    """The shipped example workspaces as a one-list suite (they are examples, not a held-out split)."""
    suite = tmp / "suite"
    names = sorted(p.name for p in (ROOT / "workspaces").iterdir() if (p / "workspace.toml").exists())
    for n in names:
        shutil.copytree(ROOT / "workspaces" / n, suite / n)
    (suite / "splits").mkdir(parents=True)
    (suite / "splits" / "standard.json").write_text(json.dumps({"train": names, "test": []}))
    return suite


def tiny_model(tmp: Path, suite: Path) -> Path:
    from inventory.workspace import load_workspace
    from training.data import build_prompt, read_split
    from training.tiny import build_tiny_model

    texts = [m["content"] for n in read_split(suite).train for m in build_prompt(load_workspace(suite / n), 60)]
    return build_tiny_model(tmp / "tiny", texts, vocab_size=2048, hidden=64, layers=2)


def step_timer():
    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self._t = 0.0

        def on_step_begin(self, args, state, control, **kw):  # noqa: ANN001
            self._t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):  # noqa: ANN001
            self.times.append(time.perf_counter() - self._t)

    return Timer()


def plain_trl_steps(model_dir: Path, rows: list, args: argparse.Namespace, device: str) -> list[float]:
    """Baseline: TRL's own single-turn GRPO (its generation, no tools), same model, prompts and batch."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from training.models import load_tokenizer

    tok = load_tokenizer(model_dir)
    vllm = device == "cuda" and not args.no_vllm
    cfg = GRPOConfig(output_dir=str(Path(args.out) / "plain"), per_device_train_batch_size=8, num_generations=4,
                     max_steps=args.steps, max_completion_length=args.max_tokens_per_turn, beta=0.001,
                     learning_rate=1e-6, lr_scheduler_type="constant", logging_steps=1, save_strategy="no", report_to=[], disable_tqdm=True,
                     use_cpu=device == "cpu", bf16=device == "cuda", gradient_checkpointing=device == "cuda",
                     model_init_kwargs={"dtype": "bfloat16" if device == "cuda" else "float32"}, use_vllm=vllm,
                     **({"vllm_mode": "colocate", "vllm_enable_sleep_mode": True,
                         "vllm_gpu_memory_utilization": args.vllm_memory} if vllm else {}))
    timer = step_timer()
    trainer = GRPOTrainer(model=str(model_dir), reward_funcs=lambda completions, **kw: [0.0] * len(completions),
                          args=cfg, processing_class=tok, callbacks=[timer],
                          train_dataset=Dataset.from_list([{"prompt": list(r.prompt)} for r in rows] * 2))
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    del trainer
    if device == "cuda":
        torch.cuda.empty_cache()
    return timer.times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--tiny", action="store_true", help="a tiny random Qwen2 with a locally trained tokenizer")
    ap.add_argument("--model", default="smollm2", help="model.path (directory, .gguf or smollm2)")
    ap.add_argument("--suite", type=Path, default=None, help="a suite with splits/standard.json (default: examples)")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--budget", type=int, default=4, help="tool calls per rollout")
    ap.add_argument("--max-tokens-per-turn", type=int, default=256)
    ap.add_argument("--vllm-memory", type=float, default=0.35, help="colocate: vLLM's share of the GPU")
    ap.add_argument("--no-vllm", action="store_true", help="GPU with transformers generation instead of vLLM")
    ap.add_argument("--no-baseline", action="store_true", help="skip the plain TRL baseline")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import torch

    from training.data import training_rows
    from training.grpo import build_trainer
    from training.models import resolve_model_dir

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device; run the CPU twin with --device cpu --tiny", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="train-bench-"))
    args.out = args.out or tmp / "run"
    suite = args.suite or example_suite(tmp)
    model = str(tiny_model(tmp, suite)) if args.tiny else args.model
    backend = "transformers" if args.device == "cpu" or args.no_vllm else "vllm_colocate"
    cfg = TrainConfig().override(
        model={"path": model, "device": args.device, "threads": args.threads},
        data={"suite": str(suite)},
        rollout={"budget": args.budget, "max_tokens_per_turn": args.max_tokens_per_turn,
                 "max_sequence_tokens": 16384, "concurrency": 8, "command_timeout": 60.0},
        reward={"trials": 20, "workers": 2},
        grpo={"max_steps": args.steps, "save_steps": 10**6, "gradient_checkpointing": args.device == "cuda"},
        generation={"backend": backend, "vllm_gpu_memory_utilization": args.vllm_memory, "vllm_sleep_mode": True})
    model_dir = resolve_model_dir(cfg.model.path, Path(args.out) / "base_model")
    cfg = cfg.override(model={"path": str(model_dir)})
    rows = training_rows(cfg.data, cfg.rollout.budget)
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    else:
        torch.cuda.reset_peak_memory_stats()

    timer = step_timer()
    trainer, step_log = build_trainer(cfg, Path(args.out), rows=rows)
    trainer.add_callback(timer)
    sampler = MemorySampler() if args.device == "cuda" else None
    t0 = time.perf_counter()
    if sampler:
        with sampler:
            trainer.train()
    else:
        trainer.train()
    wall = time.perf_counter() - t0
    metrics = [json.loads(x) for x in (Path(args.out) / "metrics.jsonl").read_text().splitlines() if x.strip()]
    torch_peak = torch.cuda.max_memory_allocated() if args.device == "cuda" else None
    del trainer
    if args.device == "cuda":
        torch.cuda.empty_cache()

    print(f"model {model_dir.name} on {args.device} ({backend}); {len(rows)} training workspaces; "
          f"{cfg.grpo.prompts_per_step} prompts x {cfg.grpo.num_generations} rollouts per step; "
          f"budget {args.budget} tool calls, {args.max_tokens_per_turn} tokens per turn")
    print(f"{'step':>4} {'seconds':>8} {'rollout':>8} {'reward':>7} {'update':>7} {'rollouts/s':>10} "
          f"{'sampled tok/s':>13} {'tool calls':>10} {'reward':>6}")
    for m, sec in zip(metrics, timer.times):
        update = sec - m["rollout_seconds"] - m["reward_seconds"]
        calls = m["tool_calls"]
        print(f"{m['step']:4d} {sec:8.2f} {m['rollout_seconds']:8.2f} {m['reward_seconds']:7.2f} {update:7.2f} "
              f"{m['rollouts'] / sec:10.3f} {m['model_tokens'] / max(m['rollout_seconds'], 1e-9):13.1f} "
              f"{calls:10d} {m['reward_mean']:6.2f}")
    steady = timer.times[1:] or timer.times
    mean_step = sum(steady) / len(steady)
    print(f"mean step (excluding the first): {mean_step:.2f} s; {8 / mean_step:.3f} rollouts/s; total {wall:.1f} s")
    if args.device == "cuda":
        print(f"peak GPU memory: PyTorch allocator {torch_peak / 2**30:.2f} GiB; device-wide {sampler.peak / 2**30:.2f} GiB "
              f"of {torch.cuda.mem_get_info()[1] / 2**30:.1f} GiB")
    else:
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    if not args.no_baseline:
        plain = plain_trl_steps(model_dir, rows, args, args.device)
        p = sum(plain[1:] or plain) / len(plain[1:] or plain)
        print(f"baseline plain TRL GRPO step (single turn, {args.max_tokens_per_turn} tokens, no tools): {p:.2f} s; "
              f"agent-rollout step / plain step = {mean_step / p:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
