"""Batched usage accounting: nothing added is left unwritten, however adds and flushes interleave."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from gateway.metrics import GatewayMetrics
from gateway.store import MemoryStore
from gateway.store.guarded import StoreGuard
from gateway.tenants.accounting import Accounting
from gateway.tenants.config import TenantConfig
from gateway.tenants.limits import TenantLimits


class SlowStore(MemoryStore):
    """Holds each usage write until released: a flush caught in the middle, on purpose."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = asyncio.Event()
        self.release = asyncio.Event()

    async def add_counts(self, key: str, counts: Mapping[str, int], *, ttl_s: float | None = None) -> None:
        self.writing.set()
        await self.release.wait()
        await super().add_counts(key, counts, ttl_s=ttl_s)


def requests(store: MemoryStore, limits: TenantLimits) -> int:
    fields = store._hashes.get(limits.usage_key("day", time.time()), {})
    return int(fields.get("requests", b"0"))


async def test_usage_added_during_a_flush_is_written_without_another_request() -> None:
    store = SlowStore()
    metrics = GatewayMetrics()
    accounting = Accounting(store, StoreGuard(metrics, fail_open=True, retry_after_s=1), interval_s=0.01)
    limits = TenantLimits("t", TenantConfig())
    accounting.add(limits, "m", 1, 1, 0.0)
    await asyncio.wait_for(store.writing.wait(), 2)  # the first flush is writing now
    accounting.add(limits, "m", 1, 1, 0.0)  # ... and this arrives meanwhile
    store.release.set()
    for _ in range(100):
        if requests(store, limits) == 2:
            break
        await asyncio.sleep(0.01)
    assert requests(store, limits) == 2


async def test_closing_mid_flush_keeps_what_that_flush_took() -> None:
    store = SlowStore()
    metrics = GatewayMetrics()
    accounting = Accounting(store, StoreGuard(metrics, fail_open=True, retry_after_s=1), interval_s=0.01)
    limits = TenantLimits("t", TenantConfig())
    accounting.add(limits, "m", 1, 1, 0.0)
    await asyncio.wait_for(store.writing.wait(), 2)
    closing = asyncio.create_task(accounting.close())
    await asyncio.sleep(0.05)
    store.release.set()
    await asyncio.wait_for(closing, 2)
    assert requests(store, limits) == 1
