"""Active health checks: each replica's `/health` polled in the background.

Any HTTP answer below 500 counts as alive (servers without `/health` answer
404, which still proves they are up); refused connections, timeouts and 5xx
mark the replica down until the next successful probe. Each check also
sets the replicas' health and circuit-breaker gauges (semgate_upstream_*).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from gateway.routes import ModelRoute
from gateway.upstream.probe import get_status
from router.replicas import Replica

if TYPE_CHECKING:
    from gateway.metrics import GatewayMetrics

log = logging.getLogger("semgate.health")
PROBE_TIMEOUT_S = 2.0


async def probe(replica: Replica, timeout: float = PROBE_TIMEOUT_S) -> bool:
    replica.refresh()
    origin = replica.origin
    status = await get_status(origin.host, origin.port, timeout=timeout, tls=origin.scheme == "https")
    return status is not None and status < 500


class HealthMonitor:
    def __init__(self, routes: dict[str, ModelRoute], interval: float, metrics: GatewayMetrics | None = None) -> None:
        self._routes = routes
        self._interval = interval
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None

    async def check_all(self) -> None:
        replicas = [(name, r) for name, route in self._routes.items() for r in route.replicas.replicas]
        results = await asyncio.gather(*(probe(r) for _, r in replicas))
        for (model, replica), ok in zip(replicas, results):
            if ok != replica.healthy:
                log.warning("replica %s is %s", replica.url, "healthy again" if ok else "down")
            replica.mark_healthy(ok)
            if self._metrics is not None:
                self._metrics.replica_state(model, replica.url, ok, replica.breaker.tripped)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="semgate-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check_all()
            except Exception:  # a probe bug must not end health checking
                log.exception("health check failed")
