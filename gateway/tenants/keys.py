"""API keys: created once, shown once, stored only as hashes.

A key is 32 random bytes (`sk-sg-…`), so a plain SHA-256 is the right hash:
there is nothing to brute-force, and a per-request lookup must be cheap.
The store keeps, per key hash, the record a request is authenticated with,
and an index of every key's record (for listing and revoking by id).
Replicas cache what they read for `cache_s`: a key revoked elsewhere stops
working here within that time. A key's expiry is checked against its record
on every request, cached or not, store up or down: an outage never extends it.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import StoreUnavailable
from gateway.store import Store, StoreError

PREFIX = "sk-sg-"
INDEX = "semgate:keys"
NEGATIVE_CACHE_S = 1.0  # unknown keys: re-read soon (a key just created elsewhere works within a second)
MAX_CACHED = 10_000
# What `create` makes: the prefix and 32 random bytes in URL-safe base64 (43 characters).
# Anything else can only be a key from the config, so the store is never asked about it.
ISSUED = re.compile(rb"sk-sg-[A-Za-z0-9_-]{43}")
REVOKED_S = math.inf  # a key revoked here stays refused here, even while the store is down


def hash_key(key: bytes) -> str:
    return "sha256:" + hashlib.sha256(key).hexdigest()


def _lookup(key_hash: str) -> str:
    return f"semgate:key:{key_hash}"


class KeyRing:
    def __init__(
        self, store: Store, static: Mapping[str, str], *, cache_s: float,
        clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._static = dict(static)  # key hash -> tenant, from the config
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, _Cached] = {}  # key hash -> what the store said, and until when to trust it
        self._wall = wall  # expiries are wall-clock times, like the records' `expires`

    async def tenant_of(self, key: bytes) -> str | None:
        """The key's tenant, or None for an unknown, revoked or expired key.

        Raises StoreUnavailable only for a key this replica cannot vouch for
        while the store is down: authentication never fails open.
        """
        key_hash = hash_key(key)
        static = self._static.get(key_hash)
        if static is not None:
            return static
        if ISSUED.fullmatch(key) is None:
            return None  # not a key the admin API ever issued
        cached = self._cache.get(key_hash)
        now = self._clock()
        if cached is not None and cached.until > now:
            return cached.valid_tenant(self._wall())
        try:
            raw = await self._store.get(_lookup(key_hash))
        except StoreError:
            if cached is not None:  # what this replica last read: still bound by the key's own expiry
                return cached.valid_tenant(self._wall())
            raise StoreUnavailable("cannot check the API key: the gateway's store is unavailable") from None
        cached = self._remember(key_hash, orjson.loads(raw) if raw is not None else None, now)
        return cached.valid_tenant(self._wall())

    def _remember(self, key_hash: str, record: dict[str, Any] | None, now: float) -> _Cached:
        tenant = record["tenant"] if record is not None else None
        expires = float(record["expires"]) if record is not None and record.get("expires") else None
        trust = self._cache_s if tenant is not None else min(self._cache_s, NEGATIVE_CACHE_S)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()  # crude but bounded: garbage keys cannot grow it without limit
        cached = self._cache[key_hash] = _Cached(tenant, now + trust, expires)
        return cached

    async def create(self, tenant: str, name: str = "", expires_in_s: float | None = None) -> tuple[str, dict[str, Any]]:
        """A new key for the tenant: (the plain key, to show once; its record).

        With expires_in_s the key stops working at `expires`, that moment rounded up to a
        whole second: its look-up entry expires in the store then, and every replica checks it.
        """
        plain = PREFIX + secrets.token_urlsafe(32)
        key_hash = hash_key(plain.encode())
        now = self._wall()
        expires = math.ceil(now + expires_in_s) if expires_in_s else None
        record = {
            "id": "key_" + secrets.token_hex(8), "object": "api_key", "tenant": tenant, "name": name,
            "created": int(now), "expires": expires, "hint": plain[:8] + "…" + plain[-4:], "revoked": None,
        }
        # The store forgets the key exactly when the record says it expires (not a second apart).
        ttl_s = expires - now if expires is not None else None
        await self._store.set(_lookup(key_hash), orjson.dumps(record), ttl_s=ttl_s)
        await self._store.hash_set(INDEX, record["id"], orjson.dumps({**record, "hash": key_hash}))
        return plain, record

    async def list(self, tenant: str | None = None) -> list[dict[str, Any]]:
        records = [orjson.loads(raw) for raw in (await self._store.hash_get(INDEX)).values()]
        records = [_public(r) for r in records if tenant is None or r["tenant"] == tenant]
        return sorted(records, key=lambda r: (r["created"], r["id"]))

    async def revoke(self, key_id: str) -> dict[str, Any] | None:
        """Mark the key revoked (it stays listed); None if there is no such key."""
        raw = (await self._store.hash_get(INDEX)).get(key_id)
        if raw is None:
            return None
        record = orjson.loads(raw)
        await self._store.delete(_lookup(record["hash"]))
        self._cache[record["hash"]] = _Cached(None, REVOKED_S, None)
        if record["revoked"] is None:
            record["revoked"] = int(time.time())
            await self._store.hash_set(INDEX, key_id, orjson.dumps(record))
        return _public(record)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != "hash"}


@dataclass(frozen=True, slots=True)
class _Cached:
    tenant: str | None  # None: the store had no such key
    until: float  # trust it without asking the store until then (monotonic)
    expires: float | None  # the key's own expiry (wall clock), from its record

    def valid_tenant(self, wall_now: float) -> str | None:
        if self.expires is not None and wall_now >= self.expires:
            return None
        return self.tenant
