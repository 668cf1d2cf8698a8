"""Store calls for features a request can do without: limits, budgets, usage, the cache.

When the store fails, `StoreGuard` either lets the request go on without the
feature ("open": the call returns its fallback) or refuses it with 503
("closed"), as configured. Either way the failure is logged and counted, and
the store is then skipped for `retry_after_s`, so an outage costs each
request nothing instead of a timeout. Authentication does not go through
here: an unknown key is never let through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from gateway.errors import StoreUnavailable
from gateway.store.base import StoreError

log = logging.getLogger("semgate.store")

T = TypeVar("T")


class StoreErrorMetrics(Protocol):
    def store_error(self, op: str, outcome: str) -> None: ...


class StoreGuard:
    def __init__(
        self, metrics: StoreErrorMetrics, *, fail_open: bool, retry_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fail_open = fail_open
        self._metrics = metrics
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        return self._clock() < self._down_until

    async def run(self, op: str, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """`call()`'s result; on a store failure, `fallback` (open) or StoreUnavailable (closed)."""
        if self._down_until and self.down:
            return self._without(op, fallback)
        try:
            return await call()
        except StoreError as exc:
            if not self.down:  # one line per outage, not one per request
                log.error("store failed (%s): %s; going on %s for %gs", op, exc,
                          "without it" if self.fail_open else "refusing requests", self._retry_after_s)
            self._down_until = self._clock() + self._retry_after_s
            return self._without(op, fallback)

    def _without(self, op: str, fallback: T) -> T:
        if self.fail_open:
            self._metrics.store_error(op, "open")
            return fallback
        self._metrics.store_error(op, "closed")
        raise StoreUnavailable("the gateway's shared store is unavailable; try again shortly")
