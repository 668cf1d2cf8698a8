"""The hot path: OpenAI POST endpoints proxied to a model's replicas.

These handlers are raw ASGI callables, dispatched before FastAPI sees the
request: routing, dependency injection and response classes cost more than
the proxying itself at thousands of requests per second. What they do per
request: read and size-check the body, parse it once with orjson, validate it
against the pydantic schema, pick a replica, forward the client's own bytes,
and stream or relay the reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel

from gateway.errors import (
    ClientDisconnected,
    GatewayError,
    InvalidJSON,
    MethodNotAllowed,
    ModelNotFound,
    PayloadTooLarge,
    UpstreamError,
    UpstreamUnavailable,
    error_body,
)
from gateway.metrics import GatewayMetrics
from gateway.protocol import validate
from gateway.routes import ModelRoute
from gateway.streaming import SSEUsageTap, error_event
from gateway.upstream import UpstreamClient, UpstreamReply, build_head
from router.replicas import Replica

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

access_log = logging.getLogger("semgate.access")
log = logging.getLogger("semgate.proxy")

JSON = b"application/json"
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
MAX_REQUEST_ID = 128


def request_id_of(value: bytes | None) -> bytes:
    """The client's x-request-id if it is sane, else a fresh one."""
    if value and len(value) <= MAX_REQUEST_ID and value.isascii() and value.replace(b"-", b"").isalnum():
        return value
    return os.urandom(12).hex().encode()


class ProxyEndpoint:
    """POST {path}: validate with `schema`, then proxy to the named model."""

    def __init__(
        self,
        *,
        path: bytes,
        endpoint: str,
        schema: type[BaseModel],
        routes: dict[str, ModelRoute],
        client: UpstreamClient,
        metrics: GatewayMetrics,
        max_body_bytes: int,
        log_requests: bool,
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.schema = schema
        self.routes = routes
        self.client = client
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(scope, receive, send)
        route: ModelRoute | None = None
        status = 500
        try:
            if scope["method"] != "POST":
                raise MethodNotAllowed(f"{scope['path']} accepts POST only")
            data, body = await self._read_request(exchange)
            route = self.routes.get(data["model"])
            if route is None:
                raise ModelNotFound(f"model {data['model']!r} does not exist", param="model")
            self.metrics.started(route.name)
            status = await self._proxy(exchange, route, data, body)
        except GatewayError as exc:
            status = exc.status
            await exchange.reply_error(exc)
        except ClientDisconnected:
            status = 499  # nginx's code for "client closed request"
            if route is not None:
                self.metrics.client_disconnect(route.name)
        except Exception:  # a bug of ours: log it, answer in OpenAI's shape all the same
            log.exception("request %s failed", exchange.request_id.decode())
            status = 500
            await exchange.fail(GatewayError("internal gateway error; see the gateway log"))
        finally:
            elapsed = time.perf_counter() - exchange.started
            if route is not None:
                self.metrics.finished(route.name, self.endpoint, status, elapsed)
            if self.log_requests:
                access_log.info(
                    "%s %s model=%s status=%d %.1fms", exchange.request_id.decode(), self.endpoint,
                    route.name if route else "-", status, elapsed * 1000,
                )

    async def _read_request(self, exchange: Exchange) -> tuple[dict[str, Any], bytes]:
        body = await exchange.read_body(self.max_body_bytes)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"request body is not valid JSON: {exc}") from None
        validate(self.schema, data)
        return data, body

    async def _proxy(self, exchange: Exchange, route: ModelRoute, data: dict[str, Any], body: bytes) -> int:
        stream = bool(data.get("stream"))
        strip_usage = False
        if stream and not (data.get("stream_options") or {}).get("include_usage"):
            # Ask for the usage event anyway (metrics, budgets); hidden again below.
            data["stream_options"] = {**(data.get("stream_options") or {}), "include_usage": True}
            strip_usage = True
        if route.rename_request or strip_usage:
            data["model"] = route.served_model
            body = orjson.dumps(data)
        exchange.watch_disconnect()
        replica, reply = await self._send(exchange, route, body)
        try:
            if stream and reply.status == 200:
                await self._relay_stream(exchange, route, reply, strip_usage)
            else:
                await self._relay_whole(exchange, route, reply)
            return reply.status
        except asyncio.CancelledError:
            reply.abort()
            exchange.raise_if_disconnected()
            raise
        finally:
            replica.in_flight -= 1
            reply.close()

    async def _send(self, exchange: Exchange, route: ModelRoute, body: bytes) -> tuple[Replica, UpstreamReply]:
        """Send to the best replica; on a failed connection, try the next one."""
        tried: tuple[Replica, ...] = ()
        last: GatewayError = UpstreamUnavailable(f"no replica of {route.name!r} is reachable")
        headers = [*route.upstream_headers, (b"x-request-id", exchange.request_id)]
        while (replica := route.replicas.pick(tried)) is not None:
            replica.refresh()
            head = build_head(b"POST", replica.prefix + self.path, replica.origin, headers, len(body))
            replica.in_flight += 1
            try:
                return replica, await self.client.request(replica.origin, head, body)
            except UpstreamUnavailable as exc:
                # Nothing reached the engine: safe to try another replica.
                replica.in_flight -= 1
                replica.mark_failed()
                self.metrics.upstream_error(route.name, "unavailable")
                tried += (replica,)
                last = exc
            except UpstreamError as exc:
                replica.in_flight -= 1
                self.metrics.upstream_error(route.name, exc.code or "bad_gateway")
                raise
            except asyncio.CancelledError:
                replica.in_flight -= 1
                exchange.raise_if_disconnected()
                raise
        raise last

    async def _relay_whole(self, exchange: Exchange, route: ModelRoute, reply: UpstreamReply) -> None:
        body = await reply.read()
        status = reply.status
        if status == 200:
            self._count_usage(route, body)
            if route.rename_response is not None:
                body = body.replace(*route.rename_response)
        elif status >= 500:
            self.metrics.upstream_error(route.name, "status_5xx")
        if status >= 400 and not _is_openai_error(body):
            text = body[:500].decode("utf-8", "replace")
            body = error_body(f"upstream answered {status}: {text}", "upstream_error", status)
        content_type = _content_type(reply) if status < 400 else JSON
        await exchange.reply(status, body, content_type)

    async def _relay_stream(self, exchange: Exchange, route: ModelRoute, reply: UpstreamReply, strip_usage: bool) -> None:
        tap = SSEUsageTap(strip_usage=strip_usage, rename=route.rename_response)
        await exchange.start_stream()
        first = True
        try:
            async for chunk in reply.iter_chunks():
                out = tap.feed(chunk)
                if out:
                    if first:
                        first = False
                        self.metrics.first_token(route.name, time.perf_counter() - exchange.started)
                    await exchange.stream(out)
            await exchange.stream(tap.flush())
        except UpstreamError as exc:
            self.metrics.upstream_error(route.name, exc.code or "bad_gateway")
            await exchange.stream(error_event(exc.message, exc.type, exc.code or "bad_gateway"))
        await exchange.end_stream()
        if tap.usage is not None:
            self.metrics.usage(route.name, tap.usage.get("prompt_tokens") or 0, tap.usage.get("completion_tokens") or 0)

    def _count_usage(self, route: ModelRoute, body: bytes) -> None:
        try:
            usage = orjson.loads(body).get("usage")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if isinstance(usage, dict):
            self.metrics.usage(route.name, usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)


