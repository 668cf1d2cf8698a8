"""A large failing graph stays bounded: a dependent's error is short, the
failure is written in slices that let the event loop run, a description
comes in pages, and a deleted session leaves nothing behind.

Driven through the executor itself (no HTTP), with an in-memory store that
counts its writes and a completer that refuses every call.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

from dataflow.describe import Page, describe
from dataflow.executor import Executor
from dataflow.graph import Call, OutputSpec, Perf
from dataflow.memory import TRIM_DELAY_S, MemoryReturner, find_malloc_trim
from dataflow.runner import CallError, OnDelta
from dataflow.state import PUT_SLICE
from dataflow.template import Template
from gateway.config import DataflowConfig
from gateway.headers import Headers
from gateway.store import MemoryStore

CALLS = 1024
ID = "v" * 120  # long ids (up to 128 characters are allowed) made the old nested errors long


class CountingStore(MemoryStore):
    """Counts appends: how many happen between two turns of the event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.appends = 0

    async def append(self, stream: str, item: bytes, *, ttl_s: float | None = None) -> str:
        self.appends += 1
        return await super().append(stream, item, ttl_s=ttl_s)


async def refuse(body: dict[str, Any], headers: Headers, on_delta: OnDelta, tenant: str) -> str:
    raise CallError("upstream refused the connection: " + "details " * 500)


def chain(prefix: str = "") -> list[Call]:
    def var(i: int) -> str:
        return f"{prefix}{ID}{i:04d}"

    calls = [Call(f"{prefix}c0", "m", Template.parse("{{o}}"), {}, {"o": OutputSpec(var(0))})]
    calls += [Call(f"{prefix}c{i}", "m", Template.parse("{{x}} {{o}}"), {"x": (var(i - 1),)}, {"o": OutputSpec(var(i))})
              for i in range(1, CALLS)]
    return calls


async def fail_chain(executor: Executor, tenant: str = "t") -> tuple[Any, dict[str, Any]]:
    session = await executor.create_session(tenant, None)
    await executor.submit(session, [], chain(), lazy=True)
    last = f"{ID}{CALLS - 1:04d}"
    record = await executor.fetch(tenant, session.id, last, Perf.LATENCY, 30)
    return session, record


def test_a_failing_chain_yields_to_the_event_loop_while_it_is_written() -> None:
    async def scenario() -> tuple[int, dict[str, Any]]:
        store = CountingStore()
        executor = Executor(DataflowConfig(), store, refuse)
        longest = 0
        stop = False

        async def probe() -> None:  # runs whenever the loop gets a turn
            nonlocal longest
            seen = store.appends
            while not stop:
                await asyncio.sleep(0)
                longest = max(longest, store.appends - seen)
                seen = store.appends

        task = asyncio.create_task(probe())
        _, record = await fail_chain(executor)
        stop = True
        await task
        return longest, record

    longest, record = asyncio.run(scenario())
    assert record["status"] == "failed"
    # each ended variable is appended to two streams; never the whole chain in one go
    assert longest <= 2 * PUT_SLICE + 2


def test_the_last_error_of_a_failed_chain_names_the_root_and_is_short() -> None:
    _, record = asyncio.run(fail_chain(Executor(DataflowConfig(), MemoryStore(), refuse)))
    error = record["error"]
    assert error.startswith(f"input '{ID}{CALLS - 2:04d}' failed (output of call 'c{CALLS - 2}'); root cause: ")
    assert "call 'c0' failed: upstream refused the connection" in error
    assert len(error) < 1500


def test_a_failed_chain_takes_little_memory_and_returns_it_on_delete() -> None:
    async def scenario() -> tuple[int, int, int]:
        executor = Executor(DataflowConfig(), MemoryStore(), refuse)
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            session, _ = await fail_chain(executor)
            peak = tracemalloc.get_traced_memory()[1] - base
            await executor.end(session)
            del session
            gc.collect()
            left = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        return peak, left, len(executor.sessions)

    peak, left, sessions = asyncio.run(scenario())
    assert sessions == 0
    assert peak < 32 * 2**20  # the nested errors alone took ~240 MB (a chain of 128-character ids)
    assert left < 2**20, f"{left} bytes still held after the session was deleted"


def test_a_description_of_a_large_session_is_one_bounded_page() -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        executor = Executor(DataflowConfig(), MemoryStore(), refuse)
        session, _ = await fail_chain(executor)
        await executor.submit(session, [], chain("b-"), lazy=True)  # 2,048 calls
        first = describe(session, Page())
        second = describe(session, Page(after=int(first["next_after"])))
        return first, second

    first, second = asyncio.run(scenario())
    assert len(first["calls"]) == len(first["variables"]) == 256 and first["has_more"]
    assert first["summary"]["calls"] == {"total": 2 * CALLS, "failed": CALLS, "idle": CALLS}
    assert next(iter(second["calls"])) == "c256" and len(second["calls"]) == 256 and second["next_after"] == "512"
    assert sum(len(c["error"] or "") for c in first["calls"].values()) < 1500 * 256


def test_a_call_added_after_its_input_failed_gets_the_same_short_error() -> None:
    async def scenario() -> str:
        executor = Executor(DataflowConfig(), MemoryStore(), refuse)
        session, _ = await fail_chain(executor)
        late = Call("late", "m", Template.parse("{{x}} {{o}}"), {"x": (f"{ID}{CALLS - 1:04d}",)},
                    {"o": OutputSpec("late-out")})
        await executor.submit(session, [], [late], lazy=True)
        return session.graph.variables["late-out"].error or ""

    error = asyncio.run(scenario())
    assert error.startswith(f"input '{ID}{CALLS - 1:04d}' failed (output of call 'c{CALLS - 1}'); root cause: call")
    assert len(error) < 1500


def test_ending_a_large_session_hands_freed_memory_back_once() -> None:
    calls: list[int] = []
    real = find_malloc_trim()

    def trim(pad: int) -> int:  # the real malloc_trim where there is one, recorded
        calls.append(pad)
        return real(pad) if real is not None else 0

    async def scenario() -> list[int]:
        executor = Executor(DataflowConfig(), MemoryStore(), refuse)
        executor.memory = MemoryReturner(trim)
        small = await executor.create_session("t", None)
        await executor.end(small)
        big, _ = await fail_chain(executor)
        other, _ = await fail_chain(executor)
        await executor.end(big)
        await executor.end(other)  # one trim covers both
        await asyncio.sleep(TRIM_DELAY_S + 0.5)
        return calls

    assert asyncio.run(scenario()) == [0]
