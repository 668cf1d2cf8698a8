"""Meters and hashes, the store operations behind limits, budgets and usage:
the same specification for the in-memory store and a real redis-server."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from gateway.store import MemoryStore, Meter, Store
from gateway.store.redis import RedisStore


@pytest_asyncio.fixture(params=["memory", "redis"], loop_scope="function")
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis = RedisStore(request.getfixturevalue("redis_url"))
    await redis._redis.flushdb()
    yield redis
    await redis.close()


def per_minute(key: str, limit: int) -> Meter:
    return Meter(key, limit, limit / 60, 61)


async def test_a_rate_meter_admits_up_to_its_capacity_then_says_how_long_to_wait(store: Store) -> None:
    rpm = per_minute("{t}:rpm", 3)
    assert [await store.take([(rpm, 1)]) for _ in range(3)] == [None, None, None]
    refused = await store.take([(rpm, 1)])
    assert refused is not None and refused[0] == 0
    assert 19 < refused[1] <= 20.1  # one request drains in 60/3 s


async def test_a_meter_drains_at_its_rate(store: Store) -> None:
    fast = Meter("{t}:fast", 2, 20.0, 5)  # 20 per second
    assert await store.take([(fast, 2)]) is None
    assert await store.take([(fast, 1)]) is not None
    await asyncio.sleep(0.1)
    assert await store.take([(fast, 1)]) is None


async def test_take_is_all_or_nothing(store: Store) -> None:
    roomy, full = per_minute("{t}:roomy", 10), per_minute("{t}:full", 1)
    assert await store.take([(full, 1)]) is None
    refused = await store.take([(roomy, 1), (full, 1)])
    assert refused is not None and refused[0] == 1
    assert (await store.used([roomy]))[0] == pytest.approx(0, abs=0.01)  # the roomy meter took nothing


async def test_a_zero_amount_only_checks_that_room_is_left(store: Store) -> None:
    tpm = per_minute("{t}:tpm", 100)
    assert await store.take([(tpm, 0)]) is None
    assert (await store.used([tpm]))[0] == pytest.approx(0, abs=0.01)
    await store.charge([(tpm, 150)])  # usage known afterwards may overshoot
    refused = await store.take([(tpm, 0)])
    assert refused is not None and 29 < refused[1] < 31  # 50 tokens over, at 100/60 per second


async def test_a_budget_never_drains_and_waiting_is_infinite(store: Store) -> None:
    budget = Meter("{t}:budget:day:2026-11-28", 1.0, 0.0, 60)
    await store.charge([(budget, 0.4), (budget, 0.7)])
    assert (await store.used([budget]))[0] == pytest.approx(1.1)
    refused = await store.take([(budget, 0)])
    assert refused is not None and math.isinf(refused[1])
    raised = Meter(budget.key, 5.0, 0.0, 60)  # a raised budget applies at once: used is kept, not what is left
    assert await store.take([(raised, 0)]) is None


async def test_concurrent_takes_never_exceed_the_capacity(store: Store) -> None:
    rpm = per_minute("{t}:race", 10)
    results = await asyncio.gather(*(store.take([(rpm, 1)]) for _ in range(50)))
    assert sum(result is None for result in results) == 10


async def test_meters_expire_after_their_ttl(store: Store) -> None:
    short = Meter("{t}:short", 1, 0.0, 0.2)
    await store.charge([(short, 1)])
    await asyncio.sleep(0.35)
    assert (await store.used([short]))[0] == 0


async def test_hash_counters_and_fields(store: Store) -> None:
    await store.add_counts("usage", {"requests": 1, "tokens": 10}, ttl_s=60)
    await store.add_counts("usage", {"requests": 1, "tokens": 5})
    assert await store.hash_get("usage") == {"requests": b"2", "tokens": b"15"}
    await store.hash_set("index", "a", b"one")
    await store.hash_set("index", "b", b"two")
    assert await store.hash_delete("index", "a") and not await store.hash_delete("index", "a")
    assert await store.hash_get("index") == {"b": b"two"}
    assert await store.hash_get("missing") == {}


async def test_two_redis_clients_share_one_limit(redis_url: str) -> None:
    """What two gateway replicas do: separate connections, one meter."""
    first, second = RedisStore(redis_url), RedisStore(redis_url)
    await first._redis.flushdb()
    rpm = per_minute("{t}:shared", 7)
    try:
        results = await asyncio.gather(*(client.take([(rpm, 1)]) for client in (first, second) for _ in range(10)))
        assert sum(result is None for result in results) == 7
    finally:
        await first.close()
        await second.close()
