"""A lean, pipelined Redis connection for the commands on the request path.

With tenants on, every request runs one meter script on Redis. redis-py spends
about 100 µs of Python per command on that (pool, retries, timeouts, command
packing), more than the rest of the request. This connection sends each
command the moment it is asked for, on one socket shared by all requests
(Redis answers in order, so replies are matched to a FIFO of futures), and
parses only the reply types Redis sends back: a few microseconds per command.

Timeouts cost nothing per command: a single timer watches the oldest waiting
reply; if it is older than `timeout_s`, Redis has stopped answering, so every
waiter fails with StoreError and the socket is dropped (the next command
reconnects). Blocking commands (XREAD BLOCK) never come here.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import ssl
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from gateway.store.base import StoreError

Reply = bytes | int | list[Any] | None


class ReplyError(StoreError):
    """Redis answered with an error (-ERR …, -NOSCRIPT …)."""


def encode(*args: bytes | str | int | float) -> bytes:
    """A command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Incomplete(Exception):
    pass


def parse(buffer: bytes | bytearray, pos: int) -> tuple[Reply | ReplyError, int]:
    """One reply starting at `pos`: (reply, position after it); _Incomplete if it has not all arrived."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[pos:pos + 1], bytes(buffer[pos + 1:end])
    pos = end + 2
    if kind == b"+":
        return line, pos
    if kind == b"-":
        return ReplyError(line.decode("utf-8", "replace")), pos
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(buffer) < pos + size + 2:
            raise _Incomplete
        return bytes(buffer[pos:pos + size]), pos + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count):
            item, pos = parse(buffer, pos)
            items.append(item)
        return items, pos
    raise StoreError(f"unexpected reply from redis: {bytes(buffer[pos - len(line) - 3:pos])[:60]!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: PipelinedRedis) -> None:
        self._owner = owner
        self._buffer = bytearray()
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        pos = 0
        try:
            while pos < len(self._buffer):
                reply, pos = parse(self._buffer, pos)
                self._owner.deliver(self, reply)
        except _Incomplete:
            pass
        except (StoreError, ValueError) as exc:
            self._owner.lost(self, StoreError(f"redis sent something unreadable: {exc}"))
            return
        del self._buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.lost(self, StoreError(f"redis connection lost: {exc!r}" if exc else "redis closed the connection"))


class PipelinedRedis:
    """One connection, commands pipelined; `call` sends one and awaits its reply."""

    def __init__(self, url: str, *, timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise StoreError(f"unsupported redis URL scheme {parts.scheme!r} (redis:// or rediss://)")
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 6379
        self._tls = ssl.create_default_context() if parts.scheme == "rediss" else None
        self._hello: list[bytes] = []  # AUTH / SELECT, sent first on every new connection
        if parts.password:
            user = unquote(parts.username) if parts.username else None
            self._hello.append(encode("AUTH", *([user] if user else []), unquote(parts.password)))
        db = (parts.path or "/").strip("/") or "0"
        if db != "0":
            self._hello.append(encode("SELECT", db))
        self._timeout_s = timeout_s
        self._transport: asyncio.Transport | None = None
        self._connecting: asyncio.Future[None] | None = None
        self._waiting: collections.deque[tuple[asyncio.Future[Reply], float]] = collections.deque()
        self._watch: asyncio.TimerHandle | None = None
        self._scripts: dict[str, bytes] = {}  # sha1 -> source

    async def call(self, *args: bytes | str | int | float) -> Reply:
        if self._transport is None:
            await self._connect()
            if self._transport is None:
                raise StoreError("redis refused the connection's set-up")
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting.append((future, time.monotonic() + self._timeout_s))
        self._transport.write(encode(*args))
        if self._watch is None:
            self._arm()
        reply = await future
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    async def script(self, source: str, keys: list[str], args: list[Any]) -> Reply:
        """EVALSHA, loading the script on a NOSCRIPT (a restarted or flushed Redis)."""
        sha = hashlib.sha1(source.encode()).hexdigest()
        self._scripts[sha] = source.encode()
        try:
            return await self.call("EVALSHA", sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self.call("EVAL", source, len(keys), *keys, *args)

    async def _connect(self) -> None:
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        try:
            await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self), self._host, self._port, ssl=self._tls),
                self._timeout_s,
            )
        except (OSError, TimeoutError) as exc:
            raise StoreError(f"cannot connect to redis at {self._host}:{self._port}: {exc!r}") from None
        self._transport = transport  # type: ignore[assignment]
        for command in self._hello:
            future: asyncio.Future[Reply] = loop.create_future()
            self._waiting.append((future, time.monotonic() + self._timeout_s))
            transport.write(command)  # type: ignore[attr-defined]
            future.add_done_callback(self._check_hello)
        if self._hello and self._watch is None:
            self._arm()

    def _check_hello(self, future: asyncio.Future[Reply]) -> None:
        if not future.cancelled() and isinstance(future.result(), ReplyError):
            self.fail(StoreError(f"redis refused the connection's set-up: {future.result()}"))

    def deliver(self, protocol: _Protocol, reply: Reply | ReplyError) -> None:
        if protocol.transport is not self._transport or not self._waiting:
            return  # a connection we gave up on
        future, _ = self._waiting.popleft()
        if not future.done():
            future.set_result(reply)  # type: ignore[arg-type]

    def lost(self, protocol: _Protocol, error: StoreError) -> None:
        if protocol.transport is self._transport:  # not an old connection we dropped already
            self.fail(error)

    def fail(self, error: StoreError) -> None:
        """Fail every waiting command and drop the connection; the next call reconnects."""
        transport, self._transport = self._transport, None
        waiting, self._waiting = self._waiting, collections.deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(error)
        if transport is not None:
            transport.abort()

    def _arm(self) -> None:
        self._watch = asyncio.get_running_loop().call_later(self._timeout_s / 4, self._check)

    def _check(self) -> None:
        self._watch = None
        if not self._waiting:
            return
        if self._waiting[0][1] <= time.monotonic():  # the oldest reply is overdue: Redis stopped answering
            self.fail(StoreError(f"redis did not answer within {self._timeout_s}s"))
            return
        self._arm()

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self.fail(StoreError("the store was closed"))
