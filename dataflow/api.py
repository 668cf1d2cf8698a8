"""The dataflow HTTP API (`/dataflow/v1`, docs/dataflow.md) on the gateway's FastAPI app.

A handler finds the session (run here, or by another replica sharing the
store), validates the body, and hands the change to the executor, which
applies it here or forwards it to the session's replica (dataflow/writes.py,
dataflow/remote.py): any replica answers any request the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from dataflow import params
from dataflow.describe import Page
from dataflow.errors import CallFailed, Cancelled, FetchTimeout
from dataflow.executor import Executor, Session
from dataflow.graph import Perf, VarStatus
from dataflow.remote import Remote
from dataflow.writes import Body, CallBody, GraphBody, SessionBody, ValueBody, VariableBody, submit, variable
from gateway.errors import GatewayError, InvalidJSON
from gateway.protocol import validate
from gateway.tenancy import tenant_of

PREFIX = "/dataflow/v1"


def build_router(executor: Executor) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    async def body_of(request: Request, schema: type[Body]) -> Any:
        # Bounded before it is read: the gateway limits every body it hands FastAPI (gateway/asgi.py).
        raw = await request.body()
        try:
            data = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"request body is not valid JSON: {exc}") from None
        return validate(schema, data)

    async def target(request: Request, sid: str) -> Session | Remote:
        return await executor.target(tenant_of(request.scope), params.session_id(sid))

    @router.post("/sessions", status_code=201)
    async def create_session(request: Request) -> Response:
        body: SessionBody = await body_of(request, SessionBody)
        session = await executor.create_session(tenant_of(request.scope), body.ttl_s)
        answer: dict[str, Any] = {"id": session.id, "object": "dataflow.session", "created": session.created,
                                  "ttl_s": session.state.ttl_s}
        if body.graph is not None:
            try:
                answer["graph"] = await submit(executor, session, body.graph)
            except GatewayError:
                await executor.end(session)  # all or nothing
                raise
        return _json(answer, 201)

    @router.get("/sessions/{sid}")
    async def get_session(request: Request, sid: str) -> Response:
        query = request.query_params
        page = Page.parse(query.get("limit"), query.get("after"))  # a bad value is a 400 before any forwarding
        return _json(await executor.write(await target(request, sid), "describe", params=page.params()))

    @router.delete("/sessions/{sid}")
    async def delete_session(request: Request, sid: str) -> Response:
        return _json(await executor.write(await target(request, sid), "delete"))

    @router.post("/sessions/{sid}/graphs")
    async def post_graph(request: Request, sid: str) -> Response:
        session = await target(request, sid)
        return _json(await executor.write(session, "graph", await body_of(request, GraphBody)), 201)

    @router.post("/sessions/{sid}/calls")
    async def post_call(request: Request, sid: str) -> Response:
        session = await target(request, sid)
        return _json(await executor.write(session, "call", await body_of(request, CallBody)), 201)

    @router.delete("/sessions/{sid}/graphs/{gid}")
    async def cancel_graph(request: Request, sid: str, gid: str) -> Response:
        session = await target(request, sid)
        return _json(await executor.write(session, "cancel", params={"gid": params.graph_id(gid)}))

    @router.post("/sessions/{sid}/variables")
    async def create_variable(request: Request, sid: str) -> Response:
        session = await target(request, sid)
        return _json(await executor.write(session, "variable", await body_of(request, VariableBody)), 201)

    @router.put("/sessions/{sid}/variables/{vid}")
    async def set_variable(request: Request, sid: str, vid: str) -> Response:
        session = await target(request, sid)
        vid = params.variable_id(sid, vid)
        return _json(await executor.write(session, "set", await body_of(request, ValueBody), {"vid": vid}))

    @router.get("/sessions/{sid}/variables/{vid}")
    async def fetch(request: Request, sid: str, vid: str) -> Response:
        perf, timeout = _fetch_params(request, executor)
        vid = params.variable_id(params.session_id(sid), vid)
        record = await executor.fetch(tenant_of(request.scope), sid, vid, perf, timeout)
        return _json(_final(record))

    @router.get("/sessions/{sid}/variables/{vid}/stream")
    async def stream(request: Request, sid: str, vid: str) -> Response:
        perf, timeout = _fetch_params(request, executor)
        after = params.last_event_id(request.headers.get("last-event-id"))
        vid = params.variable_id(params.session_id(sid), vid)
        events = await executor.subscribe(tenant_of(request.scope), sid, vid, perf, timeout, after)
        return StreamingResponse(_sse(events), media_type="text/event-stream", headers={"cache-control": "no-cache"})

    return router


def mount(api: FastAPI, executor: Executor) -> None:
    api.include_router(build_router(executor))


def _fetch_params(request: Request, executor: Executor) -> tuple[Perf, float]:
    query = request.query_params
    return params.perf(query.get("perf")), params.timeout(query.get("timeout"), executor.config.max_wait_s)


def _final(record: dict[str, Any]) -> dict[str, Any]:
    """A final record as the fetch's answer: the value, or the error it stands for."""
    status = record["status"]
    if status == VarStatus.READY:
        return variable(record)
    if status == VarStatus.CANCELLED:
        raise Cancelled(f"variable {record['id']!r} was cancelled: {record.get('error')}")
    raise CallFailed(f"variable {record['id']!r} failed: {record.get('error')}")


async def _sse(events: AsyncIterator[tuple[str | None, dict[str, Any]]]) -> AsyncIterator[bytes]:
    """Events as SSE; each carries its cursor as `id:` so a client can resume with Last-Event-ID.

    Once the 200 is out, an error (the session deleted, the gateway shutting
    down) can only be reported in-band: an error event, then [DONE]."""
    try:
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
    except GatewayError as exc:
        yield b"data: " + exc.body() + b"\n\n"
    yield b"data: [DONE]\n\n"


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
