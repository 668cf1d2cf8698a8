"""Shared state behind one small interface: in-memory by default, Redis when configured.

Everything gateway replicas must agree on (dataflow sessions and variables;
later limits, budgets and caches) is written through `Store`, so a single
gateway keeps it in its own memory and a fleet behind a load balancer shares
it through Redis without the callers changing.
"""

import os

from gateway.store.base import Meter, Store, StoreError
from gateway.store.memory import MemoryStore

__all__ = ["MemoryStore", "Meter", "Store", "StoreError", "build_store"]


def build_store(backend: str, url: str | None = None, url_env: str | None = None, max_connections: int = 256,
                timeout_s: float = 0.5) -> Store:
    """The configured store; Redis is imported only when configured."""
    if backend == "memory":
        return MemoryStore()
    from gateway.store.redis import RedisStore

    address = url or os.environ.get(url_env or "")
    if not address:
        raise StoreError(f"the redis store's URL is not set (environment variable {url_env!r} is empty)")
    return RedisStore(address, max_connections=max_connections, timeout_s=timeout_s)
