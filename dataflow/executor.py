"""Runs sessions' graphs: the server side of semantic-variable workflows.

The executor owns the sessions created on this gateway replica. A fetch marks
the fetched variable's upstream calls as wanted (with the fetch's objective);
calls whose inputs are ready go to the scheduler, which launches them as
slots free up; each finished output may make its consumers ready, and so on,
with no client in the loop. Results and token deltas are published to the
store, which is where every fetch — on this replica or another — reads them.
Changes made on another replica reach this one through the store too
(dataflow/remote.py) and are applied exactly as local ones (dataflow/writes.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from dataflow import writes
from dataflow.describe import Page, describe
from dataflow.errors import Cancelled, FetchTimeout, NotFound, ShuttingDown, StateConflict
from dataflow.graph import ENDED, Call, CallStatus, Conflict, Graph, GraphError, Limits, Perf
from dataflow.memory import MemoryReturner
from dataflow.metrics import DataflowMetrics
from dataflow.remote import Forwarding, Remote, owner_alive, owner_gone
from dataflow.runner import CallError, Completer, run_call
from dataflow.scheduler import Scheduler
from dataflow.state import SessionState, is_final, variable_record
from gateway.config import DataflowConfig
from gateway.errors import BadRequest
from gateway.metrics import GatewayMetrics
from gateway.store import Store

log = logging.getLogger("semgate.dataflow")

# A waiting stream sends a keep-alive this often, so clients can tell a slow call from a dead connection.
KEEPALIVE_S = 15.0


@dataclass(eq=False)
class Session:
    id: str
    tenant: str
    app: int  # arrival order on this replica: earlier applications go first
    graph: Graph
    state: SessionState
    created: int
    last_used: float
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    graphs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    calls: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    ready_at: dict[str, float] = field(default_factory=dict)  # call id -> when it became ready (queue time)

    @property
    def key(self) -> tuple[str, str]:
        return self.tenant, self.id


class Executor:
    def __init__(
        self, config: DataflowConfig, store: Store, completer: Completer, *,
        metrics: GatewayMetrics | None = None, models: frozenset[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = store
        self.completer = completer
        self.limits = Limits(
            config.max_calls_per_graph, config.max_variables_per_session, config.max_template_chars,
            config.max_value_chars,
        )
        self.sessions: dict[tuple[str, str], Session] = {}
        self.scheduler: Scheduler[Session] = Scheduler(config.max_concurrent_calls, self._launch)
        self._clock = clock
        self._apps = itertools.count()
        self._reaper: asyncio.Task[None] | None = None
        self._draining = False
        self.memory = MemoryReturner()
        self._reads: set[asyncio.Task[list[tuple[str, dict[str, Any]]]]] = set()  # fetches waiting on the store
        self.metrics = metrics
        self.dataflow_metrics = DataflowMetrics(metrics.registry) if metrics is not None else None
        self.models = models  # public model and route names calls may use; None: any
        # Replicas sharing the store forward changes to a session's owner; alone, nothing to forward.
        self.remote = Forwarding(self, store) if store.shared else None
        if metrics is not None:
            metrics.observe_dataflow(sessions=lambda: len(self.sessions), running=lambda: self.scheduler.running,
                                     queued=lambda: len(self.scheduler))

    async def start(self) -> None:
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever())
        if self.remote is not None:
            await self.remote.start()

    async def drain(self) -> None:
        """The server is stopping: answer every waiting fetch and stream now (503
        `shutting_down`), and any that arrive from now on, instead of holding the
        exit until they time out. Sessions end later, in stop()."""
        self._draining = True
        for read in list(self._reads):
            read.cancel()

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for session in list(self.sessions.values()):
            await self.end(session)
        if self.remote is not None:
            await self.remote.stop()
        await self.memory.close()

    # ---- sessions ------------------------------------------------------------

    async def create_session(self, tenant: str, ttl_s: float | None) -> Session:
        ttl = min(ttl_s or self.config.session_ttl_s, self.config.session_ttl_s)
        sid = "sess_" + os.urandom(12).hex()
        state = SessionState(self.store, tenant, sid, ttl)
        session = Session(sid, tenant, next(self._apps), Graph(self.limits), state, int(time.time()), self._clock())
        record: dict[str, Any] = {"id": sid, "created": session.created, "ttl_s": ttl}
        if self.remote is not None:
            record["owner"] = self.remote.replica_id
        await state.create(record)
        self.sessions[session.key] = session
        if self.remote is not None:
            self.remote.watch(session)  # its inbox joins the replica's one inbox reader
        return session

    async def _local(self, tenant: str, sid: str) -> Session | None:
        """The session if this replica runs it, marked as used."""
        session = self.sessions.get((tenant, sid))
        if session is not None:
            session.last_used = self._clock()
            await session.state.touch()
        return session

    async def target(self, tenant: str, sid: str) -> Session | Remote:
        """The session to change: run here, or (shared store) by another replica; NotFound otherwise."""
        session = await self._local(tenant, sid)
        if session is not None:
            return session
        if self.remote is not None:
            state = SessionState(self.store, tenant, sid, self.config.session_ttl_s)
            record = await state.record()
            if record is not None:
                return Remote(sid, state, record.get("owner"))
        raise NotFound(f"session {sid!r} does not exist")

    async def write(
        self, target: Session | Remote, op: str, body: writes.Body | None = None, params: writes.Params | None = None
    ) -> dict[str, Any]:
        """Apply a change (dataflow/writes.py) here, or have the session's replica apply it."""
        if isinstance(target, Session):
            return await writes.apply(self, target, op, body, params or {})
        assert self.remote is not None
        return await self.remote.forward(target, op, body, params or {})

    async def end(self, session: Session) -> None:
        """Stop the session's work and free it, here and in the store."""
        self.sessions.pop(session.key, None)
        if self.remote is not None:
            self.remote.unwatch(session)
        unfinished = [call for call in session.graph.calls.values() if call.status not in ENDED]
        await self._cancel(session, unfinished, "the session was deleted")
        await session.state.drop(list(session.graph.variables))
        self.memory.ended(len(session.graph.variables))

    def describe(self, session: Session, page: Page | None = None) -> dict[str, Any]:
        """One page of the session's description (dataflow/describe.py)."""
        return describe(session, page or Page())

    # ---- graphs ----------------------------------------------------------------

    def next_call_id(self, session: Session) -> str:
        return f"call-{next(session.calls)}"

    async def submit(
        self, session: Session, variables: list[tuple[str, str | None]], calls: list[Call], *, lazy: bool
    ) -> tuple[str, list[str]]:
        if self.models is not None:
            for call in calls:
                if call.model not in self.models:
                    raise GraphError(f"call {call.id!r}: model {call.model!r} does not exist")
        graph_id = f"graph_{next(session.graphs)}"
        created = session.graph.add(graph_id, variables, calls)
        await session.state.put([session.graph.variables[var_id] for var_id in created])
        if not lazy:
            for call in calls:
                for spec in call.outputs.values():
                    self.want(session, spec.var, Perf.THROUGHPUT)
        return graph_id, created

    async def cancel_graph(self, session: Session, graph_id: str) -> int:
        in_graph = session.graph.calls_of(graph_id)
        if not in_graph:
            raise NotFound(f"graph {graph_id!r} does not exist")
        calls = [call for call in in_graph if call.status not in ENDED]
        await self._cancel(session, calls, f"graph {graph_id!r} was cancelled")
        return len(calls)

    async def _cancel(self, session: Session, calls: list[Call], why: str) -> None:
        ended = []
        for call in calls:
            session.ready_at.pop(call.id, None)
            task = session.tasks.pop(call.id, None)
            if task is not None:
                task.cancel()
            ended += session.graph.fail(call, why, CallStatus.CANCELLED)
        await session.state.put(ended)  # in slices: thousands of calls may end here

    async def set_variable(self, session: Session, var_id: str, value: str) -> dict[str, Any]:
        var = session.graph.variables.get(var_id)
        if var is None:
            raise NotFound(f"variable {var_id!r} does not exist")
        try:
            session.graph.set_value(var_id, value)
        except Conflict as exc:
            raise StateConflict(str(exc)) from None
        await session.state.put([var])
        for call in session.graph.variable_set(var):
            self.enqueue(session, call)
        return variable_record(var)

    async def create_variable(self, session: Session, var_id: str, value: str | None) -> dict[str, Any]:
        await self.submit(session, [(var_id, value)], [], lazy=True)
        return variable_record(session.graph.variables[var_id])

    # ---- fetching ----------------------------------------------------------------

    async def fetch(self, tenant: str, sid: str, var_id: str, perf: Perf, timeout_s: float) -> dict[str, Any]:
        """The variable's final record, waiting up to timeout_s (FetchTimeout)."""
        async for _, event in await self.subscribe(tenant, sid, var_id, perf, timeout_s, final_only=True):
            if "status" in event:
                return event
        raise FetchTimeout(f"variable {var_id!r} is not ready after {timeout_s:g} s; the work goes on, fetch again")

    async def subscribe(
        self, tenant: str, sid: str, var_id: str, perf: Perf, timeout_s: float, after: str | None = None, *,
        final_only: bool = False,
    ) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
        """Check the variable exists (NotFound), start its work, and return its events:
        (cursor, {"delta"}) as tokens come, then (cursor, final record); (None, {"ping": True})
        every KEEPALIVE_S of silence. Ends early, without a final record, after timeout_s.
        `after` resumes from a cursor (SSE Last-Event-ID); `final_only` skips the deltas."""
        state, record = await self._lookup(tenant, sid, var_id)
        if after is not None:
            await _check_cursor(state, var_id, after)
        if not is_final(record):
            if self._draining:
                raise _shutting_down()  # (a final value is still answered: that takes no waiting)
            session = self.sessions.get((tenant, sid))
            if session is not None:
                self.want(session, var_id, perf)
            else:
                await state.demand(var_id, perf)
        deadline = time.monotonic() + min(timeout_s, self.config.max_wait_s)
        return self._follow(state, (tenant, sid), var_id, record, deadline, after, final_only)

    async def _follow(
        self, state: SessionState, key: tuple[str, str], var_id: str, record: dict[str, Any], deadline: float,
        cursor: str | None, final_only: bool,
    ) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
        if is_final(record) and cursor is None:
            yield None, record
            return
        while (remaining := deadline - time.monotonic()) > 0:
            items = await self._events(state, var_id, cursor, min(remaining, KEEPALIVE_S), final_only)
            if not items:
                if not await self._alive(*key, state):
                    raise Cancelled(f"session {key[1]!r} was deleted")
                if deadline - time.monotonic() > 0:
                    yield None, {"ping": True}
            for position, event in items:
                cursor = position
                yield position, event
                if "status" in event:
                    return

    async def _events(
        self, state: SessionState, var_id: str, cursor: str | None, wait_s: float, final_only: bool
    ) -> list[tuple[str, dict[str, Any]]]:
        """One wait for the variable's next events, cut short by drain()."""
        if self._draining:
            raise _shutting_down()
        read = asyncio.ensure_future(state.events(var_id, cursor, wait_s, final_only=final_only))
        self._reads.add(read)
        try:
            return await read
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if read.cancelled() and self._draining and (current is None or not current.cancelling()):
                raise _shutting_down() from None  # drain() cancelled the read, not the request
            raise
        finally:
            self._reads.discard(read)

    async def _lookup(self, tenant: str, sid: str, var_id: str) -> tuple[SessionState, dict[str, Any]]:
        session = await self._local(tenant, sid)
        if session is not None:
            var = session.graph.variables.get(var_id)
            if var is None:
                raise NotFound(f"variable {var_id!r} does not exist in session {sid!r}")
            return session.state, variable_record(var)
        remote = await self.target(tenant, sid)
        assert isinstance(remote, Remote)
        record = await remote.state.variable(var_id)
        if record is None:
            raise NotFound(f"variable {var_id!r} does not exist in session {sid!r}")
        if not is_final(record) and not await owner_alive(self.store, remote.owner):
            raise owner_gone(sid)  # nobody will ever finish it
        return remote.state, record

    async def _alive(self, tenant: str, sid: str, state: SessionState) -> bool:
        """Whether the session still exists; raises OwnerUnavailable when its replica is gone."""
        if (tenant, sid) in self.sessions:
            return True
        record = await state.record() if self.remote is not None else None
        if record is None:
            return False
        if not await owner_alive(self.store, record.get("owner")):
            raise owner_gone(sid)
        return True

    # ---- running -------------------------------------------------------------------

    def want(self, session: Session, var_id: str, perf: Perf) -> None:
        for call in session.graph.demand(var_id, perf):
            self.enqueue(session, call)

    def enqueue(self, session: Session, call: Call) -> None:
        session.ready_at.setdefault(call.id, time.monotonic())
        prefix = call.template.prefix(session.graph.input_values(call), self.config.prefix_chars)
        self.scheduler.enqueue(session, session.app, prefix, call)

    def _launch(self, session: Session, call: Call) -> None:
        ready_at = session.ready_at.pop(call.id, None)
        if self.dataflow_metrics is not None and ready_at is not None:
            self.dataflow_metrics.call_launched(time.monotonic() - ready_at)
        session.graph.start(call)
        session.tasks[call.id] = asyncio.create_task(self._run(session, call))

    async def _run(self, session: Session, call: Call) -> None:
        values = session.graph.input_values(call)
        launched = time.monotonic()
        try:
            async with asyncio.timeout(self.config.call_timeout_s):
                await run_call(call, values, self.completer, _Sink(self, session), tenant=session.tenant,
                               request_id=f"{session.id[5:]}-{os.urandom(4).hex()}",
                               max_prompt_chars=self.config.max_prompt_chars)
            session.graph.finish(call)
        except CallError as exc:
            await self._fail(session, call, f"call {call.id!r} failed: {exc.message}")
        except TimeoutError:
            await self._fail(session, call, f"call {call.id!r} did not finish within {self.config.call_timeout_s:g} s")
        except asyncio.CancelledError:
            raise  # cancelled by _cancel, which records why
        except Exception:
            log.exception("dataflow call %s failed", call.id)
            await self._fail(session, call, f"call {call.id!r} failed: internal gateway error")
        finally:
            session.tasks.pop(call.id, None)
            session.last_used = self._clock()
            self.scheduler.release()
            status = call.status.value if call.status in ENDED else "cancelled"
            if self.metrics is not None:
                self.metrics.dataflow_call(status)
            if self.dataflow_metrics is not None:
                self.dataflow_metrics.call_ended(status, time.monotonic() - launched)

    async def _fail(self, session: Session, call: Call, why: str) -> None:
        await session.state.put(session.graph.fail(call, why))

    # ---- expiry ----------------------------------------------------------------------

    async def _reap_forever(self) -> None:
        interval = min(30.0, self.config.session_ttl_s / 4)
        while True:
            await asyncio.sleep(interval)
            await self.reap()

    async def reap(self) -> int:
        """End sessions idle (nothing running, nothing fetched) for longer than their TTL."""
        now = self._clock()
        idle = [s for s in self.sessions.values() if now - s.last_used > s.state.ttl_s and not _busy(s)]
        for session in idle:
            await self.end(session)
        return len(idle)


def _shutting_down() -> ShuttingDown:
    return ShuttingDown("the gateway is shutting down; fetch again (another replica, or this one once restarted)")


async def _check_cursor(state: SessionState, var_id: str, cursor: str) -> None:
    """Whether the store takes the cursor (a Last-Event-ID), before the stream's 200 goes out."""
    try:
        await state.events(var_id, cursor, 0)
    except ValueError:
        raise BadRequest(f"Last-Event-ID {cursor!r} is not an id of this stream's events",
                         param="Last-Event-ID") from None


def _busy(session: Session) -> bool:
    return bool(session.tasks) or any(call.status is CallStatus.READY for call in session.graph.calls.values())


class _Sink:
    """Where a running call reports its outputs: graph, store, then consumers."""

    __slots__ = ("executor", "session")

    def __init__(self, executor: Executor, session: Session) -> None:
        self.executor = executor
        self.session = session

    async def delta(self, var_id: str, text: str) -> None:
        await self.session.state.delta(var_id, text)

    async def ready(self, var_id: str, value: str) -> None:
        graph = self.session.graph
        unblocked = graph.output_ready(var_id, value)
        await self.session.state.put([graph.variables[var_id]])
        for call in unblocked:
            self.executor.enqueue(self.session, call)

