"""The gateway's own HTTP/1.1 client: pooling, stale connections, framing, timeouts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gateway.errors import UpstreamTimeout, UpstreamUnavailable
from gateway.upstream import Origin, UpstreamClient, build_head
from tests import support
from tests.support import PeerRequest, ScriptedUpstream

BODY = b'{"model": "m", "messages": []}'


@asynccontextmanager
async def serving(behaviour: support.Behaviour, **client_options: float) -> AsyncIterator[tuple[UpstreamClient, Origin, bytes, bytes]]:
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
