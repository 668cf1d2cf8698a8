"""Shared state behind one small interface: in-memory by default, Redis when configured.

Everything gateway replicas must agree on (dataflow sessions and variables;
later limits, budgets and caches) is written through `Store`, so a single
gateway keeps it in its own memory and a fleet behind a load balancer shares
it through Redis without the callers changing.
"""

from gateway.store.base import Store, StoreError
from gateway.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "StoreError"]
