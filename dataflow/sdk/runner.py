"""Which event loop a Workflow's I/O runs on, for async and sync callers alike.

httpx connections belong to the event loop that opened them, so all of a
Workflow's I/O runs on one "home" loop. Async callers on that loop run the
I/O directly (no overhead); a plain script with no loop gets a private loop
in a daemon thread, started on first use, so `var.result()` works without
any asyncio in sight. A caller on some other loop (another thread, or a
fresh `asyncio.run` after a sync phase) hops to the home loop. One code path
for every request, whatever the caller's style.

If the home loop is gone (an `asyncio.run` ended), the next caller becomes
the new home and `on_bind` lets the Workflow drop its stale client.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


class LoopRunner:
    def __init__(self, on_bind: Callable[[], None]) -> None:
        self._on_bind = on_bind
        self._home: asyncio.AbstractEventLoop | None = None
        self._private: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- async callers ------------------------------------------------------

    async def run(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Await `factory()` on the home loop (the caller's own, when it is home)."""
        current = asyncio.get_running_loop()
        home = self._home_for(current)
        if home is current:
            return await factory()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_call(factory), home))

    async def iterate(self, factory: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Iterate an async generator that must run on the home loop."""
        current = asyncio.get_running_loop()
        home = self._home_for(current)
        if home is current:
            async with contextlib.aclosing(factory()) as items:  # type: ignore[type-var]
                async for item in items:
                    yield item
            return
        items = factory()
        try:
            while True:
                done, item = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_step(items), home))
                if done:
                    return
                yield item  # type: ignore[misc]
        finally:
            if not home.is_closed():
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_aclose(items), home))

    # ---- sync callers -------------------------------------------------------

    def run_sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Block the calling thread until `factory()` has run on the home loop."""
        home = self._home_for_sync()
        future = asyncio.run_coroutine_threadsafe(_call(factory), home)
        try:
            return future.result()
        except BaseException:  # KeyboardInterrupt included: stop the work we were waiting for
            future.cancel()
            raise

    def iterate_sync(self, factory: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
        home = self._home_for_sync()
        items = factory()
        try:
            while True:
                future = asyncio.run_coroutine_threadsafe(_step(items), home)
                try:
                    done, item = future.result()
                except BaseException:
                    future.cancel()
                    raise
                if done:
                    return
                yield item  # type: ignore[misc]
        finally:
            if not home.is_closed():
                asyncio.run_coroutine_threadsafe(_aclose(items), home).result(10)

    # ---- the home loop ------------------------------------------------------------

    @property
    def home(self) -> asyncio.AbstractEventLoop | None:
        return self._home

    def in_home_thread(self) -> bool:
        """True when a blocking call here would deadlock the home loop."""
        return self._home is not None and _running_loop() is self._home

    def stop(self) -> None:
        """Stop the private loop's thread, if one was started; the runner can be used again after."""
        with self._lock:
            loop, thread = self._private, self._thread
            self._private = self._thread = None
            if self._home is loop:
                self._home = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(10)
            loop.close()

    def _home_for_sync(self) -> asyncio.AbstractEventLoop:
        if self.in_home_thread():
            raise RuntimeError(
                "a blocking dataflow call (.result(), close(), a `with` block) was made inside the event loop "
                "this Workflow runs on; use the async form (await var.get(), await wf.aclose(), `async with`)"
            )
        return self._home_for(None)

    def _home_for(self, current: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop:
        with self._lock:
            home = self._home
            if home is not None and not home.is_closed():
                if home is current or home is self._private or home.is_running():
                    return home
            if current is None:
                current = self._start_private()
            self._home = current
        self._on_bind()
        return current

    def _start_private(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="dataflow-sdk-loop", daemon=True)
        thread.start()
        self._private, self._thread = loop, thread
        return loop


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


async def _step(items: AsyncIterator[T]) -> tuple[bool, T | None]:
    # StopAsyncIteration must not cross a Task boundary; report it as a flag.
    try:
        return False, await items.__anext__()
    except StopAsyncIteration:
        return True, None


async def _aclose(items: AsyncIterator[object]) -> None:
    close = getattr(items, "aclose", None)
    if close is not None:
        await close()
