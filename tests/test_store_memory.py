"""MemoryStore: keys with expiry, counters and streams, with the semantics of
the Redis commands they stand for (gateway/store/base.py). Expiry runs on a
fake clock; only the blocking reads wait (briefly) on the real event loop."""

from __future__ import annotations

import asyncio

import pytest

from gateway.store.memory import MemoryStore
from tests.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


# ---- values ----------------------------------------------------------------------


async def test_get_of_a_missing_key_is_none(store: MemoryStore) -> None:
    assert await store.get("nope") is None


async def test_set_then_get_returns_the_bytes(store: MemoryStore) -> None:
    assert await store.set("k", b"v") is True
    assert await store.get("k") == b"v"


async def test_set_overwrites(store: MemoryStore) -> None:
    await store.set("k", b"one")
    await store.set("k", b"two")
    assert await store.get("k") == b"two"


async def test_a_key_lives_until_its_ttl_runs_out(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v", ttl_s=10)
    clock.advance(9.9)
    assert await store.get("k") == b"v"
    clock.advance(0.1)
    assert await store.get("k") is None


async def test_a_key_without_ttl_never_expires(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v")
    clock.advance(10**9)
    assert await store.get("k") == b"v"


async def test_set_without_ttl_clears_the_previous_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v", ttl_s=5)
    await store.set("k", b"w")
    clock.advance(100)
    assert await store.get("k") == b"w"


async def test_set_with_a_new_ttl_replaces_the_old_one(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v", ttl_s=5)
    clock.advance(4)
    await store.set("k", b"w", ttl_s=5)
    clock.advance(4)
    assert await store.get("k") == b"w"


async def test_only_new_does_not_overwrite_an_existing_key(store: MemoryStore) -> None:
    await store.set("k", b"first")
    assert await store.set("k", b"second", only_new=True) is False
    assert await store.get("k") == b"first"


async def test_only_new_writes_a_missing_key(store: MemoryStore) -> None:
    assert await store.set("k", b"v", only_new=True, ttl_s=5) is True
    assert await store.get("k") == b"v"


async def test_only_new_writes_over_an_expired_key(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"old", ttl_s=5)
    clock.advance(5)
    assert await store.set("k", b"new", only_new=True) is True
    clock.advance(100)
    assert await store.get("k") == b"new"  # the old ttl went with the old value


async def test_set_many_stores_every_item_with_the_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.set_many({"a": b"1", "b": b"2"}, ttl_s=10)
    assert [await store.get("a"), await store.get("b")] == [b"1", b"2"]
    clock.advance(10)
    assert [await store.get("a"), await store.get("b")] == [None, None]


async def test_set_many_without_ttl_keeps_items(store: MemoryStore, clock: FakeClock) -> None:
    await store.set_many({"a": b"1"})
    clock.advance(10**6)
    assert await store.get("a") == b"1"


# ---- delete and expire ----------------------------------------------------------------


async def test_delete_counts_only_the_keys_that_existed(store: MemoryStore) -> None:
    await store.set("a", b"1")
    await store.set("b", b"2")
    assert await store.delete("a", "b", "missing") == 2
    assert [await store.get("a"), await store.get("b")] == [None, None]


async def test_delete_counts_a_key_named_twice_once(store: MemoryStore) -> None:
    await store.set("a", b"1")
    assert await store.delete("a", "a") == 1


async def test_delete_does_not_count_an_expired_key(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("a", b"1", ttl_s=1)
    clock.advance(1)
    assert await store.delete("a") == 0


async def test_delete_counts_and_removes_a_stream(store: MemoryStore) -> None:
    await store.append("s", b"x")
    assert await store.delete("s") == 1
    assert await store.read("s") == []


async def test_expire_on_a_missing_key_is_false(store: MemoryStore) -> None:
    assert await store.expire("nope", 10) is False
    assert await store.get("nope") is None


async def test_expire_on_an_expired_key_is_false(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v", ttl_s=1)
    clock.advance(2)
    assert await store.expire("k", 10) is False


async def test_expire_gives_a_key_a_new_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v")
    assert await store.expire("k", 10) is True
    clock.advance(9)
    assert await store.get("k") == b"v"
    clock.advance(1)
    assert await store.get("k") is None


async def test_expire_can_extend_a_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("k", b"v", ttl_s=5)
    clock.advance(4)
    await store.expire("k", 5)
    clock.advance(4)
    assert await store.get("k") == b"v"


async def test_expire_applies_to_streams(store: MemoryStore, clock: FakeClock) -> None:
    await store.append("s", b"x")
    assert await store.expire("s", 3) is True
    clock.advance(3)
    assert await store.read("s") == []


# ---- counters ----------------------------------------------------------------------


async def test_incr_creates_a_missing_counter_from_zero(store: MemoryStore) -> None:
    assert await store.incr("n") == 1
    assert await store.incr("n", 5) == 6
    assert await store.incr("n", -2) == 4
    assert await store.get("n") == b"4"


async def test_incr_applies_the_ttl_when_it_creates_the_counter(store: MemoryStore, clock: FakeClock) -> None:
    await store.incr("n", ttl_s=10)
    clock.advance(10)
    assert await store.get("n") is None


async def test_incr_does_not_extend_an_existing_counters_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.incr("n", ttl_s=10)
    clock.advance(6)
    assert await store.incr("n", ttl_s=10) == 2
    clock.advance(4)
    assert await store.get("n") is None


async def test_incr_after_expiry_starts_again_from_zero(store: MemoryStore, clock: FakeClock) -> None:
    await store.incr("n", 7, ttl_s=1)
    clock.advance(1)
    assert await store.incr("n", 2) == 2


async def test_incr_counts_on_a_value_that_was_set(store: MemoryStore) -> None:
    await store.set("n", b"41")
    assert await store.incr("n") == 42


# ---- streams ---------------------------------------------------------------------


async def test_append_returns_increasing_cursors(store: MemoryStore) -> None:
    assert [await store.append("s", item) for item in (b"a", b"b", b"c")] == ["1", "2", "3"]


async def test_read_without_cursor_returns_every_item_with_its_cursor(store: MemoryStore) -> None:
    for item in (b"a", b"b", b"c"):
        await store.append("s", item)
    assert await store.read("s") == [("1", b"a"), ("2", b"b"), ("3", b"c")]


async def test_read_after_a_cursor_returns_only_later_items(store: MemoryStore) -> None:
    for item in (b"a", b"b", b"c"):
        await store.append("s", item)
    assert await store.read("s", "1") == [("2", b"b"), ("3", b"c")]
    assert await store.read("s", "3") == []


async def test_reading_a_missing_stream_without_waiting_is_empty(store: MemoryStore) -> None:
    assert await store.read("nope") == []


async def test_streams_are_separate(store: MemoryStore) -> None:
    await store.append("s1", b"a")
    await store.append("s2", b"b")
    assert await store.read("s1") == [("1", b"a")]
    assert await store.read("s2") == [("1", b"b")]


async def test_a_stream_expires_with_its_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.append("s", b"a", ttl_s=10)
    clock.advance(10)
    assert await store.read("s") == []


async def test_each_append_with_a_ttl_renews_the_stream(store: MemoryStore, clock: FakeClock) -> None:
    await store.append("s", b"a", ttl_s=10)
    clock.advance(8)
    await store.append("s", b"b", ttl_s=10)
    clock.advance(8)
    assert await store.read("s") == [("1", b"a"), ("2", b"b")]


async def test_appending_to_an_expired_stream_starts_a_new_one(store: MemoryStore, clock: FakeClock) -> None:
    await store.append("s", b"old", ttl_s=1)
    clock.advance(1)
    assert await store.append("s", b"new") == "1"
    assert await store.read("s") == [("1", b"new")]


# ---- blocking reads ------------------------------------------------------------------


async def test_a_waiting_read_wakes_on_append(store: MemoryStore) -> None:
    await store.append("s", b"a")
    reader = asyncio.create_task(store.read("s", "1", wait_s=5))
    await asyncio.sleep(0)
    assert not reader.done()
    await store.append("s", b"b")
    assert await asyncio.wait_for(reader, 1) == [("2", b"b")]


async def test_a_waiting_read_wakes_on_the_first_append_to_a_new_stream(store: MemoryStore) -> None:
    reader = asyncio.create_task(store.read("s", wait_s=5))
    await asyncio.sleep(0)
    await store.append("s", b"first", ttl_s=60)
    assert await asyncio.wait_for(reader, 1) == [("1", b"first")]


async def test_every_waiting_reader_wakes_on_one_append(store: MemoryStore) -> None:
    readers = [asyncio.create_task(store.read("s", wait_s=5)) for _ in range(3)]
    await asyncio.sleep(0)
    await store.append("s", b"x")
    assert await asyncio.wait_for(asyncio.gather(*readers), 1) == [[("1", b"x")]] * 3


async def test_a_read_with_items_available_does_not_wait(store: MemoryStore) -> None:
    await store.append("s", b"a")
    assert await asyncio.wait_for(store.read("s", wait_s=60), 1) == [("1", b"a")]


async def test_a_waiting_read_returns_nothing_when_the_wait_runs_out(store: MemoryStore) -> None:
    await store.append("s", b"a")
    assert await asyncio.wait_for(store.read("s", "1", wait_s=0.05), 1) == []


async def test_a_waiting_read_of_a_missing_stream_returns_nothing_when_the_wait_runs_out(store: MemoryStore) -> None:
    assert await asyncio.wait_for(store.read("nope", wait_s=0.05), 1) == []


async def test_a_waiting_reader_returns_when_the_stream_is_deleted(store: MemoryStore) -> None:
    await store.append("s", b"a")
    reader = asyncio.create_task(store.read("s", "1", wait_s=30))
    await asyncio.sleep(0)
    await store.delete("s")
    assert await asyncio.wait_for(reader, 1) == []


async def test_a_reader_waiting_for_a_new_stream_gets_its_first_item(store: MemoryStore) -> None:
    reader = asyncio.create_task(store.read("s", wait_s=30))
    await asyncio.sleep(0)
    await store.append("s", b"first")
    assert await asyncio.wait_for(reader, 1) == [("1", b"first")]
    assert not store._creation  # nobody waits any more: nothing kept for the stream


async def test_a_stream_appended_without_ttl_never_expires_even_if_a_reader_waited_first(
    store: MemoryStore, clock: FakeClock
) -> None:
    assert await store.read("s", wait_s=0.01) == []
    await store.append("s", b"kept")
    clock.advance(3600)
    assert await store.read("s") == [("1", b"kept")]


async def test_delete_does_not_count_a_stream_only_a_reader_waited_on(store: MemoryStore) -> None:
    assert await store.read("s", wait_s=0.01) == []
    assert await store.delete("s") == 0
