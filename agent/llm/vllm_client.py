"""In-process vLLM engine (GPU only; optional extra ``invevolve[vllm]``), text tool protocol.

Written against vLLM's offline API: ``vllm.LLM(model=..., **engine_kwargs)`` and
``LLM.chat(messages, sampling_params=SamplingParams(...), use_tqdm=False)``, which applies
the model's chat template and returns one ``RequestOutput`` per conversation with
``prompt_token_ids`` and ``outputs[0].text`` / ``.token_ids`` / ``.finish_reason``.

Contract: importing this module never imports vllm; constructing a client without vllm (or
without a GPU) raises a fatal :class:`EndpointError` that says how to install it or to
point ``--llm openai:MODEL --base-url`` at a ``vllm serve`` server instead. Calls are
serialised by a lock (the engine batches internally; episodes share one engine).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Sequence

from agent.llm.base import ChatResponse, EndpointError, LLMClient, LLMRequestError, ToolSpec, Usage

log = logging.getLogger(__name__)

INSTALL_HINT = ("the vllm backend needs the vllm package and a CUDA GPU: pip install 'invevolve[vllm]'; "
                "without a GPU, run `vllm serve MODEL` elsewhere and use --llm openai:MODEL --base-url http://HOST:8000/v1")


class VLLMClient(LLMClient):
    backend = "vllm"
    native_tools = False

    def __init__(self, model_path: str, *, seed: int | None = 0, max_context: int | None = None,
                 gpu_memory_utilization: float = 0.85, tensor_parallel_size: int = 1,
                 engine_kwargs: dict[str, Any] | None = None):
        try:
            import vllm
        except ImportError as exc:
            raise EndpointError(f"{INSTALL_HINT} ({exc})", fatal=True) from exc
        self._vllm = vllm
        self.model = model_path
        kwargs: dict[str, Any] = {"model": model_path, "gpu_memory_utilization": gpu_memory_utilization,
                                  "tensor_parallel_size": tensor_parallel_size}
        if seed is not None:
            kwargs["seed"] = seed
        if max_context:
            kwargs["max_model_len"] = int(max_context)
        kwargs.update(engine_kwargs or {})
        t0 = time.monotonic()
        try:
            self._llm = vllm.LLM(**kwargs)
        except Exception as exc:  # noqa: BLE001 - vllm raises many types (RuntimeError, ValueError, CUDA errors)
            raise EndpointError(f"vllm could not start an engine for {model_path!r}: {exc}. {INSTALL_HINT}",
                                fatal=True) from exc
        self._lock = threading.Lock()
        log.info("vllm engine for %s ready in %.1fs", model_path, time.monotonic() - t0)

    def chat(self, messages: Sequence[dict[str, Any]], tools: Sequence[ToolSpec] = (), *, temperature: float = 0.7,
             max_tokens: int = 1024, seed: int | None = None,
             stop_when: Callable[[str], bool] | None = None) -> ChatResponse:
        """``stop_when`` is not applied: the engine generates whole completions (the text protocol
        executes every complete block it finds, in order)."""
        plain = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        params = self._vllm.SamplingParams(temperature=temperature, max_tokens=max_tokens, seed=seed)
        t0 = time.monotonic()
        with self._lock:
            try:
                outputs = self._llm.chat(plain, sampling_params=params, use_tqdm=False)
            except ValueError as exc:  # vllm raises ValueError for prompts longer than max_model_len
                raise LLMRequestError(f"vllm rejected the request: {exc}") from exc
        if not outputs or not outputs[0].outputs:
            raise EndpointError("vllm returned no output")
        req = outputs[0]
        comp = req.outputs[0]
        prompt_ids = [int(i) for i in (req.prompt_token_ids or [])]
        completion_ids = [int(i) for i in (comp.token_ids or [])]
        return ChatResponse(text=comp.text, usage=Usage(len(prompt_ids), len(completion_ids)),
                            finish_reason=comp.finish_reason, model=self.model, prompt_token_ids=prompt_ids,
                            completion_token_ids=completion_ids, latency_s=time.monotonic() - t0)

    def close(self) -> None:
        self._llm = None
