"""Tool calling for models without native support: fenced blocks in plain text.

The model calls a tool by writing a fenced block whose info string is the tool name::

    ```shell
    python evaluation.py baseline_policies/base_stock.py
    ```

    ```submit
    final_submit.py
    ```

For a tool with one string parameter the block body is that parameter, verbatim (no JSON
escaping, so a heredoc writing a policy file is easy to produce). ``bash`` and ``sh`` are
accepted as aliases of ``shell``. A body may instead be a JSON object of arguments. The
Hermes/Qwen style ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` and a fenced
``tool_call``/``json`` block holding such an object are accepted too.

Contract of :func:`parse_tool_calls`: returns every call found, in order; a block that is
clearly meant as a call but cannot be decoded yields a :class:`ToolCall` with ``error`` set
(shown to the model as that call's result); an unterminated fence is reported as
``protocol_error`` so the model learns what went wrong.

:func:`render_messages` turns the canonical OpenAI-format conversation into plain
role/content messages: the tool manual is appended to the system message, assistant turns
keep their raw text (which already holds the blocks), and each tool result becomes a user
message ``[result of <tool> call <id>]``. Training code can re-render stored trajectories
with the same function to get exactly what the model saw.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from agent.llm.base import ChatResponse, LLMClient, ToolCall, ToolSpec

ALIASES = {"bash": "shell", "sh": "shell", "console": "shell"}
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z_][\w\-]*)?[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
_OPEN_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z_][\w\-]*)?", re.M)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(</tool_call>|$)", re.S)


@dataclass(frozen=True)
class ParseResult:
    calls: tuple[ToolCall, ...]
    error: str | None = None     # a problem with the reply as a whole (no call could be salvaged)


def tool_manual(tools: Sequence[ToolSpec]) -> str:
    """The text appended to the system prompt for text-protocol models."""
    lines = ["# How to call tools", "",
             "You have no function-calling API. Call a tool by writing a fenced code block whose",
             "language tag is the tool name. Write one tool block per reply, then stop and wait",
             "for its result. Text outside tool blocks is your reasoning; it runs nothing.", ""]
    for t in tools:
        props = t.parameters.get("properties", {})
        required = t.parameters.get("required", [])
        lines.append(f"## `{t.name}`: {t.description}")
        if len(props) == 1 or (required and len(required) == 1):
            key = required[0] if required else next(iter(props))
            lines.append(f"The block body is the `{key}` ({props.get(key, {}).get('description', '')}).")
        if props:
            lines.append("Or give a JSON object with keys: " + ", ".join(
                f"`{k}`{' (required)' if k in required else ''}" for k in props) + ".")
        lines.append("")
    lines += ["Example:", "", "```shell", "cat problem_description.md", "```", ""]
    return "\n".join(lines)


def _single_string_param(spec: ToolSpec) -> str | None:
    props = spec.parameters.get("properties", {})
    required = spec.parameters.get("required", [])
    if required and len(required) == 1:
        key = required[0]
    elif len(props) >= 1:
        key = next(iter(props))
    else:
        return None
    return key if props.get(key, {}).get("type", "string") == "string" else None


def _from_json_object(obj: Any, call_id: str, raw: str, known: dict[str, ToolSpec]) -> ToolCall:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return ToolCall(call_id, "?", None, raw, 'a tool call object needs a string "name" and an "arguments" object')
    name = ALIASES.get(obj["name"], obj["name"])
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            key = _single_string_param(known[name]) if name in known else None
            args = {key: args} if key else args
    if not isinstance(args, dict):
        return ToolCall(call_id, name, None, raw, '"arguments" must be a JSON object')
    return ToolCall(call_id, name, args, json.dumps(args))


def parse_tool_calls(text: str, tools: Sequence[ToolSpec], id_prefix: str = "call") -> ParseResult:
    """All tool calls in ``text`` (see the module docstring for the accepted forms)."""
    known = {t.name: t for t in tools}
    found: list[tuple[int, ToolCall]] = []
    n = 0

    def next_id() -> str:
        nonlocal n
        n += 1
        return f"{id_prefix}_{n}"

    spans: list[tuple[int, int]] = []
    for m in _FENCE.finditer(text):
        spans.append((m.start(), m.end()))
        tag = (m.group(2) or "").strip().lower()
        body = m.group(3)
        if body.endswith("\n"):
            body = body[:-1]
        name = ALIASES.get(tag, tag)
        if name in known:
            spec = known[name]
            stripped = body.strip()
            key = _single_string_param(spec)
            if stripped.startswith("{") and stripped.endswith("}"):
                try:
                    obj = json.loads(stripped)
                except json.JSONDecodeError as exc:
                    obj = None
                    if key is None:
                        found.append((m.start(), ToolCall(next_id(), name, None, body,
                                                          f"the block body is not valid JSON ({exc.msg})")))
                        continue
                if isinstance(obj, dict) and (key is None or key in obj or not obj):
                    found.append((m.start(), ToolCall(next_id(), name, obj, json.dumps(obj))))
                    continue
            if key is None:
                found.append((m.start(), ToolCall(next_id(), name, None, body,
                                                  f"`{name}` takes a JSON object of arguments as its block body")))
                continue
            args = {key: body} if stripped else {}
            found.append((m.start(), ToolCall(next_id(), name, args, json.dumps(args))))
        elif tag in ("tool_call", "tool", "json"):
            try:
                obj = json.loads(body)
            except json.JSONDecodeError as exc:
                if tag == "json":
                    continue  # plain JSON data, not a call
                found.append((m.start(), ToolCall(next_id(), "?", None, body, f"tool_call body is not valid JSON ({exc.msg})")))
                continue
            if tag == "json" and not (isinstance(obj, dict) and "name" in obj):
                continue
            found.append((m.start(), _from_json_object(obj, next_id(), body, known)))
    for m in _TAGGED.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        body = m.group(1)
        if not m.group(2):
            found.append((m.start(), ToolCall(next_id(), "?", None, body, "<tool_call> is not closed with </tool_call>")))
            continue
        try:
            obj = json.loads(body)
        except json.JSONDecodeError as exc:
            found.append((m.start(), ToolCall(next_id(), "?", None, body, f"<tool_call> body is not valid JSON ({exc.msg})")))
            continue
        found.append((m.start(), _from_json_object(obj, next_id(), body, known)))
    found.sort(key=lambda x: x[0])
    calls = tuple(c for _, c in found)
    error = None
    if not calls:
        unterminated = [m for m in _OPEN_FENCE.finditer(text) if not any(a <= m.start() < b for a, b in spans)]
        names = ", ".join(f"```{t}" for t in known)
        if unterminated:
            tag = unterminated[-1].group(2) or ""
            error = (f"a ``` block{f' tagged {tag!r}' if tag else ''} was opened but never closed; "
                     f"close every block with ``` on its own line")
        if any(m.group(2) and m.group(2).lower() not in known and m.group(2).lower() not in ALIASES
               for m in _FENCE.finditer(text)):
            tags = sorted({m.group(2) for m in _FENCE.finditer(text) if m.group(2)})
            error = f"code blocks tagged {', '.join(tags)} are not tool calls; only {names} blocks run"
    return ParseResult(calls, error)


_DONE_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z_][\w\-]*)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.S | re.M)


def tool_block_complete(text: str, tools: Sequence[ToolSpec]) -> bool:
    """Whether ``text`` already holds one complete tool call (used to stop local generation)."""
    if "</tool_call>" in text:
        return True
    names = {t.name for t in tools} | set(ALIASES) | {"tool_call"}
    return any((m.group(2) or "").lower() in names for m in _DONE_FENCE.finditer(text))


def render_messages(messages: Sequence[dict[str, Any]], tools: Sequence[ToolSpec]) -> list[dict[str, str]]:
    """Canonical conversation -> plain role/content messages for a text-protocol model."""
    out: list[dict[str, str]] = []
    names: dict[str, str] = {}
    manual = tool_manual(tools) if tools else ""
    for msg in messages:
        role = msg["role"]
        content = msg.get("content") or ""
        if role == "system":
            out.append({"role": "system", "content": content + ("\n\n" + manual if manual else "")})
            manual = ""
        elif role == "assistant":
            for tc in msg.get("tool_calls") or ():
                names[tc["id"]] = tc["function"]["name"]
            out.append({"role": "assistant", "content": content})
        elif role == "tool":
            cid = msg.get("tool_call_id", "?")
            text = f"[result of {names.get(cid, msg.get('name', 'tool'))} call {cid}]\n{content}"
            if out and out[-1]["role"] == "user":
                out[-1] = {"role": "user", "content": out[-1]["content"] + "\n\n" + text}
            else:
                out.append({"role": "user", "content": text})
        else:
            if out and out[-1]["role"] == "user":
                out[-1] = {"role": "user", "content": out[-1]["content"] + "\n\n" + content}
            else:
                out.append({"role": "user", "content": content})
    if manual:
        out.insert(0, {"role": "system", "content": manual})
    return out


class TextProtocolClient(LLMClient):
    """Wraps a client so that tools travel as text: renders, calls, parses."""

    native_tools = True  # to its caller it behaves like a tool-calling client

    def __init__(self, inner: LLMClient):
        self.inner = inner
        self.backend, self.model = inner.backend, inner.model

    def chat(self, messages: Sequence[dict[str, Any]], tools: Sequence[ToolSpec] = (), *, temperature: float = 0.7,
             max_tokens: int = 1024, seed: int | None = None,
             stop_when: Callable[[str], bool] | None = None) -> ChatResponse:
        rendered = render_messages(messages, tools)
        resp = self.inner.chat(rendered, (), temperature=temperature, max_tokens=max_tokens, seed=seed,
                               stop_when=lambda text: tool_block_complete(text, tools))
        turn = sum(1 for m in messages if m["role"] == "assistant") + 1
        parsed = parse_tool_calls(resp.text, tools, id_prefix=f"t{turn}")
        return replace(resp, tool_calls=parsed.calls, protocol_error=parsed.error,
                       extra={**resp.extra, "protocol": "text"})

    def close(self) -> None:
        self.inner.close()
