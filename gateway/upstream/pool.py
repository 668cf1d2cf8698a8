"""Keep-alive connection pools, one per upstream origin, and the request call.

`UpstreamClient.request()` is the only way the gateway talks to engines. It
returns an `UpstreamReply` once the status line and headers are in; the body is
then read whole or streamed chunk by chunk, and the reply must be closed, which
returns a clean connection to its pool or drops a dirty one.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.errors import UpstreamTimeout, UpstreamUnavailable
from gateway.upstream.connection import ConnectionLost, UpstreamConnection


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> tuple[Origin, str]:
        """Split a base URL into its origin and path prefix (e.g. '/v1')."""
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname or "", port), parts.path.rstrip("/")

    @property
    def host_header(self) -> bytes:
        default = 443 if self.scheme == "https" else 80
        text = self.host if self.port == default else f"{self.host}:{self.port}"
        return text.encode()


class UpstreamReply:
    """A reply whose headers have arrived; the body is read through it."""

    __slots__ = ("_conn", "_pool", "status", "headers", "_closed")

    def __init__(self, conn: UpstreamConnection, pool: ConnectionPool) -> None:
        self._conn = conn
        self._pool = pool
        self.status = conn.status
        self.headers = conn.headers
        self._closed = False

    async def read(self) -> bytes:
        """The whole body; UpstreamReplyTooLarge above the client's `max_reply_bytes`."""
        try:
            return await self._conn.read_body(self._pool.max_reply_bytes)
        finally:
            self.close()

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await self._conn.next_chunk()) is not None:
                yield chunk
        finally:
            self.close()

    def abort(self) -> None:
        """Drop the upstream connection, cancelling the request there."""
        if not self._closed:
            self._conn.abort()
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.release(self._conn)


class ConnectionPool:
    """Idle connections to one origin, newest first, bounded in total."""

    def __init__(
        self, origin: Origin, *, limit: int, connect_timeout: float, read_timeout: float, max_reply_bytes: int
    ) -> None:
        self.origin = origin
        self.max_reply_bytes = max_reply_bytes
        self._limit = limit
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: list[UpstreamConnection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ssl = ssl.create_default_context() if origin.scheme == "https" else None

    async def acquire(self) -> UpstreamConnection:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
                self._open -= 1
            if self._open < self._limit:
                return await self._connect()
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def release(self, conn: UpstreamConnection) -> None:
        if conn.closed or not (conn.complete and conn.keep_alive):
            if not conn.closed:
                conn.close()
            self._open -= 1
        else:
            conn.reused = True
            self._idle.append(conn)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    async def _connect(self) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        self._open += 1
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamConnection(loop, self._read_timeout),
                    self.origin.host,
                    self.origin.port,
                    ssl=self._ssl,
                ),
                self._connect_timeout,
            )
        except asyncio.TimeoutError:
            self._open -= 1
            raise UpstreamTimeout(f"connecting to {self.name} timed out") from None
        except OSError as exc:
            self._open -= 1
            raise UpstreamUnavailable(f"cannot connect to {self.name}: {exc.strerror or exc}") from None
        except BaseException:
            self._open -= 1
            raise
        return conn

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    @property
    def name(self) -> str:
        return f"{self.origin.host}:{self.origin.port}"


class UpstreamClient:
    """Sends requests to any configured upstream; owns one pool per origin."""

    def __init__(
        self, *, limit_per_origin: int = 256, connect_timeout: float = 5.0, read_timeout: float = 600.0,
        max_reply_bytes: int = 128 << 20,
    ) -> None:
        self._pools: dict[Origin, ConnectionPool] = {}
        self._limit = limit_per_origin
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_reply_bytes = max_reply_bytes

    def pool(self, origin: Origin) -> ConnectionPool:
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = ConnectionPool(
                origin, limit=self._limit, connect_timeout=self._connect_timeout, read_timeout=self._read_timeout,
                max_reply_bytes=self._max_reply_bytes,
            )
        return pool

    async def request(self, origin: Origin, head: bytes, body: bytes) -> UpstreamReply:
        """Send a pre-built request head and body; return once headers arrive.

        A reused keep-alive connection may have been closed by the upstream
        while idle; if it dies before a single byte of reply, the request is
        sent again once on a fresh connection (nothing reached the engine).
        """
        pool = self.pool(origin)
        for attempt in (0, 1):
            conn = await pool.acquire()
            conn.send_request(head, body)
            try:
                await conn.wait_headers()
            except ConnectionLost:
                pool.release(conn)
                if attempt == 0 and conn.reused and not conn.received_any:
                    continue
                raise UpstreamUnavailable(f"{pool.name} closed the connection") from None
            except BaseException:
                conn.abort()
                pool.release(conn)
                raise
            return UpstreamReply(conn, pool)
        raise AssertionError("unreachable")

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def build_head(method: bytes, path: bytes, origin: Origin, headers: list[tuple[bytes, bytes]], length: int) -> bytes:
    lines = [method + b" " + path + b" HTTP/1.1", b"host: " + origin.host_header, b"content-length: %d" % length]
    lines.extend(name + b": " + value for name, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"
