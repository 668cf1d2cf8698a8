"""The client's half of one gateway session: buffered graph, submissions, fetches.

Everything here runs on the Workflow's home event loop (runner.py), so it is
written once, as plain async code, for async and sync callers alike. The
Workflow records calls into `buffer` (under `mutex`, from any thread); a
flush sends the buffer as one graph, creating the session in the same
request the first time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx

from dataflow.sdk.errors import (
    APIConnectionError,
    APIError,
    Cancelled,
    DataflowError,
    VariableTimeout,
    error_from_body,
)
from dataflow.sdk.graph import GraphBuffer
from dataflow.sdk.http import DataflowHTTP
from dataflow.sdk.variable import Perf, SemanticVariable

State = Literal["open", "cancelled", "closed"]


class Session:
    def __init__(self, base_url: str, api_key: str | None, timeout: float,
                 transport: httpx.AsyncBaseTransport | None, ttl_s: float | None) -> None:
        self._config = (base_url, api_key, timeout, transport)
        self.ttl_s = ttl_s
        self.mutex = threading.Lock()  # guards buffer and state; calls are recorded from any thread
        self.buffer = GraphBuffer()
        self.state: State = "open"
        self.id: str | None = None  # the gateway's session id, after the first flush
        self.graphs: list[str] = []  # receipt ids, in submission order
        self._http: DataflowHTTP | None = None
        self._lock: asyncio.Lock | None = None  # one submission at a time, in order

    def rebind(self) -> None:
        """A new home loop: the old client's connections belong to a loop that is gone."""
        self._http, self._lock = None, None

    @property
    def http(self) -> DataflowHTTP:
        if self._http is None:
            self._http = DataflowHTTP(*self._config)
        return self._http

    @property
    def has_client(self) -> bool:
        return self._http is not None

    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    # ---- submitting -----------------------------------------------------------

    async def flush(self, lazy: bool) -> dict[str, Any] | None:
        """Send everything buffered as one graph; its receipt, or None if there was nothing."""
        # Shielded: a fetch cancelled (or timed out) mid-submission must not
        # leave it unknown whether the gateway holds the graph.
        task = asyncio.ensure_future(self._flush_locked(lazy))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)

    async def _flush_locked(self, lazy: bool) -> dict[str, Any] | None:
        async with self.lock():
            with self.mutex:
                taken = self.buffer.take()
                body = taken.to_json(lazy)
            if not taken:
                return None
            try:
                if self.id is None:
                    reply = await self.http.create_session(body, self.ttl_s)
                    self.id, receipt = reply["id"], reply.get("graph") or {}
                else:
                    receipt = await self.http.submit_graph(self.id, body)
            except APIConnectionError as exc:
                if not exc.sent:  # never reached the gateway: keep it for the next try
                    with self.mutex:
                        self.buffer.put_back(taken)
                    raise
                _poison(taken, exc)
                raise
            except BaseException as exc:
                _poison(taken, exc)
                raise
            for var in taken.members():
                var._submitted = True
            if receipt.get("id"):
                self.graphs.append(receipt["id"])
            return receipt

    async def set(self, var: SemanticVariable, value: str) -> None:
        if var.producer is not None:
            raise DataflowError(f"variable {var.id!r} is produced by call {var.producer!r}; it cannot be set")
        async with self.lock():  # not while its graph is being sent: the value could miss the request
            if var._error is not None:
                raise var._error
            if var._value is not None:
                raise DataflowError(f"variable {var.id!r} already has a value")
            if var._submitted:
                assert self.id is not None
                await self.http.set_variable(self.id, var.id, value)
            var._value = value  # if still buffered, it travels with its graph

    # ---- fetching ------------------------------------------------------------------

    async def fetch(self, var: SemanticVariable, perf: Perf, timeout: float | None) -> str:
        if var._error is not None:
            raise var._error
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await asyncio.wait_for(self.flush(lazy=True), timeout)
        except TimeoutError:
            raise VariableTimeout(var.id, timeout or 0.0) from None
        if var._value is not None:
            return var._value
        self._check_not_cancelled(var)
        remaining = None if timeout is None else max(0.0, timeout - (loop.time() - started))
        assert self.id is not None
        try:
            value = await self.http.get_variable(self.id, var.id, perf, remaining)
        except VariableTimeout:
            raise VariableTimeout(var.id, timeout or 0.0) from None
        except APIError as exc:
            self._check_not_cancelled(var, exc)
            raise
        var._value = value
        return value

    async def stream(self, var: SemanticVariable, perf: Perf) -> AsyncIterator[str]:
        """The value's pieces as generated; they always concatenate to the value."""
        if var._error is not None:
            raise var._error
        await self.flush(lazy=True)
        if var._value is not None:
            yield var._value
            return
        emitted = 0  # characters yielded so far, across reconnections
        while True:  # the gateway ends a stream after max_wait_s; reconnect and skip what was sent
            self._check_not_cancelled(var)
            assert self.id is not None
            position = 0
            try:
                async with contextlib.aclosing(self.http.stream_variable(self.id, var.id, perf)) as events:
                    async for event in events:
                        if "delta" in event:
                            delta = str(event["delta"])
                            position += len(delta)
                            if position > emitted:
                                piece = delta[len(delta) - (position - emitted):]
                                emitted = position
                                yield piece
                        elif "error" in event:
                            error = error_from_body(None, event)
                            if error.code != "timeout":
                                raise error
                            break
                        elif event.get("status") == "ready":
                            var._value = value = str(event["value"])
                            if len(value) > emitted:  # e.g. it was ready before the stream began
                                yield value[emitted:]
                            return
                    else:
                        raise DataflowError(f"the stream of variable {var.id!r} ended without its value")
            except APIError as exc:
                if exc.status != 408:
                    self._check_not_cancelled(var, exc)
                    raise

    def _check_not_cancelled(self, var: SemanticVariable, cause: APIError | None = None) -> None:
        # After cancel() the session is gone, so the gateway can only answer 404.
        if self.state == "cancelled" and (cause is None or cause.status == 404):
            raise Cancelled(409, "cancelled", f"variable {var.id!r}: the workflow was cancelled") from cause

    # ---- ending ----------------------------------------------------------------------

    async def cancel(self) -> None:
        async with self.lock():  # a session being created right now must be deleted too
            with self.mutex:
                self.state = "cancelled"
                self.buffer.take()
            if self.id is not None:
                with contextlib.suppress(APIError):  # 404: it expired already
                    await self.http.delete_session(self.id)

    async def shutdown(self) -> None:
        try:
            if self.state == "open" and self.id is not None:
                with contextlib.suppress(DataflowError):
                    await self.http.delete_session(self.id)
        finally:
            self.state = "closed"
            if self._http is not None:
                await self._http.aclose()
                self._http = None


def _poison(taken: GraphBuffer, exc: BaseException) -> None:
    """The gateway refused (or may not have received) these: fetching them re-raises why."""
    for var in taken.members():
        var._error = exc
