"""The default store: a dict in this process, with lazy expiry.

Expired keys are dropped when touched and by a sweep every `sweep_every`
writes, so memory stays bounded without a timer task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

from gateway.store.base import Meter, Store, Takes, admits


class _Stream:
    __slots__ = ("items", "changed")

    def __init__(self) -> None:
        self.items: list[bytes] = []
        self.changed = asyncio.Event()


class _Awaited:
    """Readers waiting for a stream that does not exist yet."""

    __slots__ = ("created", "readers")

    def __init__(self) -> None:
        self.created = asyncio.Event()
        self.readers = 0


class MemoryStore(Store):
    shared = False

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sweep_every: int = 1024) -> None:
        self._clock = clock
        self._values: dict[str, bytes] = {}
        self._streams: dict[str, _Stream] = {}
        self._creation: dict[str, _Awaited] = {}
        self._watchers: dict[str, set[asyncio.Event]] = {}  # read_many waiting on a stream (existing or not)
        self._hashes: dict[str, dict[str, bytes]] = {}
        self._meters: dict[str, tuple[float, float]] = {}  # key -> (used, when)
        self._expiry: dict[str, float] = {}
        self._sweep_every = sweep_every
        self._writes = 0

    # ---- expiry ------------------------------------------------------------

    def _alive(self, key: str) -> bool:
        deadline = self._expiry.get(key)
        if deadline is not None and deadline <= self._clock():
            self._drop(key)
            return False
        return key in self._values or key in self._streams or key in self._hashes or key in self._meters

    def _drop(self, key: str) -> bool:
        self._expiry.pop(key, None)
        stream = self._streams.pop(key, None)
        if stream is not None:
            stream.changed.set()  # wake readers: the stream is gone
            self._wake(key)
        found = [self._values.pop(key, None), self._hashes.pop(key, None), self._meters.pop(key, None)]
        return stream is not None or any(item is not None for item in found)

    def _touch(self, key: str, ttl_s: float | None) -> None:
        if ttl_s is not None:
            self._expiry[key] = self._clock() + ttl_s
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            now = self._clock()
            for expired in [k for k, deadline in self._expiry.items() if deadline <= now]:
                self._drop(expired)

    # ---- values ------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return self._values.get(key) if self._alive(key) else None

    async def set(self, key: str, value: bytes, *, ttl_s: float | None = None, only_new: bool = False) -> bool:
        if only_new and self._alive(key):
            return False
        self._values[key] = value
        self._expiry.pop(key, None)
        self._touch(key, ttl_s)
        return True

    async def set_many(self, items: Mapping[str, bytes], *, ttl_s: float | None = None) -> None:
        for key, value in items.items():
            await self.set(key, value, ttl_s=ttl_s)

    async def delete(self, *keys: str) -> int:
        return sum(self._drop(key) for key in keys if self._alive(key))

    async def expire(self, key: str, ttl_s: float) -> bool:
        if not self._alive(key):
            return False
        self._expiry[key] = self._clock() + ttl_s
        return True

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        exists = self._alive(key)
        value = (int(self._values[key]) if exists else 0) + amount
        self._values[key] = str(value).encode()
        self._touch(key, None if exists else ttl_s)
        return value

    # ---- streams -----------------------------------------------------------

    async def append(self, stream: str, item: bytes, *, ttl_s: float | None = None) -> str:
        entry = self._streams.get(stream) if self._alive(stream) else None
        if entry is None:
            entry = self._streams[stream] = _Stream()
            waiting = self._creation.get(stream)
            if waiting is not None:
                waiting.created.set()
        entry.items.append(item)
        entry.changed.set()
        entry.changed = asyncio.Event()  # readers hold the old one, now set
        self._wake(stream)
        self._touch(stream, ttl_s)
        return str(len(entry.items))

    async def read(self, stream: str, after: str | None = None, *, wait_s: float = 0.0) -> list[tuple[str, bytes]]:
        start = int(after) if after else 0
        entry = self._streams.get(stream) if self._alive(stream) else None
        if (entry is None or len(entry.items) <= start) and wait_s > 0:
            # Reading ahead of the first append waits for the stream to be created,
            # without creating it (like XREAD BLOCK on a missing key).
            changed = entry.changed if entry is not None else self._await_creation(stream)
            try:
                await asyncio.wait_for(changed.wait(), wait_s)
            except TimeoutError:
                return []
            finally:
                if entry is None:
                    self._stop_awaiting(stream)
            entry = self._streams.get(stream)
        if entry is None:
            return []
        return [(str(index + 1), item) for index, item in enumerate(entry.items[start:], start)]

    async def read_many(
        self, cursors: Mapping[str, str | None], *, wait_s: float
    ) -> dict[str, list[tuple[str, bytes]]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s  # real time: the injected clock is for expiry
        while True:
            found = {stream: items for stream, after in cursors.items() if (items := await self.read(stream, after))}
            left = deadline - loop.time()
            if found or left <= 0:
                return found
            # One event for the whole call, registered on every stream (existing or
            # not): an append to any of them (or a stream dropped) sets it.
            woken = asyncio.Event()
            for stream in cursors:
                self._watchers.setdefault(stream, set()).add(woken)
            try:
                # (not wait_for: on 3.11 it can swallow a cancellation that meets the wake-up)
                async with asyncio.timeout(left):
                    await woken.wait()
            except TimeoutError:
                return {}
            finally:
                for stream in cursors:
                    watching = self._watchers.get(stream)
                    if watching is not None:
                        watching.discard(woken)
                        if not watching:
                            del self._watchers[stream]

    def _wake(self, stream: str) -> None:
        for woken in self._watchers.get(stream, ()):
            woken.set()

    def _await_creation(self, stream: str) -> asyncio.Event:
        waiting = self._creation.get(stream)
        if waiting is None:
            waiting = self._creation[stream] = _Awaited()
        waiting.readers += 1
        return waiting.created

    def _stop_awaiting(self, stream: str) -> None:
        waiting = self._creation.get(stream)
        if waiting is not None:
            waiting.readers -= 1
            if waiting.readers <= 0:
                del self._creation[stream]

    # ---- meters ------------------------------------------------------------

    def _used(self, meter: Meter, now: float) -> float:
        used, when = self._meters.get(meter.key, (0.0, now)) if self._alive(meter.key) else (0.0, now)
        return max(0.0, used - (now - when) * meter.rate)

    async def take(self, takes: Takes) -> tuple[int, float] | None:
        now = self._clock()
        levels = [self._used(meter, now) for meter, _ in takes]
        for index, ((meter, amount), used) in enumerate(zip(takes, levels)):
            if not admits(meter, used, amount):
                return index, meter.wait_s(used, amount)
        self._add(takes, now)
        return None

    async def charge(self, takes: Takes) -> None:
        self._add(takes, self._clock())

    def _add(self, takes: Takes, now: float) -> None:
        for meter, amount in takes:  # one at a time: a meter named twice gets both amounts
            self._meters[meter.key] = (self._used(meter, now) + amount, now)
            self._touch(meter.key, meter.ttl_s)

    async def used(self, meters: Sequence[Meter]) -> list[float]:
        now = self._clock()
        return [self._used(meter, now) for meter in meters]

    # ---- hashes ------------------------------------------------------------

    def _hash(self, key: str) -> dict[str, bytes]:
        self._alive(key)  # drops it if expired
        return self._hashes.setdefault(key, {})

    async def add_counts(self, key: str, counts: Mapping[str, int], *, ttl_s: float | None = None) -> None:
        fields = self._hash(key)
        for name, amount in counts.items():
            fields[name] = b"%d" % (int(fields.get(name, b"0")) + amount)
        self._touch(key, ttl_s)

    async def hash_get(self, key: str) -> dict[str, bytes]:
        return dict(self._hashes.get(key, {})) if self._alive(key) else {}

    async def hash_set(self, key: str, field: str, value: bytes) -> None:
        self._hash(key)[field] = value
        self._touch(key, None)

    async def hash_delete(self, key: str, field: str) -> bool:
        fields = self._hashes.get(key) if self._alive(key) else None
        return fields is not None and fields.pop(field, None) is not None
