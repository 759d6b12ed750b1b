"""A Chat Completions server on loopback for the writer's tests and benchmark.

It speaks the part of the OpenAI protocol the writer uses (``POST …/chat/completions``),
answers from a script of named steps, then with a default answer that any check accepts,
and records every request with how many were in flight at once. Steps, one per request:

    Step("answer", content=...)     a 200 whose message is ``content`` (a dict is sent as JSON)
    Step("status", status=429, headers={"Retry-After": "1"})
    Step("garbage")                 a 200 whose body is not JSON
    Step("empty")                   a 200 whose message is empty
    Step("no-usage")                a default answer without the usage counts
    Step("hang", delay=2.0)         no answer for ``delay`` seconds, then a default answer
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(slots=True)
class Step:
    kind: str
    content: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(slots=True)
class Received:
    at: float  # time.monotonic() when it arrived
    body: dict[str, Any]
    headers: dict[str, str]


# A default answer with no number, name or quote: the check before use accepts it whatever
# the source says.
ARTICLE_ANSWER = {"summary": "一家公司发布了新的端侧模型。", "title_zh": "",
                  "paragraph": "一家公司发布了新的端侧模型，面向手机和汽车上的推理。"}
ISSUE_ANSWER = {"headline": "端侧模型继续走向手机和汽车。",
                "insights": [{"text": "端侧推理成为新品的共同卖点。", "items": [1]},
                             {"text": "芯片与模型厂商的合作更紧密。", "items": [1, 2]},
                             {"text": "开源模型降低了端侧部署的门槛。", "items": [2]}],
                "moments": "1. 端侧模型新品\n2. 芯片合作"}


class ChatServer:
    """The server and what it saw; ``latency`` seconds before every answer."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.script: deque[Step] = deque()
        self.received: list[Received] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def add(self, *steps: Step) -> None:
        self.script.extend(steps)

    def _next(self, body: dict[str, Any]) -> Step:
        with self._lock:
            if self.script:
                return self.script.popleft()
        user = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"), "")
        return Step("answer", content=ISSUE_ANSWER if user.startswith("今日条目") else ARTICLE_ANSWER)


def _completion(content: Any, body: dict[str, Any], usage: bool = True) -> bytes:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    prompt = sum(len(m.get("content", "")) for m in body.get("messages", []))
    answer: dict[str, Any] = {
        "id": "chatcmpl-local", "object": "chat.completion", "model": body.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if usage:  # about two characters a token, as the Chinese tokenizers of these models count
        answer["usage"] = {"prompt_tokens": prompt // 2, "completion_tokens": len(text) // 2,
                           "total_tokens": prompt // 2 + len(text) // 2}
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            # The headers and the body go out in two writes; with Nagle's algorithm the body
            # waits for the client's delayed ACK (40 ms on Linux), which the benchmark showed
            # as 50 ms a request on top of the simulated latency.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            with server._lock:
                server.received.append(Received(time.monotonic(), body, dict(self.headers)))
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                step = server._next(body)
                time.sleep(server.latency + step.delay)
                if not self.path.endswith("/chat/completions"):
                    self._send(404, b'{"error": "not found"}')
                elif step.kind == "status":
                    self._send(step.status, b'{"error": {"message": "scripted"}}', step.headers)
                elif step.kind == "garbage":
                    self._send(200, b"<html>upstream proxy error</html>")
                elif step.kind == "empty":
                    self._send(200, _completion("", body))
                elif step.kind == "no-usage":
                    self._send(200, _completion(ARTICLE_ANSWER, body, usage=False))
                elif step.kind == "hang":
                    self._send(200, _completion(ARTICLE_ANSWER, body))
                else:
                    self._send(200, _completion(step.content, body))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def serve_chat(latency: float = 0.0) -> Iterator[ChatServer]:
    """A :class:`ChatServer` answering in a background thread while the block runs."""
    chat = ChatServer(latency)
    thread = threading.Thread(target=chat._server.serve_forever, name="chatserver", daemon=True)
    thread.start()
    try:
        yield chat
    finally:
        chat._server.shutdown()
        chat._server.server_close()
        thread.join()
