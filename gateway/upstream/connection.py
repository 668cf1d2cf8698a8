"""One keep-alive HTTP/1.1 connection to an upstream, as an asyncio Protocol.

General-purpose async clients spend most of a proxied request's budget on
their own machinery (per-request objects, header multidicts, stream wrappers).
This protocol does the minimum a gateway needs: write one pre-built request,
parse the reply with httptools, hand body chunks to a single reader, and tell
the pool whether the connection can be reused.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

from gateway.errors import UpstreamError, UpstreamReplyTooLarge, UpstreamTimeout
from gateway.headers import find_header

# Pause reading from the upstream once this much body is waiting for a slow
# client, so a stalled consumer cannot make the gateway buffer a whole reply.
# A reply read whole (`read_body`) is the gateway's own consumer instead: it
# never pauses, and is bounded by its own limit (server.max_reply_bytes).
HIGH_WATER = 1 << 20


class ConnectionLost(UpstreamError):
    """The upstream closed the connection before the reply was complete."""


class UpstreamConnection(asyncio.Protocol):
    """Carries one request at a time; reusable after a complete keep-alive reply."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.reused = False  # has served a request before this one
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.complete = False
        self.keep_alive = False
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._high_water = HIGH_WATER  # the reply too large past this, once it is read whole
        self._whole = False
        self._paused = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._headers_done = False
        self._received_any = False
        self._last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received_any = True
        self._last_activity = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"upstream sent an invalid HTTP reply: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete:
            self._fail(ConnectionLost("upstream closed the connection mid-reply"))

    def eof_received(self) -> bool | None:
        # A reply delimited by connection close (no length, not chunked) ends
        # here; httptools has no way to be told so, hence the check of our own.
        if self._headers_done and not self.complete and self._close_delimited():
            self.on_message_complete()
            self.keep_alive = False
        return None

    # --- httptools callbacks ------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self._headers_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > self._high_water and not self._paused and self._transport is not None:
            if self._whole:
                self._refuse_whole()
                return
            self._paused = True
            self._transport.pause_reading()
        if not self._whole:  # a whole read wakes once, on completion
            self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self._parser.should_keep_alive()
        self._cancel_timer()
        self._wake()

    # --- the reader's side --------------------------------------------------

    def send_request(self, head: bytes, body: bytes) -> None:
        assert self._transport is not None
        self._reset()
        self._last_activity = self._loop.time()
        self._timer = self._loop.call_later(self._read_timeout, self._check_timeout)
        # One write for small requests (one syscall); large bodies are not
        # copied just to glue the head on.
        if len(body) < 65536:
            self._transport.write(head + body)
        else:
            self._transport.write(head)
            self._transport.write(body)

    @property
    def received_any(self) -> bool:
        return self._received_any

    async def wait_headers(self) -> None:
        while not self._headers_done:
            await self._wait()

    async def next_chunk(self) -> bytes | None:
        """The next body chunk, or None once the reply is complete."""
        while not self._chunks:
            if self.complete:
                return None
            await self._wait()
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._paused and self._buffered < HIGH_WATER // 2 and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return chunk

    async def read_body(self, limit: int) -> bytes:
        """The whole body, up to `limit` bytes; raises UpstreamReplyTooLarge beyond it
        (from content-length before reading, else as soon as the bytes exceed it)."""
        # Reading stops at HIGH_WATER for a slow streaming client; a whole read
        # must drain instead, or a reply over HIGH_WATER waits for read_timeout.
        self._whole = True
        self._high_water = limit
        if self._buffered > limit or (not self.complete and _declared_over(self.headers, limit)):
            raise self._refuse_whole()
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        while not self.complete:
            await self._wait()
        chunks = self._chunks
        self._chunks = deque()
        self._buffered = 0
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)

    def close(self) -> None:
        self.closed = True
        self._cancel_timer()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection now: an upstream like vLLM then cancels the request."""
        self.closed = True
        self._cancel_timer()
        self._fail(ConnectionLost("request aborted"))
        if self._transport is not None:
            self._transport.abort()

    # --- internals ----------------------------------------------------------

    def _close_delimited(self) -> bool:
        return find_header(self.headers, b"content-length") is None and find_header(
            self.headers, b"transfer-encoding") is None

    def _refuse_whole(self) -> BaseException:
        self._chunks.clear()
        self._buffered = 0
        if not isinstance(self._error, UpstreamReplyTooLarge):  # once: the parser may still be in this read's data
            self._error = None
            self._fail(UpstreamReplyTooLarge(f"the upstream reply is larger than {self._high_water} bytes "
                                             "(server.max_reply_bytes)"))
            self.abort()  # the rest is not wanted: drop the request upstream too
        assert self._error is not None
        return self._error

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        waiter = self._loop.create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None
        if self._error is not None and not self._chunks and not self.complete:
            raise self._error

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc
        self._wake()

    def _check_timeout(self) -> None:
        # One timer per request, re-armed lazily: data_received only stamps a
        # float, which is far cheaper than rescheduling on every chunk.
        idle = self._loop.time() - self._last_activity
        if idle >= self._read_timeout:
            self._timer = None
            self._fail(UpstreamTimeout(f"upstream sent nothing for {self._read_timeout:g} s"))
            self.close()
        else:
            self._timer = self._loop.call_later(self._read_timeout - idle, self._check_timeout)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _declared_over(headers: list[tuple[bytes, bytes]], limit: int) -> bool:
    """The reply's content-length says it is over `limit` (checked before reading it)."""
    value = find_header(headers, b"content-length")
    try:
        return value is not None and int(value) > limit
    except ValueError:
        return False
