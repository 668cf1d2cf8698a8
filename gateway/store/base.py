"""The store interface: keys with expiry, counters, and append-only streams.

The operations are the ones Redis answers in one round trip each (GET, SET
with EX/NX, DEL, EXPIRE, INCRBY, MSET in a pipeline, XADD, XREAD BLOCK of one
or several streams, HSET/HGETALL/HINCRBY), so a Redis backend is a thin translation. The one
exception is `Meter` arithmetic (rate limits, budgets), which must be
atomic across replicas: Redis runs it as one Lua script.
Values are bytes: callers serialise once (orjson) and the store never parses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class StoreError(Exception):
    """The backing store failed (connection lost, out of memory)."""


@dataclass(frozen=True, slots=True)
class Meter:
    """A limit on how much may be used: `used` drains at `rate` per second.

    With rate = capacity / 60 it is a per-minute rate limit whose burst is
    the whole capacity (a token bucket, counted as what was used rather than
    what is left, so a changed capacity applies at once); with rate 0 it is
    a spend counter for one budget period (the key names the period).
    """

    key: str
    capacity: float
    rate: float
    ttl_s: float  # the key's life after its last use: until it would have drained, or the period ends

    def wait_s(self, used: float, amount: float) -> float:
        """Seconds until `amount` more would fit; inf when it never drains."""
        excess = used + amount - self.capacity if amount > 0 else used - self.capacity
        if self.rate <= 0:
            return float("inf")
        return max(excess, 0.0) / self.rate + 0.001


def admits(meter: Meter, used: float, amount: float) -> bool:
    """A positive amount must fit; a zero amount (a check) needs room left."""
    return used + amount <= meter.capacity if amount > 0 else used < meter.capacity


# (meter, amount) pairs for `Store.take` and `Store.charge`.
Takes = Sequence[tuple[Meter, float]]


class Store(ABC):
    # True when other gateway replicas see the same data (Redis): work that
    # only makes sense across replicas (watching for remote requests) is
    # skipped when it is False.
    shared: bool = False

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value, or None if the key is missing or expired."""

    @abstractmethod
    async def set(self, key: str, value: bytes, *, ttl_s: float | None = None, only_new: bool = False) -> bool:
        """Store the value; with only_new, only if the key is absent. True if written."""

    @abstractmethod
    async def set_many(self, items: Mapping[str, bytes], *, ttl_s: float | None = None) -> None:
        """Store several values at once (one round trip)."""

    @abstractmethod
    async def delete(self, *keys: str) -> int:
        """Remove keys (values or streams); the number that existed."""

    @abstractmethod
    async def expire(self, key: str, ttl_s: float) -> bool:
        """Give an existing key a new time to live; False if it does not exist."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add to an integer counter (missing = 0) and return the new value;
        ttl_s applies when the counter is created."""

    @abstractmethod
    async def append(self, stream: str, item: bytes, *, ttl_s: float | None = None) -> str:
        """Append to a stream; the new item's cursor."""

    @abstractmethod
    async def read(self, stream: str, after: str | None = None, *, wait_s: float = 0.0) -> list[tuple[str, bytes]]:
        """Items after the cursor `after` (all of them for None), as (cursor, item).

        When there are none, wait up to wait_s for one to be appended; an
        empty list means the wait ran out.
        """

    @abstractmethod
    async def read_many(
        self, cursors: Mapping[str, str | None], *, wait_s: float
    ) -> dict[str, list[tuple[str, bytes]]]:
        """Items after each stream's cursor (all of them for None), for several streams at once.

        Only streams with new items are in the answer. When none has any, wait
        up to wait_s until one gets an append (streams that do not exist yet
        included); an empty dict means the wait ran out. One blocking read
        (XREAD BLOCK on every stream), however many streams: a watcher of many
        streams holds one connection, not one per stream.
        """

    @abstractmethod
    async def take(self, takes: Takes) -> tuple[int, float] | None:
        """Add every amount to its meter if all of them admit it, else none.

        None when taken; else (index of the first meter that refused, seconds
        until it would admit). Atomic across replicas.
        """

    @abstractmethod
    async def charge(self, takes: Takes) -> None:
        """Add the amounts whether or not they fit (usage known only afterwards)."""

    @abstractmethod
    async def used(self, meters: Sequence[Meter]) -> list[float]:
        """What each meter has used now (after draining)."""

    @abstractmethod
    async def add_counts(self, key: str, counts: Mapping[str, int], *, ttl_s: float | None = None) -> None:
        """Add to integer fields of a hash (missing = 0); ttl_s refreshes its expiry."""

    @abstractmethod
    async def hash_get(self, key: str) -> dict[str, bytes]:
        """Every field of a hash ({} when missing); counters come back as decimal bytes."""

    @abstractmethod
    async def hash_set(self, key: str, field: str, value: bytes) -> None:
        """Set one field of a hash."""

    @abstractmethod
    async def hash_delete(self, key: str, field: str) -> bool:
        """Remove one field; False if it was not there."""

    async def check(self) -> None:  # noqa: B027 - optional: an in-process store is always there
        """Raise StoreError if the store cannot be reached (called at start)."""

    async def close(self) -> None:  # noqa: B027 - optional: most backends hold nothing
        """Release connections; the default has none."""
