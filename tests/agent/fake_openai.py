"""A real HTTP server on 127.0.0.1 that speaks OpenAI chat completions, following a script.

Each POST to ``/v1/chat/completions`` takes the next step of the script. A step is a
function ``(request_json) -> Reply`` (so a scripted "model" can react to what it was shown)
or a ready :class:`Reply`. Replies: a completion with text and/or tool calls, an HTTP error
status, or a hang (the server sleeps before answering). Every request body is recorded.
When the script is exhausted the server answers HTTP 500 and counts the overrun.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union


_UNSET: Any = object()


@dataclass
class Reply:
    content: str = ""
    tool_calls: list[tuple[str, str | dict[str, Any]]] = field(default_factory=list)  # (name, args dict or raw string)
    status: int = 200
    hang_s: float = 0.0
    extra_top: dict[str, Any] = field(default_factory=dict)
    extra_choice: dict[str, Any] = field(default_factory=dict)
    raw_body: bytes | None = None      # sent verbatim with HTTP 200 (e.g. truncated JSON)
    message: Any = _UNSET              # replaces the choice's message verbatim (e.g. None)


Step = Union[Reply, Callable[[dict[str, Any]], Reply]]


def call(name: str, args: str | dict[str, Any], content: str = "") -> Reply:
    return Reply(content=content, tool_calls=[(name, args)])


def shell(command: str, content: str = "") -> Reply:
    return call("shell", {"command": command}, content)


def submit(path: str = "final_submit.py", rationale: str = "") -> Reply:
    args: dict[str, Any] = {"path": path}
    if rationale:
        args["rationale"] = rationale
    return call("submit", args)


def text(content: str) -> Reply:
    return Reply(content=content)


def error(status: int) -> Reply:
    return Reply(status=status)


def hang(seconds: float) -> Reply:
    return Reply(hang_s=seconds)


def last_tool_result(request: dict[str, Any]) -> str:
    """Content of the last tool (or user) message the model was shown."""
    for m in reversed(request["messages"]):
        if m["role"] in ("tool", "user"):
            return m.get("content") or ""
    return ""


class FakeOpenAIServer:
    def __init__(self, script: list[Step] | None = None, model: str = "scripted-model", *,
                 content_ids: bool = False):
        """``content_ids``: completion and tool-call ids derived from the request (so that the
        same request gets the same ids whatever the order of concurrent requests)."""
        self.content_ids = content_ids
        self.script: list[Step] = list(script or [])
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.overruns = 0
        self._lock = threading.Lock()
        self._counter = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = server._next(body)
                if reply.hang_s:
                    time.sleep(reply.hang_s)
                    try:
                        self._send(500, {"error": {"message": "hung"}})
                    except OSError:
                        pass
                    return
                if reply.raw_body is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.raw_body)))
                    self.end_headers()
                    self.wfile.write(reply.raw_body)
                    return
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": f"scripted HTTP {reply.status}", "type": "server_error"}})
                    return
                self._send(200, server._completion(body, reply))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if not self.script:
                self.overruns += 1
                return Reply(status=500)
            step = self.script.pop(0)
        return step(body) if callable(step) else step

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        with self._lock:
            self._counter += 1
            n: int | str = self._counter
        if self.content_ids:
            n = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
        calls = []
        for i, (name, args) in enumerate(reply.tool_calls):
            raw = args if isinstance(args, str) else json.dumps(args)
            calls.append({"id": f"call_{n}_{i}", "type": "function", "function": {"name": name, "arguments": raw}})
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if calls:
            message["tool_calls"] = calls
        if reply.message is not _UNSET:
            message = reply.message
        prompt_tokens = len(json.dumps(body["messages"])) // 4
        completion_tokens = max(1, len(reply.content + json.dumps(calls)) // 4)
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", **reply.extra_choice}
        return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", self.model), "choices": [choice],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens}, **reply.extra_top}
