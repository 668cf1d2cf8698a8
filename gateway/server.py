"""The client-facing HTTP/1.1 server: uvicorn's httptools protocol, with limits.

uvicorn bounds neither a request head's size nor the time a client may take
to send it, nor the number of connections: a slowloris, a half-sent body, a
silent socket or a 64 MiB header each hold memory and a descriptor forever.
`GatewayProtocol` adds, per connection:

  * `max_header_bytes`: the request line and headers, counted as they
    arrive; above it the client gets 431 and the connection is closed;
  * `header_timeout_s`: from the connection's start (or the end of the
    previous reply) to the end of the headers; past it 408, or a silent close
    when not one byte of a request came;
  * `body_timeout_s`: the longest silence while a body is being received;
    408 unless the app already answered, then a plain close;
  * `keepalive_timeout_s`: an idle connection between requests is closed;
  * `max_client_connections`: at the cap the longest-idle connections (no
    request under way) are closed to make room; when every connection is
    busy, a new one is answered 503 and closed before anything of it is read.

Every reply it writes itself (those, and the parser's own 400s) is
OpenAI-shaped JSON with `x-request-id` and `connection: close`. Upgrades
(WebSocket, h2c) are ignored as RFC 9110 §7.8 allows: the request is served
as plain HTTP/1.1 and the connection closed after the reply; one that
declares a body is refused with 400 `upgrade_not_supported` (the parser
treats its body as the new protocol's bytes).

The timers cost nothing per request: one timer per connection, armed at the
earliest deadline and re-armed lazily when it fires (as gateway/upstream does
for reads); receiving body bytes only stamps a float.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import httptools
import uvicorn

# uvicorn's internals (HttpToolsProtocol's callbacks, its `cycle`, `pipeline`
# and `flow`, RequestResponseCycle's flags) are what this module extends:
# pyproject.toml pins uvicorn to the minor version it was written against.
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.config import GatewayConfig
from gateway.errors import GatewayError, HeaderFieldsTooLarge, InvalidHTTP, RequestTimeout, TooManyConnections
from gateway.exchange import request_id_of
from gateway.headers import find_header
from gateway.metrics import GatewayMetrics

log = logging.getLogger("semgate.server")

# Descriptors kept for everything but client sockets and upstream pools:
# stdio, the listening sockets, log files, the event loop's own, engine pipes.
BASE_FD_RESERVE = 64


@dataclass(frozen=True)
class ClientLimits:
    max_header_bytes: int
    header_timeout_s: float
    body_timeout_s: float
    keepalive_timeout_s: float
    max_connections: int


class UvicornConfig(uvicorn.Config):
    """uvicorn's Config carrying the client limits to every protocol instance
    (and, pickled, to `--workers` processes)."""

    limits: ClientLimits


# Where a connection stands; the timer's meaning depends on it.
IDLE = 0  # no byte of a request yet: keep-alive (or header) deadline, silent close
HEAD = 1  # a request head is arriving: header deadline, 408
BODY = 2  # headers done, body arriving: body silence deadline, 408 or close
BUSY = 3  # request received, the app is answering: no deadline (upstream timeouts apply)


class GatewayProtocol(HttpToolsProtocol):
    def __init__(self, config: UvicornConfig, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = config.limits
        self._count_refusal = _refusal_counter(self.app)
        self._phase = IDLE
        self._head_bytes = 0  # bytes received while no body was being read (an upper bound of the head)
        self._deadline = 0.0  # IDLE and HEAD: fixed; BODY: _last_data + body timeout
        self._head_deadline = 0.0
        self._last_data = 0.0
        self._idle_since = 0.0  # when the connection last carried no request (the oldest idle goes first)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._upgraded = False  # the client asked to switch protocols: what follows the request is not HTTP/1.1

    # --- the connection --------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not self._reclaim_idle():
            # Refused before uvicorn counts or reads it: the descriptor goes back at once.
            self.transport = transport
            self._count_refusal(TooManyConnections.code)
            transport.write(self._reply(TooManyConnections(
                f"the gateway holds its maximum of {self.limits.max_connections} client connections; retry shortly"
            )))
            transport.close()
            return
        super().connection_made(transport)
        self._idle_since = now = self.loop.time()
        self._head_deadline = self._deadline = now + self.limits.header_timeout_s
        self._arm(self._deadline)

    def _reclaim_idle(self) -> bool:
        """At the cap, make room by closing the longest-idle quarter of the
        connections that carry no request (silent ones, idle keep-alives), as a
        server may at any time; False when every connection is busy.

        A quarter, not one: the scan is paid once per many admissions, so a
        flood of new connections costs no O(connections) work each."""
        idle = [conn for conn in self.connections if isinstance(conn, GatewayProtocol) and conn._phase == IDLE]
        if not idle:
            return False
        for conn in heapq.nsmallest(max(1, len(idle) // 4), idle, key=attrgetter("_idle_since")):
            self.connections.discard(conn)  # now, not in connection_lost: the next admission counts it gone
            conn.transport.close()
            self._count_refusal("reclaimed")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._upgraded:
            return  # another protocol's bytes; the connection closes after the reply
        phase = self._phase
        if phase == BODY:
            self._last_data = self.loop.time()
        else:
            self._head_bytes += len(data)
            if phase == IDLE:  # a request begins; the timer is pending at or before its head deadline
                self._phase = HEAD
                self._deadline = self._head_deadline
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._ignore_upgrade()
        except httptools.HttpParserError as exc:
            # A callback's own exception (ours below, or parse_url's) is the error's context.
            cause = exc.__context__
            if isinstance(cause, GatewayError):
                self._refuse(cause)
            else:
                reason = cause if isinstance(cause, httptools.HttpParserError) else exc
                self._refuse(InvalidHTTP(f"invalid HTTP request: {reason}"))
            return
        if self._head_bytes > self.limits.max_header_bytes and self._phase != BODY:
            self._refuse(self._too_large())

    def _ignore_upgrade(self) -> None:
        if _declares_body(self.headers):
            # llhttp hands all that follows an upgrade request's head to the new
            # protocol, body included: served as HTTP/1.1 it would lose its body.
            self._phase = BODY  # the app has not run yet: the refusal is this request's answer
            self._refuse(InvalidHTTP("protocol upgrades are not supported, and an Upgrade request's body cannot "
                                     "be read; send it without Upgrade", code="upgrade_not_supported"))
            return
        self._upgraded = True
        self.flow.pause_reading()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # the reply says `connection: close` and closes

    # --- parser callbacks --------------------------------------------------------

    # The base class is named, not super(): these run for every request.
    def on_headers_complete(self) -> None:
        # `_head_bytes` may include body bytes of the same read: only then count exactly.
        if self._head_bytes > self.limits.max_header_bytes and self._head_size() > self.limits.max_header_bytes:
            raise self._too_large()  # httptools wraps it; data_received finds it as the error's context
        self._head_bytes = 0
        self._phase = BODY
        self._last_data = now = self.loop.time()
        deadline = now + self.limits.body_timeout_s
        if self._timer is None or deadline < self._timer_at:  # else the pending timer re-arms itself
            self._arm(deadline)
        HttpToolsProtocol.on_headers_complete(self)

    def on_message_complete(self) -> None:
        HttpToolsProtocol.on_message_complete(self)
        if self.cycle.response_complete:  # answered before the body ended (an early 413)
            self._idle()
        else:
            self._phase = BUSY

    def on_response_complete(self) -> None:
        # uvicorn's, without its per-reply keep-alive timer: ours is already armed.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._phase == BUSY:
            self._idle()

    def _idle(self) -> None:
        """Between requests: the keep-alive deadline, unless the next head already began."""
        self._idle_since = now = self.loop.time()
        self._head_deadline = now + self.limits.header_timeout_s
        if self._head_bytes:
            self._phase, self._deadline = HEAD, self._head_deadline
        else:
            self._phase, self._deadline = IDLE, now + self.limits.keepalive_timeout_s
        if self._timer is None or self._deadline < self._timer_at:
            self._arm(self._deadline)

    # --- the timer ---------------------------------------------------------------

    def _arm(self, when: float) -> None:
        """Make the timer fire no later than `when`; a later one is re-armed when it fires."""
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer_at = when
        self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        phase = self._phase
        if phase == BUSY:
            return  # re-armed when the reply is complete
        deadline = self._last_data + self.limits.body_timeout_s if phase == BODY else self._deadline
        if self.loop.time() < deadline:
            self._arm(deadline)
        elif phase == IDLE:
            self.transport.close()  # nothing of a request came: nobody to answer
        elif phase == HEAD:
            self._refuse(RequestTimeout(f"request headers not complete within {self.limits.header_timeout_s:g} s"))
        else:
            self._refuse(RequestTimeout(f"request body: nothing received for {self.limits.body_timeout_s:g} s"))

    # --- refusals ----------------------------------------------------------------

    def _too_large(self) -> HeaderFieldsTooLarge:
        return HeaderFieldsTooLarge(f"request line and headers exceed {self.limits.max_header_bytes} bytes")

    def _head_size(self) -> int:
        # What the parser kept of the head: a lower bound of its bytes on the wire.
        return len(self.url) + 16 + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse(self, error: GatewayError) -> None:
        """Answer `error` if no other reply is under way, then close."""
        self._count_refusal(error.code or "refused")
        if self._may_answer() and not self.transport.is_closing():
            self.transport.write(self._reply(error))
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() says http.disconnect; its sends are dropped
            cycle.message_event.set()
        self.transport.close()

    def _may_answer(self) -> bool:
        if self.pipeline:
            return False  # an earlier request's reply comes first
        cycle = self.cycle
        if cycle is None:
            return True
        if self._phase == BUSY:
            return False  # the request in hand is not answered yet: this is about the next one
        if self._phase in (IDLE, HEAD):
            return cycle.response_complete  # this head's request has no cycle yet
        return not cycle.response_started

    def _reply(self, error: GatewayError) -> bytes:
        # The client's x-request-id once this request's headers are (partly) known.
        headers = self.headers if self._phase != IDLE and self.headers else []
        request_id = request_id_of(find_header(headers, b"x-request-id"))
        body = error.body()
        head = [STATUS_LINE[error.status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nx-request-id: %s\r\n"
                    b"connection: close\r\n\r\n" % (len(body), request_id))
        head.append(body)
        return b"".join(head)


def _refusal_counter(app: Any) -> Callable[[str], None]:
    """The gateway's refusal counter (semgate_client_connections_refused_total), found
    through uvicorn's wrappers; a no-op for an app without gateway metrics."""
    for _ in range(8):
        metrics = getattr(app, "metrics", None)
        if isinstance(metrics, GatewayMetrics):
            return metrics.connection_refused
        app = getattr(app, "app", None)
    return _ignore


