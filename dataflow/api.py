"""The dataflow HTTP API (`/dataflow/v1`, docs/dataflow.md) on the gateway's FastAPI app.

Request bodies are pydantic models that forbid unknown fields: a typo in a
graph is a 400 naming the field, not a silently ignored option.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from dataflow.errors import CallFailed, Cancelled, FetchTimeout, InvalidGraph
from dataflow.executor import Executor, Session
from dataflow.graph import Call, GraphError, OutputSpec, Perf, VarStatus
from dataflow.runner import RESERVED_PARAMS
from dataflow.template import Template
from gateway.errors import BadRequest, GatewayError, InvalidJSON, PayloadTooLarge
from gateway.protocol import validate
from gateway.tenancy import tenant_of

PREFIX = "/dataflow/v1"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutputBody(_Body):
    id: str
    max_tokens: Annotated[int, Field(gt=0)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    stop: list[str] | None = None


class CallBody(_Body):
    id: str | None = None
    model: str = Field(min_length=1)
    template: str
    inputs: dict[str, str | list[str]] = {}
    outputs: dict[str, OutputBody]
    params: dict[str, Any] = {}


class VariableBody(_Body):
    id: str
    value: str | None = None


class GraphBody(_Body):
    variables: list[VariableBody] = []
    calls: list[CallBody] = []
    lazy: bool = True


class SessionBody(_Body):
    ttl_s: Annotated[float, Field(gt=0)] | None = None
    graph: GraphBody | None = None


class ValueBody(_Body):
    value: str


def build_router(executor: Executor, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    async def body_of(request: Request, schema: type[_Body]) -> Any:
        raw = await request.body()
        if len(raw) > max_body_bytes:
            raise PayloadTooLarge(f"request body is {len(raw)} bytes; the limit is {max_body_bytes}")
        try:
            data = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"request body is not valid JSON: {exc}") from None
        return validate(schema, data)

    async def owned(request: Request, sid: str) -> Session:
        return await executor.owned(tenant_of(request.scope), sid)

    async def submit(session: Session, body: GraphBody) -> dict[str, Any]:
        variables = [(v.id, v.value) for v in body.variables]
        calls = [_call(executor, session, c) for c in body.calls]
        try:
            graph_id, created = await executor.submit(session, variables, calls, lazy=body.lazy)
        except GraphError as exc:
            raise InvalidGraph(str(exc)) from None
        return {"id": graph_id, "object": "dataflow.graph", "calls": [c.id for c in calls], "variables": created}

    @router.post("/sessions", status_code=201)
    async def create_session(request: Request) -> Response:
        body: SessionBody = await body_of(request, SessionBody)
        session = await executor.create_session(tenant_of(request.scope), body.ttl_s)
        answer: dict[str, Any] = {"id": session.id, "object": "dataflow.session", "created": session.created,
                                  "ttl_s": session.state.ttl_s}
        if body.graph is not None:
            try:
                answer["graph"] = await submit(session, body.graph)
            except GatewayError:
                await executor.delete_session(session.tenant, session.id)  # all or nothing
                raise
        return _json(answer, 201)

    @router.get("/sessions/{sid}")
    async def get_session(request: Request, sid: str) -> Response:
        return _json(executor.describe(await owned(request, sid)))

    @router.delete("/sessions/{sid}")
    async def delete_session(request: Request, sid: str) -> Response:
        await executor.delete_session(tenant_of(request.scope), sid)
        return _json({"id": sid, "object": "dataflow.session", "deleted": True})

    @router.post("/sessions/{sid}/graphs")
    async def post_graph(request: Request, sid: str) -> Response:
        session = await owned(request, sid)
        return _json(await submit(session, await body_of(request, GraphBody)), 201)

    @router.post("/sessions/{sid}/calls")
    async def post_call(request: Request, sid: str) -> Response:
        session = await owned(request, sid)
        call: CallBody = await body_of(request, CallBody)
        return _json(await submit(session, GraphBody(calls=[call])), 201)

    @router.delete("/sessions/{sid}/graphs/{gid}")
    async def cancel_graph(request: Request, sid: str, gid: str) -> Response:
        cancelled = await executor.cancel_graph(await owned(request, sid), gid)
        return _json({"id": gid, "object": "dataflow.graph", "cancelled": cancelled})

    @router.post("/sessions/{sid}/variables")
    async def create_variable(request: Request, sid: str) -> Response:
        session = await owned(request, sid)
        body: VariableBody = await body_of(request, VariableBody)
        try:
            record = await executor.create_variable(session, body.id, body.value)
        except GraphError as exc:
            raise InvalidGraph(str(exc)) from None
        return _json(_variable(record), 201)

    @router.put("/sessions/{sid}/variables/{vid}")
    async def set_variable(request: Request, sid: str, vid: str) -> Response:
        session = await owned(request, sid)
        body: ValueBody = await body_of(request, ValueBody)
        try:
            record = await executor.set_variable(session, vid, body.value)
        except GraphError as exc:
            raise InvalidGraph(str(exc)) from None
        return _json(_variable(record))

    @router.get("/sessions/{sid}/variables/{vid}")
    async def fetch(request: Request, sid: str, vid: str) -> Response:
        perf, timeout = _fetch_params(request, executor)
        record = await executor.fetch(tenant_of(request.scope), sid, vid, perf, timeout)
        return _json(_final(record))

    @router.get("/sessions/{sid}/variables/{vid}/stream")
    async def stream(request: Request, sid: str, vid: str) -> Response:
        perf, timeout = _fetch_params(request, executor)
        after = request.headers.get("last-event-id") or None
        events = await executor.subscribe(tenant_of(request.scope), sid, vid, perf, timeout, after)
        return StreamingResponse(_sse(events), media_type="text/event-stream", headers={"cache-control": "no-cache"})

    return router


def mount(api: FastAPI, executor: Executor, max_body_bytes: int) -> None:
    api.include_router(build_router(executor, max_body_bytes))


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


def _fetch_params(request: Request, executor: Executor) -> tuple[Perf, float]:
    query = request.query_params
    try:
        perf = Perf(query.get("perf", "latency"))
    except ValueError:
        raise BadRequest("perf must be 'latency' or 'throughput'", param="perf") from None
    try:
        timeout = float(query.get("timeout", executor.config.max_wait_s))
    except ValueError:
        raise BadRequest("timeout must be a number of seconds", param="timeout") from None
    if not 0 <= timeout:
        raise BadRequest("timeout must not be negative", param="timeout")
    return perf, min(timeout, executor.config.max_wait_s)


def _variable(record: dict[str, Any]) -> dict[str, Any]:
    return {"object": "dataflow.variable", **record}


def _final(record: dict[str, Any]) -> dict[str, Any]:
    """A final record as the fetch's answer: the value, or the error it stands for."""
    status = record["status"]
    if status == VarStatus.READY:
        return _variable(record)
    if status == VarStatus.CANCELLED:
        raise Cancelled(f"variable {record['id']!r} was cancelled: {record.get('error')}")
    raise CallFailed(f"variable {record['id']!r} failed: {record.get('error')}")


async def _sse(events: AsyncIterator[tuple[str | None, dict[str, Any]]]) -> AsyncIterator[bytes]:
    """Events as SSE; each carries its cursor as `id:` so a client can resume with Last-Event-ID."""
    async for cursor, event in events:
        head = b"id: %s\n" % cursor.encode() if cursor is not None else b""
        if "ping" in event:
            yield b": ping\n\n"
            continue
        if "status" in event:
            try:
                yield head + b"data: " + orjson.dumps(_final(event)) + b"\n\n"
            except GatewayError as exc:
                yield head + b"data: " + exc.body() + b"\n\n"
            break
        yield head + b"data: " + orjson.dumps(event) + b"\n\n"
    else:
        yield b"data: " + FetchTimeout("the variable did not become final in time; fetch again").body() + b"\n\n"
    yield b"data: [DONE]\n\n"


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
