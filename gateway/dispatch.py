"""Getting a request answered: replicas, retries with backoff, fallback models.

An attempt that fails before the engine could have started work (refused
connection, or a 429/5xx status before any byte reached the client) is
retried on another replica of the same model, then on the model's
fallbacks. A timeout is not retried: the engine may still be working, and a
second try would double both the wait and the cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.errors import (
    GatewayError,
    UpstreamError,
    UpstreamReplyTooLarge,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_body,
)
from gateway.exchange import Exchange
from gateway.metrics import GatewayMetrics
from gateway.routes import ModelRoute
from gateway.upstream import UpstreamClient, UpstreamReply, build_head
from router.replicas import Replica


class UpstreamRejected(GatewayError):
    """Every attempt was answered with a retryable error status; relay the last one."""

    type = "upstream_error"

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"upstream answered {status}")
        self.status = status
        self._body = body if _is_openai_error(body) else error_body(
            f"upstream answered {status}: {body[:500].decode('utf-8', 'replace')}", "upstream_error", status
        )

    def body(self) -> bytes:
        return self._body


def _is_openai_error(body: bytes) -> bool:
    return body.lstrip().startswith(b"{") and b'"error"' in body[:64]


@dataclass(slots=True)
class Attempt:
    """The attempt that got an answer: relay `reply`, then call `finish`."""

    route: ModelRoute
    replica: Replica
    reply: UpstreamReply
    started: float = field(default_factory=time.perf_counter)
    _finished: bool = False

    def finish(self, ok: bool | None) -> None:
        """Release the replica; ok=None when the outcome says nothing about it
        (the client left), so a run of impatient clients cannot trip its breaker."""
        if self._finished:
            return
        self._finished = True
        self.replica.in_flight -= 1
        if ok:
            self.replica.record_success(time.perf_counter() - self.started)
        elif ok is False:
            self.replica.record_failure("status_5xx")


class Dispatcher:
    def __init__(self, client: UpstreamClient, metrics: GatewayMetrics, path: bytes) -> None:
        self.client = client
        self.metrics = metrics
        self.path = path

    async def send(
        self,
        exchange: Exchange,
        chain: list[ModelRoute],
        body_for: Callable[[ModelRoute], bytes],
        affinity: bytes | None = None,
        perf: bytes | None = None,
    ) -> Attempt:
        last: GatewayError = UpstreamUnavailable("no replica is reachable")
        for route in chain:
            body = body_for(route)
            headers = [*route.upstream_headers, (b"x-request-id", exchange.request_id)]
            tried: tuple[Replica, ...] = ()
            delay = route.config.retry.backoff_s
            for attempt in range(route.config.retry.attempts):
                replica = route.replicas.pick(tried, affinity=affinity, perf=perf)
                if replica is None:  # every replica tried once: go round again
                    tried = ()
                    replica = route.replicas.pick(tried, affinity=affinity, perf=perf)
                if replica is None:
                    break
                if attempt:
                    await asyncio.sleep(delay)
                    delay *= 2
                try:
                    answered = await self._try(exchange, route, replica, headers, body)
                except _Retryable as failure:
                    tried += (replica,)
                    last = failure.error
                    continue
                return answered
        raise last

    async def _try(
        self, exchange: Exchange, route: ModelRoute, replica: Replica, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Attempt:
        replica.refresh()
        head = build_head(b"POST", replica.prefix + self.path, replica.origin, headers, len(body))
        replica.in_flight += 1
        try:
            reply = await self.client.request(replica.origin, head, body)
        except UpstreamUnavailable as exc:
            self._failed(route, replica, "connect", "unavailable")
            raise _Retryable(exc) from None
        except UpstreamTimeout:
            self._failed(route, replica, "timeout", "upstream_timeout")
            raise
        except UpstreamError as exc:
            self._failed(route, replica, "status_5xx", exc.code or "bad_gateway")
            raise
        except asyncio.CancelledError:
            replica.in_flight -= 1
            raise
        if reply.status in route.config.retry.on_status:
            kind = "status_429" if reply.status == 429 else "status_5xx"
            self._failed(route, replica, kind, kind)
            # Keep the error body in case this was the last chance.
            raise _Retryable(UpstreamRejected(reply.status, await _error_body(reply)))
        return Attempt(route, replica, reply)

    def _failed(self, route: ModelRoute, replica: Replica, kind: str, metric: str) -> None:
        replica.in_flight -= 1
        replica.record_failure(kind)
        self.metrics.upstream_error(route.name, metric)


async def _error_body(reply: UpstreamReply) -> bytes:
    """An error reply's body; one over our reply limit is dropped, the status still counts."""
    try:
        return await reply.read()
    except UpstreamReplyTooLarge:
        return b"(body over server.max_reply_bytes)"


class _Retryable(Exception):
    def __init__(self, error: GatewayError) -> None:
        self.error = error
