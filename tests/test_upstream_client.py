"""The gateway's own HTTP/1.1 client: pooling, stale connections, framing, timeouts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gateway.errors import UpstreamReplyTooLarge, UpstreamTimeout, UpstreamUnavailable
from gateway.upstream import Origin, UpstreamClient, build_head
from tests import support
from tests.support import PeerRequest, ScriptedUpstream

BODY = b'{"model": "m", "messages": []}'


@asynccontextmanager
async def serving(behaviour: support.Behaviour, **client_options: float | int) -> AsyncIterator[tuple[UpstreamClient, Origin, bytes, bytes]]:
    """A scripted upstream answering model "m", and a client aimed at it."""
    peer = await ScriptedUpstream(behaviours={"m": behaviour}).start()
    client = UpstreamClient(**client_options)  # type: ignore[arg-type]
    try:
        yield (client, *head_for(peer))
    finally:
        client.close()
        await peer.stop()


def head_for(peer: ScriptedUpstream, model: str = "m") -> tuple[Origin, bytes, bytes]:
    origin, prefix = Origin.of(peer.base_url)
    body = b'{"model": "%s"}' % model.encode()
    return origin, build_head(b"POST", prefix.encode() + b"/chat/completions", origin, [], len(body)), body


async def test_connections_are_kept_alive_and_reused() -> None:
    connections: set[int] = set()

    async def answer(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        connections.add(id(writer))
        await support.respond(writer, 200, b'{"ok": true}')

    async with serving(answer) as (client, origin, head, body):
        for _ in range(5):
            reply = await client.request(origin, head, body)
            assert reply.status == 200 and await reply.read() == b'{"ok": true}'
        assert len(connections) == 1


async def test_a_stale_keep_alive_connection_is_retried_once_on_a_fresh_one() -> None:
    served: Counter[int] = Counter()

    async def once_per_connection(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        # Like a server whose idle timeout fired just as the request arrived.
        served[id(writer)] += 1
        if served[id(writer)] > 1:
            writer.close()
            return
        await support.respond(writer, 200, b"{}")

    async with serving(once_per_connection) as (client, origin, head, body):
        for _ in range(3):
            reply = await client.request(origin, head, body)
            assert reply.status == 200
            await reply.read()
        assert len(served) == 3  # every retry landed on a new connection


async def test_chunked_replies_stream_chunk_by_chunk() -> None:
    async with serving(support.slow_stream) as (client, origin, head, body):
        reply = await client.request(origin, head, body)
        chunks = []
        async for chunk in reply.iter_chunks():
            chunks.append(chunk)
            if len(chunks) == 3:
                reply.abort()
                break
        assert all(c.startswith(b"data: ") for c in chunks)


async def test_refused_connection_is_unavailable() -> None:
    client = UpstreamClient()
    origin, _ = Origin.of("http://127.0.0.1:1/v1")
    with pytest.raises(UpstreamUnavailable):
        await client.request(origin, build_head(b"POST", b"/v1/x", origin, [], 2), b"{}")


async def test_read_timeout() -> None:
    async with serving(support.stall, read_timeout=0.2) as (client, origin, head, body):
        with pytest.raises(UpstreamTimeout):
            await client.request(origin, head, body)


async def test_pool_limit_queues_requests_instead_of_failing() -> None:
    active = 0
    peak = 0

    async def slow(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        await support.respond(writer, 200, b"{}")

    async with serving(slow, limit_per_origin=2) as (client, origin, head, body):

        async def one() -> int:
            reply = await client.request(origin, head, body)
            await reply.read()
            return reply.status

        assert await asyncio.gather(*(one() for _ in range(8))) == [200] * 8
        assert peak <= 2


BIG = b'{"data": "' + b"x" * (3 << 20) + b'"}'  # three times the streaming read-ahead


async def big_reply(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    await support.respond(writer, 200, BIG)


async def big_chunked_reply(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
    for start in range(0, len(BIG), 65536):
        writer.write(b"%x\r\n%s\r\n" % (len(BIG[start:start + 65536]), BIG[start:start + 65536]))
        await writer.drain()
    writer.write(b"0\r\n\r\n")


async def test_a_whole_reply_larger_than_the_read_ahead_is_read_whole() -> None:
    # Before: reading paused at 1 MiB for a consumer that never drained it, until the read timeout.
    async with serving(big_reply, read_timeout=1.0) as (client, origin, head, body):
        for _ in range(2):  # and the connection is clean for the next request
            reply = await client.request(origin, head, body)
            await asyncio.sleep(0.1)  # the read-ahead fills (and pauses) before the body is asked for
            assert await reply.read() == BIG


@pytest.mark.parametrize("behaviour", [big_reply, big_chunked_reply])
async def test_a_reply_over_max_reply_bytes_is_refused_and_its_connection_dropped(behaviour: support.Behaviour) -> None:
    async with serving(behaviour, read_timeout=1.0, max_reply_bytes=1 << 20) as (client, origin, head, body):
        reply = await client.request(origin, head, body)
        with pytest.raises(UpstreamReplyTooLarge, match="max_reply_bytes"):
            await reply.read()
        # The next request gets a fresh connection (and the same answer).
        reply = await client.request(origin, head, body)
        with pytest.raises(UpstreamReplyTooLarge):
            await reply.read()


async def test_a_reply_ended_by_closing_the_connection_is_complete() -> None:
    async def close_delimited(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"ok\": true}")
        await writer.drain()
        writer.close()

    async with serving(close_delimited, read_timeout=1.0) as (client, origin, head, body):
        reply = await client.request(origin, head, body)
        assert await reply.read() == b'{"ok": true}'
