"""The gateway's own HTTP/1.1 client: pooling, stale connections, framing, timeouts."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from gateway.errors import UpstreamTimeout, UpstreamUnavailable
from gateway.upstream import Origin, UpstreamClient, build_head
from tests import support
from tests.support import PeerRequest, ScriptedUpstream

BODY = b'{"model": "m", "messages": []}'


def head_for(peer: ScriptedUpstream, model: str = "m") -> tuple[Origin, bytes, bytes]:
    origin, prefix = Origin.of(peer.base_url)
    body = b'{"model": "%s"}' % model.encode()
    return origin, build_head(b"POST", prefix.encode() + b"/chat/completions", origin, [], len(body)), body


async def test_connections_are_kept_alive_and_reused() -> None:
    connections: set[int] = set()

    async def answer(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        connections.add(id(writer))
        await support._respond(writer, 200, b'{"ok": true}')

    peer = await ScriptedUpstream(behaviours={"m": answer}).start()
    client = UpstreamClient()
    try:
        origin, head, body = head_for(peer)
        for _ in range(5):
            reply = await client.request(origin, head, body)
            assert reply.status == 200 and await reply.read() == b'{"ok": true}'
        assert len(connections) == 1
    finally:
        client.close()
        await peer.stop()


async def test_a_stale_keep_alive_connection_is_retried_once_on_a_fresh_one() -> None:
    served: Counter[int] = Counter()

    async def once_per_connection(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        # Like a server whose idle timeout fired just as the request arrived.
        served[id(writer)] += 1
        if served[id(writer)] > 1:
            writer.close()
            return
        await support._respond(writer, 200, b"{}")

    peer = await ScriptedUpstream(behaviours={"m": once_per_connection}).start()
    client = UpstreamClient()
    try:
        origin, head, body = head_for(peer)
        for _ in range(3):
            reply = await client.request(origin, head, body)
            assert reply.status == 200
            await reply.read()
        assert len(served) == 3  # every retry landed on a new connection
    finally:
        client.close()
        await peer.stop()


async def test_chunked_replies_stream_chunk_by_chunk() -> None:
    peer = await ScriptedUpstream(behaviours={"m": support.slow_stream}).start()
    client = UpstreamClient()
    try:
        origin, head, body = head_for(peer)
        reply = await client.request(origin, head, body)
        chunks = []
        async for chunk in reply.iter_chunks():
            chunks.append(chunk)
            if len(chunks) == 3:
                reply.abort()
                break
        assert all(c.startswith(b"data: ") for c in chunks)
    finally:
        client.close()
        await peer.stop()


async def test_refused_connection_is_unavailable() -> None:
    client = UpstreamClient()
    origin, _ = Origin.of("http://127.0.0.1:1/v1")
    with pytest.raises(UpstreamUnavailable):
        await client.request(origin, build_head(b"POST", b"/v1/x", origin, [], 2), b"{}")


async def test_read_timeout() -> None:
    peer = await ScriptedUpstream(behaviours={"m": support.stall}).start()
    client = UpstreamClient(read_timeout=0.2)
    try:
        origin, head, body = head_for(peer)
        with pytest.raises(UpstreamTimeout):
            await client.request(origin, head, body)
    finally:
        client.close()
        await peer.stop()


async def test_pool_limit_queues_requests_instead_of_failing() -> None:
    active = 0
    peak = 0

    async def slow(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        await support._respond(writer, 200, b"{}")

    peer = await ScriptedUpstream(behaviours={"m": slow}).start()
    client = UpstreamClient(limit_per_origin=2)
    try:
        origin, head, body = head_for(peer)

        async def one() -> int:
            reply = await client.request(origin, head, body)
            await reply.read()
            return reply.status

        assert await asyncio.gather(*(one() for _ in range(8))) == [200] * 8
        assert peak <= 2
    finally:
        client.close()
        await peer.stop()
