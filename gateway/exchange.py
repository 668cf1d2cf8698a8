"""One client request and its reply, at the ASGI level.

Reads the body within a size limit, sends JSON or SSE replies with the
gateway's own headers, and watches for the client hanging up so the upstream
request can be cancelled at once.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.errors import ClientDisconnected, GatewayError, PayloadTooLarge
from gateway.headers import Headers, find_header
from gateway.streaming import error_event

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON = b"application/json"
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
MAX_REQUEST_ID = 128


def request_id_of(value: bytes | None) -> bytes:
    """The client's x-request-id if it is sane, else a fresh one."""
    if value and len(value) <= MAX_REQUEST_ID and value.isascii() and value.replace(b"-", b"").isalnum():
        return value
    return os.urandom(12).hex().encode()


class Exchange:
    """One client request/response: body reading, replies, disconnect watch."""

    __slots__ = ("scope", "receive", "_send", "started", "request_id", "disconnected", "_done", "_streaming", "_task",
                 "_content_length", "reply_headers", "before_reply", "cache_entry")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self._send = send
        self.started = time.perf_counter()
        self.disconnected = False
        self._done = False
        self._streaming = False
        self._task: asyncio.Task[Any] | None = None
        rid = None
        self._content_length = -1
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value
            elif name == b"content-length":
                self._content_length = int(value) if value.isdigit() else -1
        self.request_id = request_id_of(rid)
        # Headers every reply carries (x-request-id, routing decisions).
        self.reply_headers: Headers = [(b"x-request-id", self.request_id)]
        # Run once before the first byte of any reply goes out (policies: add their
        # header; hold output until a speculative guard allows it).
        self.before_reply: Callable[[], Awaitable[None]] | None = None
        # (public model name, cache key) when a whole answer to this request should be cached.
        self.cache_entry: tuple[str, str] | None = None

    def header(self, name: bytes) -> bytes | None:
        return find_header(self.scope["headers"], name)

    def declared_too_large(self, limit: int) -> PayloadTooLarge | None:
        """A 413 for a content-length over `limit`, before a byte of the body is read."""
        if self._content_length > limit:
            return PayloadTooLarge(f"request body is {self._content_length} bytes; the limit is {limit}")
        return None

    async def read_body(self, limit: int) -> bytes:
        if (refused := self.declared_too_large(limit)) is not None:
            raise refused
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # chunked uploads have no content-length to check up front
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
            if not message.get("more_body"):
                if not chunks:
                    return chunk  # the common case: one message, no copy
                chunks.append(chunk)
                return b"".join(chunks)
            chunks.append(chunk)

    def watch_disconnect(self) -> None:
        """Cancel this request's task if the client goes away before we finish.

        The server only reports a disconnect to a pending `receive()`, so one
        waits in the background; it returns by itself once the reply is done.
        """
        self._task = asyncio.current_task()
        watcher = asyncio.ensure_future(self.receive())
        watcher.add_done_callback(self._on_receive)

    def _on_receive(self, watcher: asyncio.Future[Any]) -> None:
        if self._done or watcher.cancelled():
            return
        message = watcher.result()
        if message.get("type") == "http.disconnect" and self._task is not None:
            self.disconnected = True
            self._task.cancel()

    def forget_cancel(self) -> None:
        """Our own disconnect-triggered cancel has done its job: clear it."""
        if self.disconnected and self._task is not None and self._task.cancelling():
            self._task.uncancel()

    async def _run_before_reply(self) -> None:
        hook, self.before_reply = self.before_reply, None
        assert hook is not None
        await hook()

    async def reply(self, status: int, body: bytes, content_type: bytes = JSON,
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
        if self.before_reply is not None:
            await self._run_before_reply()
        self._done = True
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), *self.reply_headers]
        if extra:
            headers += extra
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    async def reply_error(self, exc: GatewayError) -> None:
        if not self.disconnected:
            await self.reply(exc.status, exc.body(), JSON, exc.headers())

    async def fail(self, exc: GatewayError) -> None:
        """Report an error whether or not the reply has begun."""
        if self._done or self.disconnected:
            return
        if not self._streaming:
            await self.reply_error(exc)
            return
        await self.stream(error_event(exc.message, exc.type, exc.code or "internal_error"))
        await self.end_stream()

    async def start_stream(self) -> None:
        if self.before_reply is not None:
            await self._run_before_reply()
        self._streaming = True
        headers = [*SSE_HEADERS, *self.reply_headers]
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})

    async def stream(self, data: bytes) -> None:
        if data:
            await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end_stream(self) -> None:
        self._done = True
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

