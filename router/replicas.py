"""Replicas of one model and the choice between them.

Today's policy is least-outstanding-requests over healthy replicas, with a
rotating tie-break; issue #4 adds load-, prefix-cache- and cost-aware routing
behind the same `pick()` call.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from gateway.upstream.pool import Origin

# After a connection failure a replica sits out this long unless a health
# probe sees it answer again first.
COOLDOWN_S = 2.0


class Replica:
    """One upstream base URL. The URL may move (a restarted managed engine)."""

    __slots__ = ("_url_source", "_url", "origin", "prefix", "in_flight", "healthy", "_down_until")

    def __init__(self, url: str | Callable[[], str]) -> None:
        self._url_source = url if callable(url) else (lambda: url)
        self._url = ""
        self.origin: Origin
        self.prefix = b""
        self.in_flight = 0
        self.healthy = True
        self._down_until = 0.0
        self.refresh()

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
    def available(self) -> bool:
        return self.healthy and time.monotonic() >= self._down_until

    def mark_failed(self) -> None:
        self._down_until = time.monotonic() + COOLDOWN_S

    def mark_healthy(self, healthy: bool) -> None:
        self.healthy = healthy
        if healthy:
            self._down_until = 0.0


class ReplicaSet:
    def __init__(self, replicas: list[Replica]) -> None:
        if not replicas:
            raise ValueError("a model needs at least one replica")
        self.replicas = replicas
        self._turn = itertools.count()

    def pick(self, exclude: tuple[Replica, ...] = ()) -> Replica | None:
        """The available replica with fewest requests in flight.

        When every replica is marked down, one is tried anyway: a stale mark
        must not turn into a 503 for an upstream that has come back. None
        only when every replica has been tried (`exclude`).
        """
        replicas = self.replicas
        if len(replicas) == 1:
            return None if replicas[0] in exclude else replicas[0]
        start = next(self._turn) % len(replicas)
        best: Replica | None = None
        for i in range(len(replicas)):
            replica = replicas[(start + i) % len(replicas)]
            if replica in exclude or not replica.available:
                continue
            if best is None or replica.in_flight < best.in_flight:
                best = replica
        if best is None:
            best = next((r for r in replicas if r not in exclude), None)
        return best

    @property
    def any_healthy(self) -> bool:
        return any(replica.healthy for replica in self.replicas)
