"""RedisStore against a real redis-server: the Store semantics, and dataflow
sessions shared by two gateways that only have Redis in common."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from gateway.config import ConfigError, parse_config
from gateway.store import StoreError
from gateway.store.redis import RedisStore
from tests import support
from tests.support import BackgroundLoop, free_socket

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest_asyncio.fixture(loop_scope="function")  # its connections belong to the test's own loop
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    redis = RedisStore(redis_url)
    await redis._redis.flushdb()
    yield redis
    await redis.close()


async def test_values_with_expiry_and_set_if_new(store: RedisStore) -> None:
    assert await store.set("k", b"v", ttl_s=0.2)
    assert not await store.set("k", b"other", only_new=True)
    assert await store.get("k") == b"v"
    await asyncio.sleep(0.3)
    assert await store.get("k") is None
    assert await store.set("k", b"again", only_new=True)


async def test_set_many_delete_and_expire(store: RedisStore) -> None:
    await store.set_many({"a": b"1", "b": b"2"}, ttl_s=60)
    assert [await store.get("a"), await store.get("b")] == [b"1", b"2"]
    assert await store.delete("a", "b", "missing") == 2
    assert not await store.expire("missing", 1)


async def test_counters_get_their_ttl_when_created_only(store: RedisStore) -> None:
    assert await store.incr("c", 2, ttl_s=0.3) == 2
    await asyncio.sleep(0.2)
    assert await store.incr("c", 3, ttl_s=10) == 5  # the second TTL does not extend the first
    await asyncio.sleep(0.2)
    assert await store.get("c") is None


async def test_streams_read_after_a_cursor(store: RedisStore) -> None:
    first = await store.append("s", b"one", ttl_s=60)
    await store.append("s", b"two")
    items = await store.read("s")
    assert [item for _, item in items] == [b"one", b"two"] and items[0][0] == first
    assert await store.read("s", first) == [items[1]]
    assert await store.read("missing") == []


async def test_a_blocking_read_wakes_on_append_and_times_out_empty(store: RedisStore) -> None:
    reader = asyncio.create_task(store.read("live", wait_s=5))
    await asyncio.sleep(0.05)
    await store.append("live", b"hello")
    assert [item for _, item in await asyncio.wait_for(reader, 2)] == [b"hello"]
    started = time.monotonic()
    assert await store.read("quiet", wait_s=0.2) == []
    assert time.monotonic() - started >= 0.15


async def test_an_unreachable_redis_is_a_store_error() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    store = RedisStore(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(StoreError, match="not reachable"):
        await store.check()
    await store.close()


def test_the_redis_backend_needs_a_url() -> None:
    with pytest.raises(ConfigError, match="needs `url` or `url_env`"):
        parse_config({"models": [{"name": "m", "upstreams": ["http://127.0.0.1:9/v1"]}], "store": {"backend": "redis"}})


def test_two_gateways_share_dataflow_sessions_through_redis(bg: BackgroundLoop, redis_url: str) -> None:
    """Created on one replica, fetched (and so started) on the other: Redis is all they share."""
    config = {
        "server": {"health_interval_s": 60},
        "models": [{"name": "sim", "engine": "sim", "sim": {"profile": "instant"}}],
        "store": {"backend": "redis", "url": redis_url},
    }
    first = bg.run(support.start_gateway(config))
    second = bg.run(support.start_gateway(config))
    try:
        with httpx.Client(base_url=first.url + "/dataflow/v1", timeout=10) as a, \
                httpx.Client(base_url=second.url + "/dataflow/v1", timeout=10) as b:
            graph = {"variables": [{"id": "q", "value": "hello"}], "calls": [
                {"model": "sim", "template": "{{q}} {{a}}", "inputs": {"q": "q"}, "outputs": {"a": {"id": "a"}}}]}
            sid = a.post("/sessions", json={"graph": graph}).json()["id"]
            answer = b.get(f"/sessions/{sid}/variables/a", params={"timeout": 5})
            assert answer.status_code == 200 and answer.json()["status"] == "ready" and answer.json()["value"]
            assert b.get(f"/sessions/{sid}/variables/q").json()["value"] == "hello"
            intruder = b.get(f"/sessions/{sid}/variables/a", headers={"authorization": "Bearer someone-else"})
            assert intruder.status_code == 404
    finally:
        bg.run(support.stop_gateway(first))
        bg.run(support.stop_gateway(second))
