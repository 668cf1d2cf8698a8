"""The store on Redis: what gateway replicas behind one load balancer share.

Each operation is one Redis command (or one pipeline): values are strings
with PX/NX, counters INCRBY, streams are Redis streams read with XREAD
BLOCK, so a reader waiting for the next item costs nothing until it comes.
Stream cursors are Redis stream ids.
"""

from __future__ import annotations

from collections.abc import Mapping

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from gateway.store.base import Store, StoreError

_FIELD = b"v"  # the one field of a stream entry


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisStore(Store):
    shared = True

    def __init__(self, url: str, *, max_connections: int = 256) -> None:
        # A blocking stream read holds a connection while it waits: past
        # max_connections, callers queue for one instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=None)
        self._redis = aioredis.Redis(connection_pool=pool)

    async def check(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise StoreError(f"redis is not reachable: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        try:
            return await self._redis.get(key)
        except RedisError as exc:
            raise StoreError(f"redis GET failed: {exc}") from exc

    async def set(self, key: str, value: bytes, *, ttl_s: float | None = None, only_new: bool = False) -> bool:
        try:
            done = await self._redis.set(key, value, px=_ms(ttl_s) if ttl_s is not None else None, nx=only_new)
        except RedisError as exc:
            raise StoreError(f"redis SET failed: {exc}") from exc
        return bool(done)

    async def set_many(self, items: Mapping[str, bytes], *, ttl_s: float | None = None) -> None:
        if not items:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(key, value, px=_ms(ttl_s) if ttl_s is not None else None)
                await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis SET (pipeline) failed: {exc}") from exc

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        try:
            return int(await self._redis.delete(*keys))
        except RedisError as exc:
            raise StoreError(f"redis DEL failed: {exc}") from exc

    async def expire(self, key: str, ttl_s: float) -> bool:
        try:
            return bool(await self._redis.pexpire(key, _ms(ttl_s)))
        except RedisError as exc:
            raise StoreError(f"redis PEXPIRE failed: {exc}") from exc

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, amount)
                if ttl_s is not None:
                    pipe.pexpire(key, _ms(ttl_s), nx=True)  # only when the counter is new (no TTL yet)
                value, *_ = await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis INCRBY failed: {exc}") from exc
        return int(value)

    async def append(self, stream: str, item: bytes, *, ttl_s: float | None = None) -> str:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(stream, {_FIELD: item})
                if ttl_s is not None:
                    pipe.pexpire(stream, _ms(ttl_s))
                cursor, *_ = await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis XADD failed: {exc}") from exc
        return cursor.decode() if isinstance(cursor, bytes) else str(cursor)

    async def read(self, stream: str, after: str | None = None, *, wait_s: float = 0.0) -> list[tuple[str, bytes]]:
        try:
            found = await self._redis.xread({stream: after or "0-0"}, block=_ms(wait_s) if wait_s > 0 else None)
        except RedisError as exc:
            raise StoreError(f"redis XREAD failed: {exc}") from exc
        if not found:
            return []
        _, entries = found[0]
        return [(cursor.decode() if isinstance(cursor, bytes) else str(cursor), fields[_FIELD])
                for cursor, fields in entries]

    async def close(self) -> None:
        await self._redis.aclose()
