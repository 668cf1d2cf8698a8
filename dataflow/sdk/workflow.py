"""The Workflow: declare semantic functions, call them, fetch their outputs.

Declaring and calling do no I/O: calls are recorded in the session's buffer
and return variables at once, so a map-reduce or an agent loop is built in
plain Python before anything is sent. A fetch sends the buffer as one graph
and waits for the value. All requests run on one event loop (runner.py),
which is how the same code serves `await var.get()` and `var.result()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, overload

import httpx

from dataflow.sdk.errors import Cancelled, DataflowError
from dataflow.sdk.function import SemanticFunction
from dataflow.sdk.graph import CallRecord
from dataflow.sdk.http import normalize_base_url
from dataflow.sdk.ids import IdAllocator
from dataflow.sdk.runner import LoopRunner
from dataflow.sdk.session import Session
from dataflow.sdk.signature import FunctionSpec, parse_function
from dataflow.sdk.variable import Perf, SemanticVariable

PERFS = ("latency", "throughput")


class Workflow:
    """A client of the gateway's dataflow API, owning one session.

    `base_url` is the gateway's root (a trailing `/v1` is accepted and
    dropped); `api_key` is sent as a bearer token and decides the tenant;
    `timeout` bounds each ordinary request (fetches wait as long as their own
    `timeout` says); `transport` replaces httpx's network transport (tests,
    simulated latency); `ttl_s` asks the gateway to free the session sooner.

    Closing it (`aclose()`, `close()`, leaving a `with` block) frees the
    session on the gateway; `cancel()` also stops whatever is still running.
    """

    def __init__(self, base_url: str = "http://localhost:8080", api_key: str | None = None, *,
                 timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
                 ttl_s: float | None = None) -> None:
        self.base_url = normalize_base_url(base_url)
        self._ids = IdAllocator()
        self._session = Session(self.base_url, api_key, timeout, transport, ttl_s)
        self._runner = LoopRunner(self._session.rebind)

    @property
    def session_id(self) -> str | None:
        """The gateway's id for this Workflow's session, once the first graph has been sent."""
        return self._session.id

    # ---- declaring ---------------------------------------------------------------

    @overload
    def function(self, fn: Callable[..., Any], /) -> SemanticFunction: ...
    @overload
    def function(self, *, model: str = "auto", **params: Any) -> Callable[[Callable[..., Any]], SemanticFunction]: ...

    def function(self, fn: Callable[..., Any] | None = None, /, *, model: str = "auto",
                 **params: Any) -> SemanticFunction | Callable[[Callable[..., Any]], SemanticFunction]:
        """Decorator: the function's docstring is the template, its annotations
        name inputs and outputs; extra keywords (seed=1, ...) become every call's `params`."""
        def decorate(f: Callable[..., Any]) -> SemanticFunction:
            return SemanticFunction(self, f, parse_function(f, model, params))
        return decorate(fn) if fn is not None else decorate

    def variable(self, id: str | None = None, value: str | None = None) -> SemanticVariable:
        """A client-side variable: a constant, or an empty slot to `set()` later."""
        if value is not None and not isinstance(value, str):
            raise TypeError(f"a variable's value must be a str, got {type(value).__name__}")
        with self._session.mutex:
            self._check_open()
            ident = self._ids.new("var") if id is None else self._ids.claim(id)
            var = SemanticVariable(self, ident, value=value)
            self._session.buffer.variables.append(var)
        return var

    def _record_call(self, spec: FunctionSpec, arguments: dict[str, Any]) -> list[SemanticVariable]:
        """Buffer one call (SemanticFunction.__call__); its outputs, in declaration order."""
        with self._session.mutex:
            self._check_open()
            constants: list[SemanticVariable] = []
            inputs = {name: self._bind(spec, name, arguments[name], constants) for name in spec.inputs}
            call_id = self._ids.new(spec.name)
            outputs = {name: SemanticVariable(self, self._ids.new(name), producer=call_id) for name, _ in spec.outputs}
            self._session.buffer.variables.extend(constants)
            self._session.buffer.calls.append(CallRecord(call_id, spec, inputs, outputs))
        return list(outputs.values())

    def _bind(self, spec: FunctionSpec, name: str, value: Any, constants: list[SemanticVariable]) -> str | list[str]:
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"{spec.name}(): input {name!r} is an empty list")
            return [self._bind_one(spec, name, item, constants) for item in value]
        return self._bind_one(spec, name, value, constants)

    def _bind_one(self, spec: FunctionSpec, name: str, value: Any, constants: list[SemanticVariable]) -> str:
        if isinstance(value, str):  # a constant: a variable with a value, sent with the graph
            var = SemanticVariable(self, self._ids.new(name), value=value)
            constants.append(var)
            return var.id
        if isinstance(value, SemanticVariable):
            self._own(value)
            if value._error is not None:
                raise DataflowError(f"{spec.name}(): input {value.id!r} is unusable: {value._error}") from value._error
            return value.id
        raise TypeError(f"{spec.name}(): input {name!r} must be a str, a SemanticVariable or a list of them, "
                        f"got {type(value).__name__}")

    def _pending_graph(self, lazy: bool = True) -> dict[str, Any]:
        """The graph the next flush would submit (no I/O, nothing changes); for tests and debugging."""
        with self._session.mutex:
            return self._session.buffer.to_json(lazy)

    # ---- I/O ---------------------------------------------------------------------------

    async def submit(self, lazy: bool = False) -> dict[str, Any] | None:
        """Send everything buffered now; with `lazy=False` the gateway starts it
        at once (as throughput work) instead of on the first fetch.
        The gateway's receipt, or None if nothing was buffered."""
        self._check_open()
        return await self._runner.run(lambda: self._session.flush(lazy))

    async def set(self, var: SemanticVariable, value: str) -> None:
        """Give an empty client-side variable its value; calls waiting for it start."""
        self._check_open(var)
        if not isinstance(value, str):
            raise TypeError(f"a variable's value must be a str, got {type(value).__name__}")
        await self._runner.run(lambda: self._session.set(var, value))

    async def cancel(self) -> None:
        """Stop everything and free the session; new calls are refused after."""
        if self._session.state == "open":
            await self._runner.run(self._session.cancel)

    async def aclose(self) -> None:
        """Free the session on the gateway (its results are gone) and close connections. Idempotent."""
        if self._session.state == "closed":
            return
        try:
            await self._runner.run(self._session.shutdown)
        finally:
            self._session.state = "closed"
            self._runner.stop()

    def close(self) -> None:
        """`aclose()` for synchronous code."""
        if self._session.state == "closed":
            return
        try:
            if self._session.id is not None or self._session.has_client:
                self._runner.run_sync(self._session.shutdown)
        finally:
            self._session.state = "closed"
            self._runner.stop()

    async def __aenter__(self) -> Workflow:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> Workflow:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- what SemanticVariable calls ---------------------------------------------------

    async def _fetch(self, var: SemanticVariable, perf: Perf, timeout: float | None) -> str:
        self._check_fetch(var, perf)
        return await self._runner.run(lambda: self._session.fetch(var, perf, timeout))

    def _fetch_sync(self, var: SemanticVariable, perf: Perf, timeout: float | None) -> str:
        self._check_fetch(var, perf)
        return self._runner.run_sync(lambda: self._session.fetch(var, perf, timeout))

    def _stream(self, var: SemanticVariable, perf: Perf) -> AsyncIterator[str]:
        self._check_fetch(var, perf)
        return self._runner.iterate(lambda: self._session.stream(var, perf))

    def _stream_sync(self, var: SemanticVariable, perf: Perf) -> Iterator[str]:
        self._check_fetch(var, perf)
        return self._runner.iterate_sync(lambda: self._session.stream(var, perf))

    # ---- checks -------------------------------------------------------------------

    def _own(self, var: SemanticVariable) -> None:
        if not isinstance(var, SemanticVariable):
            raise TypeError(f"expected a SemanticVariable, got {type(var).__name__}")
        if var.workflow is not self:
            raise ValueError(f"variable {var.id!r} belongs to another Workflow")

    def _check_fetch(self, var: SemanticVariable, perf: str) -> None:
        self._own(var)
        if perf not in PERFS:
            raise ValueError(f"perf must be 'latency' or 'throughput', got {perf!r}")
        if self._session.state == "closed":
            raise DataflowError("this Workflow is closed")

    def _check_open(self, var: SemanticVariable | None = None) -> None:
        if var is not None:
            self._own(var)
        if self._session.state == "closed":
            raise DataflowError("this Workflow is closed")
        if self._session.state == "cancelled":
            raise Cancelled(409, "cancelled", "this Workflow was cancelled; start a new one")

    def __repr__(self) -> str:
        return f"<Workflow {self.base_url} session={self._session.id!r} {self._session.state}>"