def _is_openai_error(body: bytes) -> bool:
    return body.startswith(b'{"error"') or (body.lstrip().startswith(b"{") and b'"error"' in body[:64])


def _content_type(reply: UpstreamReply) -> bytes:
    for name, value in reply.headers:
        if name == b"content-type":
            return value
    return JSON


class Exchange:
    """One client request/response: body reading, replies, disconnect watch."""

    __slots__ = ("scope", "receive", "_send", "started", "request_id", "disconnected", "_done", "_streaming", "_task",
                 "_content_length")

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

    async def read_body(self, limit: int) -> bytes:
        if self._content_length > limit:
            raise PayloadTooLarge(f"request body is {self._content_length} bytes; the limit is {limit}")
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

    def raise_if_disconnected(self) -> None:
        """Turn our own disconnect-triggered cancellation into ClientDisconnected."""
        if self.disconnected:
            if self._task is not None:
                self._task.uncancel()
            raise ClientDisconnected from None

    async def reply(self, status: int, body: bytes, content_type: bytes = JSON) -> None:
        self._done = True
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), (b"x-request-id", self.request_id)]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    async def reply_error(self, exc: GatewayError) -> None:
        if not self.disconnected:
            await self.reply(exc.status, exc.body())

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
        self._streaming = True
        headers = [*SSE_HEADERS, (b"x-request-id", self.request_id)]
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})

    async def stream(self, data: bytes) -> None:
        if data:
            await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end_stream(self) -> None:
        self._done = True
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

