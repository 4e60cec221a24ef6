"""LLM backends behind :class:`~agent.llm.base.LLMClient`; :func:`make_client` builds one from a config.

Backend modules are imported lazily so that the optional extras (transformers, vllm) are
only needed when their backend is used.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from agent.llm.base import (
    ChatResponse, EndpointError, EndpointUnavailable, LLMClient, LLMError, LLMRequestError, ToolCall, ToolSpec, Usage,
)

if TYPE_CHECKING:
    from agent.config import AgentConfig

__all__ = ["ChatResponse", "EndpointError", "EndpointUnavailable", "LLMClient", "LLMError", "LLMRequestError",
           "ToolCall", "ToolSpec", "Usage", "make_client"]


def make_client(config: "AgentConfig") -> LLMClient:
    """The client for ``config.model``, wrapped in the text protocol where tools travel as text.

    Raises :class:`EndpointError` (fatal) when the backend cannot be constructed.
    """
    from agent.llm.text_protocol import TextProtocolClient

    spec = config.spec
    client: LLMClient
    if spec.backend == "openai":
        from agent.llm.openai_client import OpenAIClient

        client = OpenAIClient(
            spec.target, base_url=config.base_url, api_key_env=config.api_key_env, timeout=config.timeout,
            retries=config.retries, backoff=config.backoff, backoff_max=config.backoff_max,
            native_tools=not config.text_protocol, return_token_ids=config.return_token_ids,
            extra_body=config.extra_body,
        )
    elif spec.backend == "hf":
        from agent.llm.hf_client import HFClient

        client = HFClient(spec.target, device=config.hf_device, threads=config.hf_threads, max_context=config.max_context,
                          timeout=config.timeout)
    elif spec.backend == "vllm":
        from agent.llm.vllm_client import VLLMClient

        client = VLLMClient(spec.target, seed=config.seed, max_context=config.max_context,
                            gpu_memory_utilization=config.vllm_gpu_memory_utilization,
                            tensor_parallel_size=config.vllm_tensor_parallel_size)
    else:  # ModelSpec.parse already rejects others
        raise EndpointError(f"unknown backend {spec.backend!r}", fatal=True)
    return TextProtocolClient(client) if config.text_protocol else client
