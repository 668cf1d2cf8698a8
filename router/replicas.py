"""One upstream replica: where it is, how loaded it is, whether to send to it.

The proxy keeps `in_flight` (its own requests there: exact and live) and
reports every outcome with `record_success()` / `record_failure()`, which
drive the replica's circuit breaker (router/breaker.py). The metrics scraper
(router/scrape.py) adds what the gateway cannot see itself, the engine's
load from other sources, with `observe()`. The choice between replicas is in
router/balancer.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.upstream.pool import Origin
from router.breaker import Breaker
from router.scrape import EngineLoad

# After a refused connection a replica sits out this long unless a health
# probe or a successful request sees it answer again first: nothing listens
# there, and the next request would fail the same way.
COOLDOWN_S = 2.0
FAILURE_KINDS = frozenset({"connect", "timeout", "status_5xx", "status_429"})
# KV-cache use above this fraction counts as extra load (see observe()).
KV_KNEE = 0.8
# Weight of the newest latency in the moving average.
LATENCY_ALPHA = 0.1


class Replica:
    """One upstream base URL. The URL may move (a restarted managed engine)."""

    __slots__ = (
        "_clock",
        "_cooldown_until",
        "_url",
        "_url_source",
        "breaker",
        "external_load",
        "healthy",
        "in_flight",
        "latency_ewma_s",
        "origin",
        "prefix",
    )

    def __init__(
        self,
        url: str | Callable[[], str],
        *,
        failure_threshold: int = 5,
        open_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url_source = url if callable(url) else (lambda: url)
        self._url = ""
        self.origin: Origin
        self.prefix = b""
        self.in_flight = 0
        self.healthy = True
        # Requests the engine has beyond ours, from the last scrape (0 without one).
        self.external_load = 0.0
        # Of successful requests; for operators. Not part of the load estimate:
        # an LLM request's latency mostly says how many tokens it generated.
        self.latency_ewma_s = 0.0
        self._clock = clock
        self.breaker = Breaker(failure_threshold, open_s, clock)
        self._cooldown_until = 0.0
        self.refresh()

    def configure(self, failure_threshold: int, open_s: float, clock: Callable[[], float]) -> None:
        """Replace the breaker (and clock) with the owning set's settings."""
        self._clock = clock
        self.breaker = Breaker(failure_threshold, open_s, clock)

    def refresh(self) -> None:
        url = self._url_source()
        if url != self._url:
            self._url = url
            self.origin, prefix = Origin.of(url)
            self.prefix = prefix.encode()

    @property
    def url(self) -> str:
        return self._url

    @property
    def load(self) -> float:
        """The load estimate the balancer compares: ours, live, plus the rest, scraped."""
        return self.in_flight + self.external_load

    @property
    def available(self) -> bool:
        """Probe-healthy, not cooling down after a refused connection, and
        the breaker lets a request through."""
        if not self.healthy:
            return False
        if self._cooldown_until:
            if self._clock() < self._cooldown_until:
                return False
            self._cooldown_until = 0.0
        return not self.breaker.tripped or self.breaker.allows()

    def mark_healthy(self, healthy: bool) -> None:
        """An active health probe's result. A probe that answers ends a
        connect cooldown but not an open breaker: a replica can answer
        /health and still fail every request."""
        self.healthy = healthy
        if healthy:
            self._cooldown_until = 0.0

    def record_success(self, latency_s: float) -> None:
        self._cooldown_until = 0.0
        self.breaker.success()
        if self.latency_ewma_s == 0.0:
            self.latency_ewma_s = latency_s
        else:
            self.latency_ewma_s += LATENCY_ALPHA * (latency_s - self.latency_ewma_s)

    def record_failure(self, kind: str) -> None:
        """kind: "connect" (refused / unreachable: nothing reached the engine),
        "timeout", "status_5xx" or "status_429". Each counts towards the
        breaker; a refused connection also takes the replica out at once."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; known: {', '.join(sorted(FAILURE_KINDS))}")
        if kind == "connect":
            self._cooldown_until = self._clock() + COOLDOWN_S
        self.breaker.failure()

    def observe(self, load: EngineLoad) -> None:
        """A scrape of the engine's own gauges.

        The engine's waiting + running include our own requests, which
        `in_flight` already counts exactly and without lag; only the excess
        is kept, so the estimate stays live for our traffic and lags (by up
        to one scrape interval) only for load the gateway cannot see. A KV
        cache filling past KV_KNEE means the next requests will queue or
        preempt even while nothing waits yet: up to the running batch again
        (at 100 %), so a full replica looks twice as busy.
        """
        outside = max(0.0, load.waiting + load.running - self.in_flight)
        pressure = max(0.0, load.kv_usage - KV_KNEE) / (1.0 - KV_KNEE)
        self.external_load = outside + pressure * load.running

    def forget_load(self) -> None:
        """The scrapes stopped answering: a stale reading must not steer traffic."""
        self.external_load = 0.0

    def __repr__(self) -> str:
        return f"Replica({self._url!r}, in_flight={self.in_flight}, external_load={self.external_load:.1f})"
