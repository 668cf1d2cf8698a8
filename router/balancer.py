"""The choice of replica within one model: `ReplicaSet.pick()`.

Three ways to choose, all over the replicas that are available (probe-healthy,
breaker closed or half-open with its trial free) and not already tried:

- affinity key given: consistent hashing with bounded loads (router/ring.py),
  so requests sharing a prompt prefix or a session meet one warm prefix cache;
- policy "p2c": the less loaded of two random replicas ("power of two
  choices", Mitzenmacher 2001). Comparing two random candidates instead of
  taking the global minimum keeps requests that arrive together, which all
  see the same (partly scraped, so partly stale) loads, from herding onto one
  replica, and costs O(1);
- policy "round_robin": plain rotation, the baseline.

The load compared is `Replica.load`: the gateway's own requests in flight
(exact, live) plus, when scraping, the engine's other work (router/scrape.py).
When no replica is available one is returned anyway: a stale mark must not
turn into a 503 for an upstream that has come back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from gateway.config import BalancerConfig
from router.affinity import affinity_key
from router.replicas import Replica
from router.ring import HashRing
from router.scrape import MetricsScraper

# Load bounds (x the mean load) for requests that state an objective.
PERF_LOAD_BOUNDS = {b"latency": 1.0, b"throughput": 2.0}


class ReplicaSet:
    def __init__(
        self,
        replicas: list[Replica],
        config: BalancerConfig | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not replicas:
            raise ValueError("a model needs at least one replica")
        self.replicas = replicas
        self.config = config = config or BalancerConfig()
        self.session_header = config.session_header.lower().encode()
        self._rng = rng or random.Random()
        self._round_robin = config.policy == "round_robin"
        self._load_bound = config.load_bound
        self._turn = 0
        for replica in replicas:
            replica.configure(config.failure_threshold, config.open_s, clock)
        self._ring = HashRing([replica.url for replica in replicas])
        self._scraper: MetricsScraper | None = None
        # One replica leaves nothing to choose, so nothing worth scraping.
        if config.scrape_metrics and len(replicas) > 1:
            self._scraper = MetricsScraper(replicas, config.scrape_interval_s)

    # ---- the hot path ---------------------------------------------------

    def affinity_of(self, data: dict[str, Any], session: bytes | None) -> bytes | None:
        """The request's affinity key under this model's settings: the session
        header's value always, the prompt prefix when prefix_affinity is on."""
        if session:
            return session
        if not self.config.prefix_affinity or len(self.replicas) == 1:
            return None
        return affinity_key(data, None, self.config.prefix_min_chars)

    def pick(
        self, exclude: tuple[Replica, ...] = (), *, affinity: bytes | None = None, perf: bytes | None = None
    ) -> Replica | None:
        """The replica for the next attempt; None only when all are in `exclude`.

        `perf` is a request's objective (dataflow calls send x-semgate-perf):
        a latency-critical request keeps its affinity only while that replica
        is no busier than average; a throughput one may pile onto it further,
        into bigger batches that share its prefix cache.
        """
        replicas = self.replicas
        if len(replicas) == 1:
            chosen: Replica | None = None if replicas[0] in exclude else replicas[0]
        elif affinity is not None:
            bound = self._load_bound if perf is None else PERF_LOAD_BOUNDS.get(perf, self._load_bound)
            chosen = self._ring.choose(affinity, replicas, exclude, max(bound, 1.0))
        elif self._round_robin:
            chosen = self._rotate(exclude)
        else:
            chosen = self._two_choices(exclude)
        if chosen is None:
            return self._anyway(exclude)
        if chosen.breaker.tripped:
            chosen.breaker.claim_trial()
        return chosen

    def _two_choices(self, exclude: tuple[Replica, ...]) -> Replica | None:
        replicas = self.replicas
        count = len(replicas)
        random_ = self._rng.random
        first = int(random_() * count)
        second = int(random_() * (count - 1))
        if second >= first:
            second += 1  # two distinct candidates, uniformly
        a, b = replicas[first], replicas[second]
        if a.available and b.available and a not in exclude and b not in exclude:
            return a if a.in_flight + a.external_load <= b.in_flight + b.external_load else b
        # Slow path (a replica is down or already tried): the same rule over
        # the candidates that remain, so one unavailable replica does not
        # turn the choice into a coin flip.
        usable = [r for r in replicas if r.available and r not in exclude]
        if len(usable) > 2:
            usable = self._rng.sample(usable, 2)
        return min(usable, key=_load, default=None)

    def _rotate(self, exclude: tuple[Replica, ...]) -> Replica | None:
        replicas = self.replicas
        count = len(replicas)
        for step in range(count):
            index = (self._turn + step) % count
            replica = replicas[index]
            if replica.available and replica not in exclude:
                self._turn = index + 1
                return replica
        return None

    def _anyway(self, exclude: tuple[Replica, ...]) -> Replica | None:
        """No replica is available: try one all the same, probe-healthy ones
        first (only a breaker or a cooldown holds them back), rotating."""
        replicas = self.replicas
        count = len(replicas)
        start = self._turn
        self._turn += 1
        fallback: Replica | None = None
        for step in range(count):
            replica = replicas[(start + step) % count]
            if replica in exclude:
                continue
            if replica.healthy:
                return replica
            fallback = fallback or replica
        return fallback

    # ---- state ----------------------------------------------------------

    @property
    def any_healthy(self) -> bool:
        return any(replica.healthy for replica in self.replicas)

    async def start(self) -> None:
        """Start scraping the engines' /metrics (when configured); idempotent."""
        if self._scraper is not None:
            self._scraper.start()

    async def stop(self) -> None:
        if self._scraper is not None:
            await self._scraper.stop()


def _load(replica: Replica) -> float:
    return replica.in_flight + replica.external_load