def _ignore(reason: str) -> None:
    pass


def _declares_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip(b" 0")):
            return True
    return False


# --- building uvicorn's Config -----------------------------------------------------


def uvicorn_config(app: Any, config: GatewayConfig, *, host: str | None = None, port: int | None = None,
                   log_level: str = "info", **extra: Any) -> UvicornConfig:
    """The one uvicorn.Config the gateway runs under (`semgate serve`, its workers, tests)."""
    server = config.server
    uv = UvicornConfig(
        app, host=host or server.host, port=server.port if port is None else port,
        loop="uvloop", http=GatewayProtocol, ws="none", lifespan="on",
        access_log=False, server_header=False, proxy_headers=False, log_config=None, log_level=log_level.lower(),
        timeout_graceful_shutdown=server.shutdown_timeout_s, **extra,
    )
    uv.limits = ClientLimits(
        max_header_bytes=server.max_header_bytes, header_timeout_s=server.header_timeout_s,
        body_timeout_s=server.body_timeout_s, keepalive_timeout_s=server.keepalive_timeout_s,
        max_connections=client_connection_cap(config),
    )
    return uv


def client_connection_cap(config: GatewayConfig) -> int:
    """`max_client_connections`, lowered so the open-files limit keeps a reserve
    for upstream sockets, health probes, the store and logs; logged once."""
    wanted = config.server.max_client_connections
    limit = raise_open_files_limit()
    reserve = descriptor_reserve(config)
    cap = min(wanted, limit - reserve)
    if limit - reserve < limit // 4:  # the reserve hardly fits: still serve clients, and say so
        cap = min(wanted, limit // 4)
        log.warning("open-files limit %d is low for this config (%d descriptors wanted for upstreams, the store "
                    "and probes); raise it (ulimit -n)", limit, reserve)
    log.info("client connections: at most %d (open-files limit %d, %d kept for upstreams, probes, store, logs)",
             cap, limit, reserve)
    return cap


def descriptor_reserve(config: GatewayConfig) -> int:
    per_upstream = config.server.max_connections_per_upstream + 1  # its pool and its health probe
    replicas = 0
    for model in config.models:
        # An embedded sim engine serves in this process: both ends of each socket are ours.
        replicas += len(model.upstreams) if model.engine == "http" else 2 if model.engine == "sim" else 1
    store = config.store.max_connections if config.store.backend == "redis" else 0
    return replicas * per_upstream + store + BASE_FD_RESERVE


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, exc)
    return soft
