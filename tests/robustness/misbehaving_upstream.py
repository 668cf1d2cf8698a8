"""An HTTP/1.1 upstream that misbehaves on request: one scripted fault per model name.

Raw asyncio streams, not an HTTP framework, so each fault is exactly the bytes
(or silence) a broken engine, proxy or network produces. The request's `model`
names the fault (see `FAULTS`); every mode stops by itself within a few
seconds, or as soon as the gateway hangs up.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from tests.support import LoopbackUpstream

Fault = Callable[["MisbehavingUpstream", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
MiB = 1 << 20
HANG_S = 5.0  # the longest any mode stays silent: longer than the gateway's read timeout in the tests

SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
CHUNKED_JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"


def answer(content: str = "fine") -> bytes:
    return orjson.dumps({
        "id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })


def event(content: str, nl: bytes = b"\n") -> bytes:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return b"data: " + orjson.dumps(chunk) + nl + nl


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def whole(status: int, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return b"HTTP/1.1 %d X\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s" % (
        status, content_type, len(body), body)


# --- the faults ------------------------------------------------------------------------------------


async def ok(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(whole(200, answer()))


async def reset(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A TCP reset instead of an answer."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def hang_before_headers(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
    await _silence(reader)


async def hang_mid_headers(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: appl")
    await _silence(reader)


async def hang_mid_body(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = answer()
    writer.write(whole(200, body)[: -len(body) // 2])
    await _silence(reader)


async def garbage_status(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\xff\xfe garbage \x00\r\n\r\n")


async def garbage_chunk_size(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
    writer.write(CHUNKED_JSON_HEAD + b"zz\r\nnot hex\r\n")
    await _silence(reader)


async def trickle(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A valid answer, 16 bytes every 20 ms: slow, but never silent for a read timeout."""
    data = whole(200, answer("trickled"))
    for start in range(0, len(data), 16):
        writer.write(data[start:start + 16])
        await writer.drain()
        await asyncio.sleep(0.02)


async def die_mid_body(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = answer()
    writer.write(whole(200, body)[: -len(body) // 2])
    await writer.drain()
    writer.close()


async def short_content_length(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
    """content-length says less than is sent: the rest is garbage on the connection."""
    body = answer()
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                 % (len(body) - 10, body))


async def long_content_length(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
    """content-length promises more than ever comes; the connection stays open."""
    body = answer()
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                 % (len(body) + 100, body))
    await _silence(reader)


async def close_delimited(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An HTTP/1.0-style answer: no length, ended by closing the connection (valid, if old)."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n" + answer())
    await writer.drain()
    writer.close()


async def huge_body(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A 1 GiB whole answer, announced by content-length."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % (1 << 30))
    await _send_filler(up, writer, 1 << 30, framing=lambda piece: piece)


async def huge_chunked_body(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    """A 1 GiB whole answer without a length: only counting stops it."""
    writer.write(CHUNKED_JSON_HEAD)
    await _send_filler(up, writer, 1 << 30, framing=chunked)


async def no_separator_stream(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
    """A 1 GiB "event" that never ends."""
    writer.write(SSE_HEAD + chunked(b"data: "))
    await _send_filler(up, writer, 1 << 30, framing=chunked)


async def huge_event_stream(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    """A good event, then one of 64 MiB that does end."""
    writer.write(SSE_HEAD + chunked(event("before")) + chunked(b'data: {"x": "'))
    await _send_filler(up, writer, 64 * MiB, framing=chunked)
    writer.write(chunked(b'"}\n\n' + event("after") + b"data: [DONE]\n\n") + b"0\r\n\r\n")


async def crlf_stream(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD)
    for i, nl in enumerate((b"\r\n", b"\r", b"\n", b"\r\n")):
        writer.write(chunked(event(f"t{i} ", nl)))
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.write(chunked(b"data: [DONE]\r\n\r\n") + b"0\r\n\r\n")


async def die_mid_stream(up: MisbehavingUpstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD + chunked(event("Hel")) + chunked(b'data: {"choices": [{"ind'))
    await writer.drain()
    writer.close()


async def hang_mid_stream(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD + chunked(event("Hel")))
    await _silence(reader)


async def fast_long_stream(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
    """256 MiB of small valid events as fast as the gateway takes them (for a client that reads slowly)."""
    writer.write(SSE_HEAD)
    batch = chunked(event("x" * 200) * 256)
    sent = 0
    while sent < 256 * MiB:
        writer.write(batch)
        sent += len(batch)
        up.sent[up.current] = sent
        await writer.drain()
    writer.write(chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")


async def json_to_stream_request(up: MisbehavingUpstream, reader: asyncio.StreamReader,
                                 writer: asyncio.StreamWriter) -> None:
    """A 1 GiB JSON body to a stream request."""
    await huge_body(up, reader, writer)


FAULTS: dict[str, Fault] = {f.__name__: f for f in (
    ok, reset, hang_before_headers, hang_mid_headers, hang_mid_body, garbage_status, garbage_chunk_size, trickle,
    die_mid_body, short_content_length, long_content_length, close_delimited, huge_body, huge_chunked_body,
    no_separator_stream, huge_event_stream, crlf_stream, die_mid_stream, hang_mid_stream, fast_long_stream,
    json_to_stream_request,
)}


# --- helpers -----------------------------------------------------------------------------------------


async def _silence(reader: asyncio.StreamReader) -> None:
    """Say nothing more until the gateway hangs up (or HANG_S passes)."""
    try:
        await asyncio.wait_for(reader.read(1), HANG_S)
    except asyncio.TimeoutError:
        pass


async def _send_filler(up: MisbehavingUpstream, writer: asyncio.StreamWriter, total: int,
                       framing: Callable[[bytes], bytes]) -> None:
    piece = framing(b"x" * (256 * 1024))
    sent = 0
    while sent < total:
        writer.write(piece)
        sent += len(piece)
        up.sent[up.current] = sent
        await writer.drain()


@dataclass
class MisbehavingUpstream(LoopbackUpstream):
    """Serves `FAULTS` by the request's model; counts what it sent and when the gateway hung up."""

    port: int = 0
    sent: dict[str, int] = field(default_factory=dict)  # bytes of body sent, per fault
    hung_up: dict[str, int] = field(default_factory=dict)  # times the gateway dropped the connection, per fault
    current: str = ""
    _server: asyncio.AbstractServer | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = ""
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                body = await reader.readexactly(length)
                if head.startswith(b"GET "):  # health probes
                    writer.write(whole(200, b"{}"))
                    continue
                fault = self.current = orjson.loads(body)["model"]
                await FAULTS[fault](self, reader, writer)
                await writer.drain()
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        except ConnectionError:
            self.hung_up[fault] = self.hung_up.get(fault, 0) + 1
        finally:
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
