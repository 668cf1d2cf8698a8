"""Handing the memory of a large session back to the operating system.

A session of thousands of calls frees tens of megabytes at once when it
ends, but glibc's malloc keeps freed heap pages mapped for reuse: measured
with benchmarks.dataflow_memory, RSS stayed ~95 MB above where it started
after a 8 x 1,024-call session was deleted. `malloc_trim(0)` returns the free
pages. It runs a moment after the session ended (once the request that
ended it has let go of it), in a worker thread (ctypes releases the GIL, so
the event loop runs meanwhile), at most one at a time. Elsewhere than glibc
it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
from collections.abc import Callable

# Sessions with at least this many variables are worth a trim when they end.
TRIM_AFTER_VARIABLES = 1024
TRIM_DELAY_S = 0.2


def find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    return trim


class MemoryReturner:
    def __init__(self, trim: Callable[[int], int] | None = None) -> None:
        self._trim = trim if trim is not None else find_malloc_trim()
        self._pending: asyncio.Task[None] | None = None

    def ended(self, variables: int) -> None:
        """A session with `variables` variables ended: trim soon if it was large."""
        if self._trim is None or variables < TRIM_AFTER_VARIABLES or self._pending is not None:
            return
        self._pending = asyncio.create_task(self._run(self._trim))

    async def _run(self, trim: Callable[[int], int]) -> None:
        try:
            await asyncio.sleep(TRIM_DELAY_S)
            await asyncio.to_thread(trim, 0)
        finally:
            self._pending = None

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending
