"""A per-replica circuit breaker: outlier ejection on consecutive failures.

    closed ──(threshold consecutive failures)──▶ open
    open ──(open_s elapsed)──▶ half-open
    half-open ──(the trial request succeeds)──▶ closed
    half-open ──(the trial request fails)──▶ open again

Half-open lets exactly one trial request through: the one `pick()` claims
with `claim_trial()`. A trial whose outcome never arrives (the client went
away, the proxy cancelled it) expires after open_s, so a lost trial cannot
keep a replica out forever.

The clock is injected so tests step through the states without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class State(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    __slots__ = ("_clock", "_state", "_until", "failures", "open_s", "threshold")

    def __init__(self, threshold: int, open_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if threshold < 1:
            raise ValueError(f"failure threshold must be >= 1, got {threshold}")
        self.threshold = threshold
        self.open_s = open_s
        self._clock = clock
        self.failures = 0  # consecutive, while closed
        self._state = State.CLOSED
        # OPEN: when it may half-open. HALF_OPEN: when a claimed trial counts
        # as lost and another may go (0.0: no trial out).
        self._until = 0.0

    @property
    def tripped(self) -> bool:
        """Open or half-open: the hot path's one-attribute test."""
        return self._state is not State.CLOSED

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() >= self._until:
            return State.HALF_OPEN
        return self._state

    def allows(self) -> bool:
        """Whether a request may be sent now; it changes nothing (pick() asks
        this of candidates it may not choose)."""
        if self._state is State.CLOSED:
            return True
        return self._clock() >= self._until

    def claim_trial(self) -> None:
        """The replica was chosen: if half-open, this request is the trial."""
        if self._state is State.CLOSED:
            return
        now = self._clock()
        if now >= self._until:
            self._state = State.HALF_OPEN
            self._until = now + self.open_s

    def success(self) -> None:
        if self._state is State.OPEN:
            # A request sent before the breaker opened says nothing about now.
            return
        self._state = State.CLOSED
        self.failures = 0
        self._until = 0.0

    def failure(self) -> None:
        state = self._state
        if state is State.OPEN:
            return  # stragglers sent before it opened
        if state is State.HALF_OPEN:
            self._open()
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self._open()

    def _open(self) -> None:
        self._state = State.OPEN
        self._until = self._clock() + self.open_s
        self.failures = 0
