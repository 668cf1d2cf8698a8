"""Exact-match response cache, opt-in per model or route (`cache: {ttl_s}`).

The key is a hash of the normalised request: the body's JSON with sorted
keys, without the fields that change how an answer is delivered but not what
it says (`stream`, `stream_options`, `user`). Entries are per tenant: one
tenant never sees an answer another paid for, nor learns what it asked.
Whole 200 answers on the plain path are stored (not answers that policies
checked); a streamed answer is stored as the whole answer it adds up to
(gateway/assemble.py), and a stream request is answered from a stored whole
answer by replaying it as SSE. Store failures count as misses (or
503 when the store is configured to fail closed).
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

import orjson

from gateway.config import CacheConfig
from gateway.errors import StoreUnavailable
from gateway.metrics import GatewayMetrics
from gateway.store import Store
from gateway.store.guarded import StoreGuard

DELIVERY_ONLY = frozenset({"stream", "stream_options", "user"})


def request_key(tenant: str, endpoint: str, name: str, data: dict[str, Any]) -> str:
    normal = {field: value for field, value in data.items() if field not in DELIVERY_ONLY}
    digest = hashlib.sha256(orjson.dumps(normal, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"semgate:cache:{{{tenant}}}:{endpoint}:{name}:{digest}"


class ResponseCache:
    def __init__(self, store: Store, guard: StoreGuard, metrics: GatewayMetrics, configs: dict[str, CacheConfig]) -> None:
        self._store = store
        self._guard = guard
        self._metrics = metrics
        self._configs = configs

    def enabled(self, name: str) -> bool:
        return name in self._configs

    def max_bytes(self, name: str) -> int:
        return self._configs[name].max_bytes

    async def get(self, name: str, key: str) -> tuple[str, bytes] | None:
        """(the model that answered, the stored body), or None on a miss."""
        raw = await self._guard.run("cache", partial(self._store.get, key), None)
        self._metrics.cache_lookup(name, raw is not None)
        if raw is None:
            return None
        model, _, body = raw.partition(b"\n")
        return model.decode(), body

    async def put(self, name: str, key: str, model: str, body: bytes) -> None:
        config = self._configs[name]
        if len(body) > config.max_bytes:
            return
        value = model.encode() + b"\n" + body
        try:
            await self._guard.run("cache", partial(self._store.set, key, value, ttl_s=config.ttl_s), False)
        except StoreUnavailable:
            pass  # the answer has gone out already: fail-closed has nothing left to refuse
