"""The changes a client makes to a session, applied by the replica that runs it.

Every write of the HTTP API (submit a graph or a call, create or set a
variable, cancel a graph, delete the session) and the session's description
is an *operation*: a name, a validated body and path parameters. The replica
that runs the session applies it here; any other replica sharing the store
forwards the same operation to it (dataflow/remote.py), which applies it
here too — one code path, so the answers (and the errors) are the same
whichever replica the load balancer picked.

Request bodies are pydantic models that forbid unknown fields: a typo in a
graph is a 400 naming the field, not a silently ignored option.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from dataflow.describe import Page
from dataflow.errors import InvalidGraph
from dataflow.graph import Call, GraphError, OutputSpec
from dataflow.runner import RESERVED_PARAMS
from dataflow.template import Template
from gateway.errors import BadRequest
from gateway.protocol import validate

if TYPE_CHECKING:
    from dataflow.executor import Executor, Session


class Body(BaseModel):
    # strict: `"lazy": 0` or `"ttl_s": "60"` is a 400 naming the field, as the documented schema says.
    model_config = ConfigDict(extra="forbid", strict=True)


class OutputBody(Body):
    id: str
    max_tokens: Annotated[int, Field(gt=0)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    stop: list[str] | None = None


class CallBody(Body):
    id: str | None = None
    model: str = Field(min_length=1)
    template: str
    inputs: dict[str, str | list[str]] = {}
    outputs: dict[str, OutputBody]
    params: dict[str, Any] = {}


class VariableBody(Body):
    id: str
    value: str | None = None


class GraphBody(Body):
    variables: list[VariableBody] = []
    calls: list[CallBody] = []
    lazy: bool = True


class SessionBody(Body):
    ttl_s: Annotated[float, Field(gt=0)] | None = None
    graph: GraphBody | None = None


class ValueBody(Body):
    value: str


Params = dict[str, str]
Handler = Callable[["Executor", "Session", Any, Params], Awaitable[dict[str, Any]]]


async def submit(executor: Executor, session: Session, body: GraphBody, params: Params | None = None) -> dict[str, Any]:
    variables = [(v.id, v.value) for v in body.variables]
    calls = [_call(executor, session, c) for c in body.calls]
    try:
        graph_id, created = await executor.submit(session, variables, calls, lazy=body.lazy)
    except GraphError as exc:
        raise InvalidGraph(str(exc)) from None
    if executor.dataflow_metrics is not None:
        executor.dataflow_metrics.graph(len(calls))
    return {"id": graph_id, "object": "dataflow.graph", "calls": [c.id for c in calls], "variables": created}


async def _post_call(executor: Executor, session: Session, body: CallBody, params: Params) -> dict[str, Any]:
    return await submit(executor, session, GraphBody(calls=[body]))


async def _create_variable(executor: Executor, session: Session, body: VariableBody, params: Params) -> dict[str, Any]:
    try:
        record = await executor.create_variable(session, body.id, body.value)
    except GraphError as exc:
        raise InvalidGraph(str(exc)) from None
    return variable(record)


async def _set_variable(executor: Executor, session: Session, body: ValueBody, params: Params) -> dict[str, Any]:
    try:
        record = await executor.set_variable(session, params["vid"], body.value)
    except GraphError as exc:
        raise InvalidGraph(str(exc)) from None
    return variable(record)


async def _cancel_graph(executor: Executor, session: Session, body: None, params: Params) -> dict[str, Any]:
    cancelled = await executor.cancel_graph(session, params["gid"])
    return {"id": params["gid"], "object": "dataflow.graph", "cancelled": cancelled}


async def _delete(executor: Executor, session: Session, body: None, params: Params) -> dict[str, Any]:
    await executor.end(session)
    return {"id": session.id, "object": "dataflow.session", "deleted": True}


async def _describe(executor: Executor, session: Session, body: None, params: Params) -> dict[str, Any]:
    return executor.describe(session, Page.parse(params.get("limit"), params.get("after")))


# name -> (body schema or None, handler)
OPERATIONS: dict[str, tuple[type[Body] | None, Handler]] = {
    "graph": (GraphBody, submit),
    "call": (CallBody, _post_call),
    "variable": (VariableBody, _create_variable),
    "set": (ValueBody, _set_variable),
    "cancel": (None, _cancel_graph),
    "delete": (None, _delete),
    "describe": (None, _describe),
}


async def apply(executor: Executor, session: Session, op: str, body: Body | None, params: Params) -> dict[str, Any]:
    """Apply one operation to a session this replica runs; its answer, or a GatewayError."""
    _, handler = OPERATIONS[op]
    return await handler(executor, session, body, params)


def encode_body(body: Body | None) -> dict[str, Any] | None:
    return None if body is None else body.model_dump(exclude_unset=True)


def decode_body(op: str, data: dict[str, Any] | None) -> Body | None:
    """A forwarded body, validated again (the owner trusts nothing it reads from the store)."""
    schema, _ = OPERATIONS[op]
    if schema is None:
        return None
    return validate(schema, data or {})  # type: ignore[return-value]


def _call(executor: Executor, session: Session, body: CallBody) -> Call:
    reserved = sorted(RESERVED_PARAMS.intersection(body.params))
    if reserved:
        raise BadRequest(f"call params may not set {', '.join(reserved)}; the call defines them", param="params")
    outputs = {
        name: OutputSpec(o.id, o.max_tokens, o.temperature, o.top_p, o.stop) for name, o in body.outputs.items()
    }
    inputs = {name: (ref,) if isinstance(ref, str) else tuple(ref) for name, ref in body.inputs.items()}
    call_id = body.id or executor.next_call_id(session)
    return Call(call_id, body.model, Template.parse(body.template), inputs, outputs, dict(body.params))


def variable(record: dict[str, Any]) -> dict[str, Any]:
    return {"object": "dataflow.variable", **record}
