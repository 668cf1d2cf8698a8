"""Which ready call runs next, when the gateway's dataflow slots are full.

One queue per gateway replica, ordered by
    (objective, application, prefix group, submission order):
latency-critical calls before throughput ones; within an objective, calls of
the application (session) that arrived first, so an app's later stages are
not starved by newly arriving apps; within an app, calls whose prompts share
a prefix next to each other, so they reach the same replica back to back and
its prefix cache serves all but the first.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from dataflow.graph import Call, CallStatus, Perf

S = TypeVar("S")  # the session a call belongs to; opaque here


@dataclass(order=True, slots=True)
class _Entry(Generic[S]):
    key: tuple[int, int, str, int]
    call: Call = field(compare=False)
    session: S = field(compare=False)


class Scheduler(Generic[S]):
    def __init__(self, max_concurrent: int, launch: Callable[[S, Call], None]) -> None:
        self.max_concurrent = max_concurrent
        self.running = 0
        self._launch = launch
        self._queue: list[_Entry[S]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._queue)

    def enqueue(self, session: S, app: int, prefix: str, call: Call) -> None:
        """Queue a READY call; calling again after its objective was raised to
        latency re-queues it ahead (the stale entry is skipped when popped)."""
        rank = 0 if call.perf is Perf.LATENCY else 1
        heapq.heappush(self._queue, _Entry((rank, app, prefix, next(self._order)), call, session))
        self.pump()

    def release(self) -> None:
        """A launched call ended: its slot is free."""
        self.running -= 1
        self.pump()

    def pump(self) -> None:
        while self.running < self.max_concurrent and self._queue:
            entry = heapq.heappop(self._queue)
            call = entry.call
            if call.status is not CallStatus.READY:
                continue  # cancelled, failed, or already launched from a newer entry
            if entry.key[0] == 1 and call.perf is Perf.LATENCY:
                continue  # its objective was raised; the latency entry stands in the queue
            self.running += 1
            call.status = CallStatus.RUNNING
            self._launch(entry.session, call)
