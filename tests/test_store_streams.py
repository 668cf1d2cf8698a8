"""Streams, read one at a time and many at once (`read_many`, what a replica's
single inbox reader waits on): the same specification for the in-memory store
and a real redis-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from gateway.store import MemoryStore, Store
from gateway.store.redis import RedisStore


@pytest_asyncio.fixture(params=["memory", "redis"], loop_scope="function")
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis = RedisStore(request.getfixturevalue("redis_url"), max_connections=4)
    await redis._redis.flushdb()
    yield redis
    await redis.close()


def values(items: list[tuple[str, bytes]]) -> list[bytes]:
    return [item for _, item in items]


async def test_read_many_answers_only_the_streams_with_new_items(store: Store) -> None:
    one = await store.append("s:one", b"a")
    await store.append("s:one", b"b")
    await store.append("s:two", b"c")
    found = await store.read_many({"s:one": one, "s:two": None, "s:missing": None}, wait_s=0)
    assert set(found) == {"s:one", "s:two"}
    assert values(found["s:one"]) == [b"b"] and values(found["s:two"]) == [b"c"]
    # the cursors are the ones `read` gives: reading on from them finds nothing more
    cursors = {stream: items[-1][0] for stream, items in found.items()}
    assert await store.read_many(cursors, wait_s=0) == {}
    assert [cursor for cursor, _ in found["s:one"]] == [cursor for cursor, _ in await store.read("s:one", one)]


async def test_read_many_with_items_already_there_does_not_wait(store: Store) -> None:
    await store.append("s:ready", b"x")
    started = time.monotonic()
    found = await store.read_many({"s:idle": None, "s:ready": None}, wait_s=5)
    assert time.monotonic() - started < 1
    assert values(found["s:ready"]) == [b"x"] and "s:idle" not in found


async def test_read_many_wakes_when_any_one_stream_gets_an_append(store: Store) -> None:
    first = await store.append("s:a", b"old")
    second = await store.append("s:b", b"old")
    for target in ("s:b", "s:a", "s:new"):  # existing streams, and one that does not exist yet
        cursors = {"s:a": first, "s:b": second, "s:new": None}
        reading = asyncio.create_task(store.read_many(cursors, wait_s=5))
        await asyncio.sleep(0.1)
        assert not reading.done()
        started = time.monotonic()
        cursor = await store.append(target, b"new")
        found = await asyncio.wait_for(reading, 2)
        assert time.monotonic() - started < 1
        assert found == {target: [(cursor, b"new")]}
        if target == "s:a":
            first = cursor
        elif target == "s:b":
            second = cursor


async def test_read_many_times_out_empty(store: Store) -> None:
    cursor = await store.append("s:quiet", b"seen")
    started = time.monotonic()
    assert await store.read_many({"s:quiet": cursor, "s:nothing": None}, wait_s=0.3) == {}
    assert 0.25 < time.monotonic() - started < 2
    assert await store.read_many({"s:nothing": None}, wait_s=0) == {}
    assert await store.read_many({}, wait_s=0.05) == {}


async def test_read_many_reads_hundreds_of_streams_in_one_call(store: Store) -> None:
    streams = [f"s:many:{i}" for i in range(500)]
    cursors: dict[str, str | None] = {stream: None for stream in streams}
    for stream in streams[::50]:
        cursors[stream] = await store.append(stream, b"before")  # read already
    reading = asyncio.create_task(store.read_many(cursors, wait_s=5))
    await asyncio.sleep(0.1)
    assert not reading.done()
    await store.append(streams[-1], b"last")
    assert values((await asyncio.wait_for(reading, 2))[streams[-1]]) == [b"last"]
    for stream in streams[1::7]:
        await store.append(stream, stream.encode())
    found = await store.read_many(cursors, wait_s=1)
    assert set(found) == set(streams[1::7]) | {streams[-1]}
    assert all(values(found[stream]) == [stream.encode()] for stream in streams[1::7])


async def test_concurrent_read_many_calls_each_get_woken(store: Store) -> None:
    """Many waiting readers of the same streams (a fleet's worth on one store) all see the append."""
    readers = [asyncio.create_task(store.read_many({"s:shared": None, f"s:own:{i}": None}, wait_s=5))
               for i in range(3)]  # within the redis fixture's 4 blocking connections
    await asyncio.sleep(0.1)
    await store.append("s:shared", b"all")
    for found in await asyncio.wait_for(asyncio.gather(*readers), 2):
        assert values(found["s:shared"]) == [b"all"]


async def test_a_waiting_read_many_holds_one_blocking_connection(redis_url: str) -> None:
    """However many streams it waits on: a reader of 300 streams next to others on a 2-connection pool."""
    store = RedisStore(redis_url, max_connections=2)
    try:
        await store._redis.flushdb()
        many = asyncio.create_task(store.read_many({f"s:pool:{i}": None for i in range(300)}, wait_s=5))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        other = asyncio.create_task(store.read("s:pool:other", None, wait_s=5))
        await asyncio.sleep(0.1)
        await store.append("s:pool:other", b"x")
        assert values(await asyncio.wait_for(other, 2)) == [b"x"]
        assert time.monotonic() - started < 1  # the other read got the second connection at once
        await store.append("s:pool:299", b"y")
        assert values((await asyncio.wait_for(many, 2))["s:pool:299"]) == [b"y"]
    finally:
        await store.close()


async def test_a_cancelled_read_many_ends_at_once_even_as_a_stream_goes(store: Store) -> None:
    cursor = await store.append("s:going", b"seen")
    reading = asyncio.create_task(store.read_many({"s:going": cursor, "s:other": None}, wait_s=30))
    await asyncio.sleep(0.1)
    await store.delete("s:going")  # wakes a waiting reader with nothing to answer...
    reading.cancel()  # ...in the same moment as its cancellation
    started = time.monotonic()
    await asyncio.wait_for(asyncio.wait({reading}), 2)
    assert time.monotonic() - started < 1
    assert reading.cancelled() or reading.result() == {}
