"""Usage written to the store in batches, off the request path.

Each finished call adds its tokens and cost to an in-process buffer (a dict
update, about a microsecond); every `interval_s` one task writes the sums
per tenant and model: the TPM and budget charges (one meter call per
tenant) and the usage counters. At thousands of requests per second that is
a handful of store round trips per interval instead of three per request;
the price is that a TPM limit or a budget notices usage up to `interval_s`
late, which is far inside the slack they already have (usage is only known
after a call ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from gateway.errors import StoreUnavailable
from gateway.store import Store
from gateway.store.guarded import StoreGuard
from gateway.tenants.limits import USAGE_PERIODS, USAGE_TTL_S, TenantLimits, usage_counts

log = logging.getLogger("semgate.tenants")


@dataclass(slots=True)
class _Sums:
    limits: TenantLimits
    requests: int = 0
    prompt: int = 0
    completion: int = 0
    cost_usd: float = 0.0


class Accounting:
    def __init__(self, store: Store, guard: StoreGuard, *, interval_s: float = 0.05,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._guard = guard
        self._interval_s = interval_s
        self._clock = clock
        self._sums: dict[tuple[str, str], _Sums] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._sleeping = False

    def add(self, limits: TenantLimits, model: str, prompt: int, completion: int, cost_usd: float) -> None:
        sums = self._sums.get((limits.name, model))
        if sums is None:
            sums = self._sums[limits.name, model] = _Sums(limits)
        sums.requests += 1
        sums.prompt += prompt
        sums.completion += completion
        sums.cost_usd += cost_usd
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_while_busy())

    async def _flush_while_busy(self) -> None:
        """Flush every interval while there is something to write.

        One task at a time: usage added while a flush is writing is picked up
        by the next round of the same loop, never left waiting for a later
        request to schedule a flush.
        """
        while self._sums:
            self._sleeping = True
            try:
                await asyncio.sleep(self._interval_s)
            finally:
                self._sleeping = False
            await self.flush()
        self._flusher = None  # no await since the check above: an add() now starts a new loop

    async def flush(self) -> None:
        """Write everything buffered now (also at shutdown: no usage is lost)."""
        sums, self._sums = self._sums, {}
        now = self._clock()
        per_tenant: dict[str, tuple[TenantLimits, int, float]] = {}
        for (tenant, model), s in sums.items():
            limits, tokens, cost = per_tenant.get(tenant, (s.limits, 0, 0.0))
            per_tenant[tenant] = (limits, tokens + s.prompt + s.completion, cost + s.cost_usd)
            counts = usage_counts(model, s.requests, s.prompt, s.completion, s.cost_usd)
            for period in USAGE_PERIODS:
                key = s.limits.usage_key(period, now)
                await self._write("usage", partial(self._store.add_counts, key, counts, ttl_s=USAGE_TTL_S[period]))
        for limits, tokens, cost in per_tenant.values():
            charges = limits.charges(tokens, cost, now)
            if charges:
                await self._write("charge", partial(self._store.charge, charges))

    async def _write(self, op: str, call: Callable[[], Awaitable[object]]) -> None:
        try:
            await self._guard.run(op, call, None)
        except StoreUnavailable:
            pass  # fail-closed has nothing left to refuse: the replies are out; the failure is counted

    async def close(self) -> None:
        task, self._flusher = self._flusher, None
        if task is not None:
            if self._sleeping:
                task.cancel()  # between flushes: nothing in hand
            with contextlib.suppress(asyncio.CancelledError):
                await task  # mid-flush: let it write what it took
        await self.flush()
