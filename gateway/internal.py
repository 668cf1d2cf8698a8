"""Requests the gateway makes to itself, through its own ASGI handlers.

Dataflow calls must pass the same routing, balancing, retries, policies,
limits and metrics as client requests. Rather than re-assembling that path,
`LocalCompleter` calls the `/v1/chat/completions` handler in-process with a
synthetic ASGI scope, and reads the streamed reply as it is sent: no socket,
no second HTTP parse, and one place where request handling lives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from dataflow.runner import CallError, OnDelta
from gateway.exchange import Scope
from gateway.headers import Headers, find_header
from gateway.sse import SEPARATOR, data_of

ASGIApp = Any  # Callable[[Scope, Receive, Send], Awaitable[None]]

_DONE = b"[DONE]"


class LocalCompleter:
    def __init__(self, app: ASGIApp, path: str = "/v1/chat/completions") -> None:
        self._app = app
        self._path = path

    async def __call__(self, body: dict[str, Any], headers: Headers, on_delta: OnDelta, tenant: str) -> str:
        reply = _StreamReader(on_delta)
        payload = orjson.dumps(body)
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": self._path, "raw_path": self._path.encode(), "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0),
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload)), *headers],
            # Who the call is made for: the gateway's own calls carry no API key.
            "semgate.tenant": tenant,
        }
        finished = asyncio.Event()
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await finished.wait()  # like a server: report the disconnect once the reply is over
            return {"type": "http.disconnect"}

        try:
            await self._app(scope, receive, reply.send)
        finally:
            finished.set()
        return reply.result()


class _StreamReader:
    """Collects a chat completion reply: SSE deltas as they come, or an error body."""

    def __init__(self, on_delta: OnDelta) -> None:
        self._on_delta = on_delta
        self.status = 0
        self._buffer = b""
        self._parts: list[str] = []
        self._error: str | None = None
        self._complete = False
        self._retry_after: float | None = None

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self.status == 429:
                self._retry_after = _float(find_header(message.get("headers") or [], b"retry-after"))
            return
        data = message.get("body", b"")
        if self.status != 200:
            self._buffer += data
            return
        # The gateway's own replies are always `\n`-framed (gateway/sse.py normalises upstreams).
        self._buffer += data
        *events, self._buffer = self._buffer.split(SEPARATOR)
        # The deltas of one body message go out as one: a store append per message, not per token.
        texts = [text for event in events if (text := self._event(event))]
        if texts:
            await self._on_delta("".join(texts))

    def _event(self, event: bytes) -> str:
        data = data_of(event)  # also when an upstream's `id:` or `event:` line came first
        if not data:
            return ""
        if data == _DONE:
            self._complete = True
            return ""
        chunk = orjson.loads(data)
        if "error" in chunk:
            self._error = _message(chunk)
            return ""
        texts = [text for choice in chunk.get("choices") or () if (text := (choice.get("delta") or {}).get("content"))]
        self._parts.extend(texts)
        return "".join(texts)

    def result(self) -> str:
        if self.status != 200:
            rate_limited = self.status == 429 and b"rate_limit_exceeded" in self._buffer  # not a spent budget
            raise CallError(f"the model answered {self.status}: {_error_text(self._buffer)}", self.status,
                            retry_after_s=self._retry_after if rate_limited else None)
        if self._error is not None:
            raise CallError(f"the stream broke off: {self._error}")
        if not self._complete:
            raise CallError("the stream ended early")
        return "".join(self._parts)


def _float(value: bytes | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _error_text(body: bytes) -> str:
    try:
        return _message(orjson.loads(body))
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return body[:200].decode("utf-8", "replace")


def _message(data: Any) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or data)[:200]
