"""The store interface: keys with expiry, counters, and append-only streams.

The operations are the ones Redis answers in one round trip each (GET, SET
with EX/NX, DEL, EXPIRE, INCRBY, MSET in a pipeline, XADD, XREAD BLOCK), so a
Redis backend is a thin translation and never needs a lock or a script.
Values are bytes: callers serialise once (orjson) and the store never parses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping


class StoreError(Exception):
    """The backing store failed (connection lost, out of memory)."""


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

    async def check(self) -> None:  # noqa: B027 - optional: an in-process store is always there
        """Raise StoreError if the store cannot be reached (called at start)."""

    async def close(self) -> None:  # noqa: B027 - optional: most backends hold nothing
        """Release connections; the default has none."""
