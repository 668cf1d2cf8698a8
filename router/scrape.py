"""Engine load from vLLM's Prometheus `/metrics`, polled in the background.

The gateway knows exactly how many of *its own* requests each replica has
(`Replica.in_flight`), but not what else the engine is doing: other gateway
workers, clients that bypass the gateway, a queue that is long because the
replica is slow. vLLM publishes that as gauges; this module reads three:

    vllm:num_requests_waiting   sequences queued for a batch slot or KV blocks
    vllm:num_requests_running   sequences in the running batch
    vllm:kv_cache_usage_perc    fraction of KV blocks held (vLLM < 0.8:
                                vllm:gpu_cache_usage_perc)

Series are selected by metric name whatever their labels (`model_name`, and
`engine` under data parallelism): counts are summed over series, KV usage
averaged. A scrape is one short `GET /metrics` per replica on a fresh
connection, never on the request path; a replica that does not answer keeps
its last reading for a few intervals, then counts as having no outside load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.upstream.probe import fetch

if TYPE_CHECKING:
    from router.replicas import Replica

log = logging.getLogger("semgate.scrape")

MAX_BODY_BYTES = 8 * 1024 * 1024  # a real vLLM /metrics is ~100 KB
# A replica with no /metrics (404: not vLLM) is asked again this much later.
NO_METRICS_RETRY_S = 60.0
# After this many failed scrapes in a row the last reading is dropped.
STALE_AFTER = 3

_GAUGE = re.compile(
    rb"^vllm:(num_requests_waiting|num_requests_running|kv_cache_usage_perc|gpu_cache_usage_perc)"
    rb"(?:\{[^}\n]*\})?[ \t]+(\S+)",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class EngineLoad:
    waiting: float
    running: float
    kv_usage: float  # 0..1


def parse_metrics(text: bytes) -> EngineLoad | None:
    """The vLLM gauges in a Prometheus text exposition, or None if absent."""
    sums = {b"num_requests_waiting": 0.0, b"num_requests_running": 0.0}
    seen: set[bytes] = set()
    kv_total = 0.0
    kv_series = 0
    for match in _GAUGE.finditer(text):
        name, raw = match.group(1), match.group(2)
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isnan(value):  # an engine that has not measured yet
            continue
        seen.add(name)
        if name in sums:
            sums[name] += value
        else:
            kv_total += value
            kv_series += 1
    if b"num_requests_waiting" not in seen and b"num_requests_running" not in seen:
        return None
    kv = kv_total / kv_series if kv_series else 0.0
    return EngineLoad(sums[b"num_requests_waiting"], sums[b"num_requests_running"], min(1.0, max(0.0, kv)))


class MetricsScraper:
    """Polls every replica's /metrics each `interval` seconds; feeds `Replica.observe()`."""

    def __init__(self, replicas: Sequence[Replica], interval: float, timeout: float | None = None) -> None:
        self._replicas = replicas
        self._interval = interval
        # Short: a reading that takes longer than the interval is already stale.
        self._timeout = timeout if timeout is not None else min(1.0, interval)
        self._failures = {id(replica): 0 for replica in replicas}
        self._skip_until = {id(replica): 0.0 for replica in replicas}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="semgate-scrape")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def scrape_all(self) -> None:
        await asyncio.gather(*(self.scrape(replica) for replica in self._replicas))

    async def scrape(self, replica: Replica) -> None:
        loop = asyncio.get_running_loop()
        key = id(replica)
        if loop.time() < self._skip_until[key]:
            return
        replica.refresh()
        origin = replica.origin
        reply = await fetch(origin.scheme, origin.host, origin.port, "/metrics", self._timeout, MAX_BODY_BYTES)
        load = parse_metrics(reply[1]) if reply is not None and reply[0] == 200 else None
        if load is not None:
            self._failures[key] = 0
            replica.observe(load)
            return
        if reply is not None and reply[0] == 404:
            # Not a vLLM (or metrics turned off): don't ask every second.
            log.info("replica %s has no /metrics; load is in-flight requests only", replica.url)
            self._skip_until[key] = loop.time() + NO_METRICS_RETRY_S
        self._failures[key] += 1
        if self._failures[key] >= STALE_AFTER:
            replica.forget_load()

    async def _run(self) -> None:
        while True:
            try:
                await self.scrape_all()
            except Exception:  # a parsing bug must not end scraping
                log.exception("metrics scrape failed")
            await asyncio.sleep(self._interval)
