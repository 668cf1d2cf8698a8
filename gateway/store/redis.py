"""The store on Redis: what gateway replicas behind one load balancer share.

Each operation is one Redis command (or one pipeline): values are strings
with PX/NX, counters INCRBY, streams are Redis streams read with XREAD
BLOCK, so a reader waiting for the next item costs nothing until it comes.
Stream cursors are Redis stream ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from gateway.store.base import Meter, Store, StoreError, Takes
from gateway.store.resp import PipelinedRedis

_FIELD = b"v"  # the one field of a stream entry

# Meters, atomically: drain each by its rate since its last use (Redis' own
# clock, so replicas with skewed clocks agree), then in "take" mode refuse
# unless every one admits its amount, else add them all. ARGV: mode, then
# capacity, rate, amount, ttl_ms per key. Keys share a {hash tag} per tenant,
# so the script also runs on a Redis Cluster.
_METERS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local mode = ARGV[1]
local function used(key, rate)
  local v = redis.call('HMGET', key, 'u', 't')
  return math.max(0, (tonumber(v[1]) or 0) - (now - (tonumber(v[2]) or now)) * rate)
end
local out = {}
for i, key in ipairs(KEYS) do
  local b = 2 + (i - 1) * 4
  local cap, rate, amount = tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  local u = used(key, rate)
  out[i] = tostring(u)
  if mode == 'take' then
    local fits = (amount > 0 and u + amount <= cap) or (amount <= 0 and u < cap)
    if not fits then return {i, tostring(u)} end
  end
end
if mode == 'peek' then return out end
for i, key in ipairs(KEYS) do
  local b = 2 + (i - 1) * 4
  local u = used(key, tonumber(ARGV[b + 1])) + tonumber(ARGV[b + 2])
  redis.call('HSET', key, 'u', tostring(u), 't', tostring(now))
  redis.call('PEXPIRE', key, ARGV[b + 3])
end
return {0, '0'}
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisStore(Store):
    shared = True

    def __init__(self, url: str, *, max_connections: int = 256, timeout_s: float = 1.0) -> None:
        # Every command but a blocking read gives up after timeout_s (connect,
        # reply, or waiting for a free connection): a Redis that stopped
        # answering costs a request that long, never a hang.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout_s,
            socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        )
        self._redis = aioredis.Redis(connection_pool=pool)
        # Blocking stream reads hold their connection while they wait, so they
        # get a pool of their own: waiting readers never starve the hot path.
        waiting = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=None, socket_connect_timeout=timeout_s,
        )
        self._waiting = aioredis.Redis(connection_pool=waiting)
        self._timeout_s = timeout_s
        # The commands every request may run (meters, key and cache look-ups) take
        # a lean pipelined connection instead of redis-py's (gateway/store/resp.py).
        self._fast = PipelinedRedis(url, timeout_s=timeout_s)

    async def check(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise StoreError(f"redis is not reachable: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        reply = await self._fast.call("GET", key)
        assert reply is None or isinstance(reply, bytes)
        return reply

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
            if wait_s > 0:
                # The socket has no timeout here (the wait may be long): bound it ourselves.
                found = await asyncio.wait_for(
                    self._waiting.xread({stream: after or "0-0"}, block=_ms(wait_s)), wait_s + self._timeout_s + 1,
                )
            else:
                found = await self._redis.xread({stream: after or "0-0"})
        except (RedisError, TimeoutError) as exc:
            raise StoreError(f"redis XREAD failed: {exc!r}") from exc
        if not found:
            return []
        _, entries = found[0]
        return [(cursor.decode() if isinstance(cursor, bytes) else str(cursor), fields[_FIELD])
                for cursor, fields in entries]

    async def read_many(
        self, cursors: Mapping[str, str | None], *, wait_s: float
    ) -> dict[str, list[tuple[str, bytes]]]:
        if not cursors:  # XREAD needs a stream; nothing can arrive
            await asyncio.sleep(max(wait_s, 0.0))
            return {}
        streams = {stream: after or "0-0" for stream, after in cursors.items()}
        try:
            if wait_s > 0:
                # One XREAD BLOCK for every stream: one connection of the blocking pool, however many.
                found = await asyncio.wait_for(
                    self._waiting.xread(streams, block=_ms(wait_s)), wait_s + self._timeout_s + 1,
                )
            else:
                found = await self._redis.xread(streams)
        except (RedisError, TimeoutError) as exc:
            raise StoreError(f"redis XREAD (many streams) failed: {exc!r}") from exc
        if not found:
            return {}
        out: dict[str, list[tuple[str, bytes]]] = {}
        for name, entries in found:  # [stream, entries] pairs, as `read` gets them (RESP2)
            if entries:
                stream = name.decode() if isinstance(name, bytes) else str(name)
                out[stream] = [(cursor.decode() if isinstance(cursor, bytes) else str(cursor), fields[_FIELD])
                               for cursor, fields in entries]
        return out

    async def _run_meters(self, mode: str, takes: Takes) -> list[bytes | int]:
        args: list[str | float | int] = [mode]
        for meter, amount in takes:
            args += [repr(meter.capacity), repr(meter.rate), repr(amount), _ms(meter.ttl_s)]
        reply = await self._fast.script(_METERS, [meter.key for meter, _ in takes], args)
        assert isinstance(reply, list)
        return reply

    async def take(self, takes: Takes) -> tuple[int, float] | None:
        if not takes:
            return None
        index, used = await self._run_meters("take", takes)
        if not index:
            return None
        meter, amount = takes[int(index) - 1]
        return int(index) - 1, meter.wait_s(float(used), amount)

    async def charge(self, takes: Takes) -> None:
        if takes:
            await self._run_meters("charge", takes)

    async def used(self, meters: Sequence[Meter]) -> list[float]:
        if not meters:
            return []
        return [float(value) for value in await self._run_meters("peek", [(meter, 0.0) for meter in meters])]

    async def add_counts(self, key: str, counts: Mapping[str, int], *, ttl_s: float | None = None) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for name, amount in counts.items():
                    pipe.hincrby(key, name, amount)
                if ttl_s is not None:
                    pipe.pexpire(key, _ms(ttl_s))
                await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis HINCRBY failed: {exc}") from exc

    async def hash_get(self, key: str) -> dict[str, bytes]:
        try:
            fields = await self._redis.hgetall(key)
        except RedisError as exc:
            raise StoreError(f"redis HGETALL failed: {exc}") from exc
        return {name.decode(): value for name, value in fields.items()}

    async def hash_set(self, key: str, field: str, value: bytes) -> None:
        try:
            await self._redis.hset(key, field, value)
        except RedisError as exc:
            raise StoreError(f"redis HSET failed: {exc}") from exc

    async def hash_delete(self, key: str, field: str) -> bool:
        try:
            return bool(await self._redis.hdel(key, field))
        except RedisError as exc:
            raise StoreError(f"redis HDEL failed: {exc}") from exc

    async def close(self) -> None:
        self._fast.close()
        await self._redis.aclose()
        await self._waiting.aclose()
