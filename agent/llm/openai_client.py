"""OpenAI-compatible chat completions (OpenAI, ``vllm serve``, any compatible server).

Contract:
- The API key is read from the environment variable ``api_key_env`` only. With no key and a
  custom ``base_url`` (a local server), a placeholder key is sent; with no key and the default
  OpenAI URL, construction fails with a message naming the variable.
- Each request is bounded by ``timeout`` seconds (the SDK's own timeout, plus a hard
  watchdog so that a server trickling bytes cannot hold a call longer than
  ``timeout + 5`` seconds).
- Connection errors, timeouts, HTTP 408/409/429 and 5xx are retried ``retries`` times with
  exponential backoff (``backoff * 2**k`` seconds, capped at ``backoff_max``, with jitter);
  the SDK's own retries are disabled so that this is the only retry policy.
- After the last retry an :class:`EndpointError` is raised; HTTP 401/403/404 raise a fatal
  :class:`EndpointError` at once; other 4xx raise :class:`LLMRequestError`.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from typing import Any, Callable, Sequence, TypeVar

from agent.llm.base import (
    ChatResponse, EndpointError, LLMClient, LLMRequestError, ToolCall, ToolSpec, Usage, decode_arguments,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
_RETRY_STATUS = {408, 409, 429}
_FATAL_STATUS = {401, 403, 404}
PLACEHOLDER_KEY = "EMPTY"


def _with_deadline(fn: Callable[[], T], seconds: float) -> T:
    """Run ``fn`` in a daemon thread; give up after ``seconds`` (the thread is abandoned)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="llm-call", daemon=True).start()
    if not done.wait(seconds):
        raise TimeoutError(f"no complete answer within {seconds:.1f}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class OpenAIClient(LLMClient):
    backend = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        retries: int = 4,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        native_tools: bool = True,
        return_token_ids: bool = False,
        extra_body: dict[str, Any] | None = None,
    ):
        import openai  # core dependency; imported here to keep module import cheap

        self._openai = openai
        self.model = model
        self.base_url = base_url
        self.timeout, self.retries = float(timeout), int(retries)
        self.backoff, self.backoff_max = float(backoff), float(backoff_max)
        self.native_tools = native_tools
        self.return_token_ids = return_token_ids
        self.extra_body = dict(extra_body or {})
        key = os.environ.get(api_key_env)
        if not key:
            if base_url is None:
                raise EndpointError(
                    f"no API key: set the environment variable {api_key_env} (keys are never read from config files)",
                    fatal=True,
                )
            log.debug("%s is not set; sending a placeholder key to %s", api_key_env, base_url)
            key = PLACEHOLDER_KEY
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=self.timeout, max_retries=0)

    # ------------------------------------------------------------ request

    def _request(self, messages: Sequence[dict[str, Any]], tools: Sequence[ToolSpec], temperature: float,
                 max_tokens: int, seed: int | None) -> Any:
        kwargs: dict[str, Any] = {"model": self.model, "messages": list(messages),
                                  "temperature": temperature, "max_tokens": max_tokens}
        if seed is not None:
            kwargs["seed"] = seed
        if tools and self.native_tools:
            kwargs["tools"] = [t.openai_schema() for t in tools]
            kwargs["tool_choice"] = "auto"
        extra = dict(self.extra_body)
        if self.return_token_ids:
            extra["return_token_ids"] = True  # vLLM >= 0.10.2: prompt_token_ids + choices[].token_ids
        if extra:
            kwargs["extra_body"] = extra
        return self._client.chat.completions.create(**kwargs)

    def _classify(self, exc: BaseException) -> tuple[bool, EndpointError | LLMRequestError]:
        """(retryable, error to raise if not retried)."""
        o = self._openai
        where = self.base_url or "the OpenAI API"
        if isinstance(exc, EndpointError):
            return not exc.fatal, exc
        if isinstance(exc, LLMRequestError):
            return False, exc
        if isinstance(exc, (o.APITimeoutError, TimeoutError)):
            return True, EndpointError(f"{where}: request timed out after {self.timeout:.1f}s")
        if isinstance(exc, o.APIConnectionError):
            return True, EndpointError(f"{where}: cannot connect ({exc})")
        if isinstance(exc, o.APIStatusError):
            status = exc.status_code
            msg = f"{where}: HTTP {status}: {_short(exc)}"
            if status >= 500 or status in _RETRY_STATUS:
                return True, EndpointError(msg, status=status)
            if status in _FATAL_STATUS:
                return False, EndpointError(msg, fatal=True, status=status)
            return False, LLMRequestError(msg)
        if isinstance(exc, (o.APIResponseValidationError, ValueError)):  # ValueError: a body that is not JSON
            return True, EndpointError(f"{where}: malformed response ({str(exc)[:200]})")
        if isinstance(exc, o.OpenAIError):
            return False, EndpointError(f"{where}: {exc}")
        raise exc

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[ToolSpec] = (),
        *,
        temperature: float = 0.7,
        max_tokens: int = 1024,
        seed: int | None = None,
        stop_when: Callable[[str], bool] | None = None,
    ) -> ChatResponse:
        attempt = 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                raw = _with_deadline(lambda: self._request(messages, tools, temperature, max_tokens, seed),
                                     self.timeout + 5.0)
                return self._parse(raw, time.monotonic() - t0, attempt)
            except Exception as exc:  # noqa: BLE001 - classified below, unknown errors re-raised
                retry, err = self._classify(exc)
                if not retry or attempt > self.retries:
                    if retry:
                        err = EndpointError(f"{err} (gave up after {attempt} attempts)", status=getattr(err, "status", None))
                    raise err from exc
                delay = min(self.backoff * 2 ** (attempt - 1), self.backoff_max) * (0.5 + random.random() / 2)
                log.warning("LLM call failed (%s); retry %d/%d in %.1fs", err, attempt, self.retries, delay)
                time.sleep(delay)

    def _parse(self, raw: Any, latency: float, attempts: int) -> ChatResponse:
        """Read one completion defensively: the server is not trusted to follow the schema.

        A reply without a usable message (no choices, ``"message": null``, wrong types) is a
        malformed response, retried like a transient failure. Odd tool calls (arguments that
        are not a string, a missing name or id) become calls with an error the model is shown.
        """
        where = self.base_url or "the OpenAI API"
        choices = getattr(raw, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise EndpointError(f"{where}: malformed response (no choices)")
        choice = choices[0]
        msg = _field(choice, "message")
        if msg is None or isinstance(msg, (str, int, float, list)):
            raise EndpointError(f"{where}: malformed response (a choice without a message object)")
        tool_calls = _field(msg, "tool_calls") or ()
        if not isinstance(tool_calls, (list, tuple)):
            raise EndpointError(f"{where}: malformed response (tool_calls is not a list)")
        calls = []
        for i, tc in enumerate(tool_calls):
            fn = _field(tc, "function")
            name = _field(fn, "name")
            raw_args = _field(fn, "arguments")
            args, err = decode_arguments(raw_args)
            text_args = raw_args if isinstance(raw_args, str) else ("" if raw_args is None else _dumps(raw_args))
            call_id = _field(tc, "id")
            calls.append(ToolCall(id=call_id if isinstance(call_id, str) and call_id else f"call_{i}",
                                  name=name if isinstance(name, str) else "", arguments=args, raw=text_args, error=err))
        usage_raw = getattr(raw, "usage", None)
        usage = Usage(_count(_field(usage_raw, "prompt_tokens")), _count(_field(usage_raw, "completion_tokens")))
        extra_top = getattr(raw, "model_extra", None) or {}
        extra_choice = getattr(choice, "model_extra", None) or {}
        prompt_ids = extra_top.get("prompt_token_ids") if isinstance(extra_top, dict) else None
        completion_ids = extra_choice.get("token_ids") if isinstance(extra_choice, dict) else None
        finish = _field(choice, "finish_reason")
        model = getattr(raw, "model", None)
        return ChatResponse(
            text=_content_text(_field(msg, "content")), tool_calls=tuple(calls), usage=usage,
            finish_reason=finish if isinstance(finish, str) else None,
            model=model if isinstance(model, str) and model else self.model, latency_s=latency, attempts=attempts,
            prompt_token_ids=_ids(prompt_ids), completion_token_ids=_ids(completion_ids),
        )

    def close(self) -> None:
        self._client.close()


def _short(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and "message" in err:
            return str(err["message"])[:300]
    return str(exc)[:300]


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]`` (the SDK leaves unexpected shapes as plain dicts), else None."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _content_text(content: Any) -> str:
    """Message content as text: a string, a list of text parts, or nothing."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [_field(p, "text") for p in content]
        return "".join(p for p in parts if isinstance(p, str))
    return str(content)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _ids(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    return None


def _dumps(value: Any) -> str:
    import json
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
