"""The OpenAPI document of the gateway's whole HTTP surface (`GET /openapi.json`).

FastAPI documents only what it can see: its own routes, and of those only
the bodies it parses. The proxied endpoints are raw ASGI handlers (proxy.py)
and dataflow reads raw bodies (dataflow/api.py), so this module builds the
rest from the same pydantic models that validate requests, and states the
gateway's one error rule: every failure is `{"error": {...}}` with the status
README lists (400, never FastAPI's 422), every reply carries x-request-id.
Schema-driven fuzzers and client generators then see the API as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from dataflow.writes import CallBody, GraphBody, SessionBody, ValueBody, VariableBody
from gateway.tenants.access import ADMIN_PREFIX, OPEN_PATHS

JSON = "application/json"
SSE = "text/event-stream"
REFS = "#/components/schemas/{model}"
Ref = dict[str, Any]  # {"$ref": ...}


# --- what the gateway answers ---------------------------------------------------


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | int | None


class ErrorBody(BaseModel):
    """Every error the gateway answers, and the upstream errors it wraps."""

    error: ErrorDetail


class _Relayed(BaseModel):
    # The upstream's reply is relayed as it came: only what OpenAI's format fixes is typed.
    model_config = ConfigDict(extra="allow")


class Completion(_Relayed):
    """A chat or text completion (non-streamed)."""

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None = None


class EmbeddingList(_Relayed):
    object: str
    data: list[dict[str, Any]]
    model: str
    usage: dict[str, Any] | None = None


# Status -> what it means here; each operation lists those it can answer.
ERRORS = {
    400: "`invalid_json` (the body does not decode) or `invalid_request` (a field or parameter is wrong; "
         "`param` names it)",
    401: "`invalid_api_key`: no, an unknown, a revoked or an expired key (`www-authenticate: Bearer`)",
    403: "`admin_disabled`: the admin API is off",
    404: "`not_found`, `model_not_found`, `tenant_not_found`: no such resource, or one this tenant may not see",
    408: "`timeout`: the variable did not become final within the wait; fetch again",
    409: "`conflict` or `cancelled`: the change contradicts the session's state",
    413: "`payload_too_large`: the body is over `server.max_body_bytes`",
    424: "`call_failed`: the call producing the variable failed",
    429: "`rate_limit_exceeded` or `budget_exceeded` (with `retry-after`)",
    502: "`bad_gateway`: the upstream's reply was unusable",
    503: "`store_unavailable`, `upstream_unavailable` or `session_owner_unavailable` (try again)",
    504: "`upstream_timeout`: the upstream was silent for `server.read_timeout_s`",
}
# One event of a text/event-stream reply (OpenAPI 3.2's itemSchema, as fuzzers read it).
SSE_EVENT = {"type": "object", "required": ["data"], "properties": {
    "data": {"type": "string", "description": "a JSON chunk, an error `{\"error\": …}`, or `[DONE]`"},
    "id": {"type": "string"}, "event": {"type": "string"}}}
UPSTREAM = "an upstream error, passed through with its own status (OpenAI-shaped bodies as sent, others wrapped)"


# --- what each operation takes and answers ------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    body: type[BaseModel] | None = None
    success: int = 200
    errors: tuple[int, ...] = ()
    streams: bool = False  # answers text/event-stream
    fetches: bool = False  # takes the fetch parameters (perf, timeout)


_VARIABLE = "/dataflow/v1/sessions/{sid}/variables/{vid}"
# dataflow/api.py parses its bodies itself: their models and statuses, by route.
DATAFLOW = {
    ("post", "/dataflow/v1/sessions"): Operation(SessionBody, 201),
    ("post", "/dataflow/v1/sessions/{sid}/graphs"): Operation(GraphBody, 201, (409,)),
    ("post", "/dataflow/v1/sessions/{sid}/calls"): Operation(CallBody, 201, (409,)),
    ("post", "/dataflow/v1/sessions/{sid}/variables"): Operation(VariableBody, 201, (409,)),
    ("put", _VARIABLE): Operation(ValueBody, 200, (409,)),
    ("get", _VARIABLE): Operation(errors=(408, 409, 424), fetches=True),
    ("get", _VARIABLE + "/stream"): Operation(streams=True, fetches=True),
}
_FETCH_PARAMETERS = [
    {"name": "perf", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["latency", "throughput"], "default": "latency"},
     "description": "what the calls producing the variable optimise for"},
    {"name": "timeout", "in": "query", "required": False, "schema": {"type": "number", "minimum": 0},
     "description": "seconds to wait for the final value (at most `dataflow.max_wait_s`)"},
]
_RESUME = {"name": "last-event-id", "in": "header", "required": False, "schema": {"type": "string"},
           "description": "resume after this event's `id:`"}


# The proxied endpoints (app.ENDPOINTS names them): what each relays, and whether it can stream.
REPLIES: dict[str, tuple[type[BaseModel], bool]] = {
    "chat": (Completion, True),
    "completions": (Completion, True),
    "embeddings": (EmbeddingList, False),
}
Endpoints = Iterable[tuple[str, str, type[BaseModel]]]


# --- the document ---------------------------------------------------------------


def install(api: FastAPI, endpoints: Endpoints, *, auth: bool) -> None:
    """Serve the whole surface at /openapi.json; built once, on the first request for it."""
    proxied = list(endpoints)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = build(api, proxied, auth=auth)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def build(api: FastAPI, proxied: list[tuple[str, str, type[BaseModel]]], *, auth: bool) -> dict[str, Any]:
    doc = get_openapi(title=api.title, version=api.version, routes=api.routes,
                      description="An OpenAI-compatible gateway: the proxied endpoints, workflows, admin.")
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422: the gateway answers 400
        schemas.pop(unused, None)
    models = list(dict.fromkeys([ErrorBody, Completion, EmbeddingList, *(schema for _, _, schema in proxied),
                                 *(op.body for op in DATAFLOW.values() if op.body is not None)]))
    refs, defs = models_json_schema([(model, "validation") for model in models], ref_template=REFS)
    schemas.update(defs.get("$defs", {}))
    ref = {model: refs[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = doc["paths"]
    for path, name, schema in proxied:
        paths[path] = {"post": _proxied(name, ref[schema], ref[REPLIES[name][0]], REPLIES[name][1], ref[ErrorBody])}
    components["headers"] = {"x-request-id": {
        "description": "the client's x-request-id when sane (≤ 128 letters, digits, `-`), else a fresh one",
        "required": True, "schema": {"type": "string"}}}
    if auth:
        components["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "a tenant's API key"},
            "adminKey": {"type": "http", "scheme": "bearer", "description": "the admin key (auth.admin_key_env)"},
        }
    proxied_paths = {path for path, _, _ in proxied}
    for path, operations in paths.items():
        for method, operation in operations.items():
            spec = DATAFLOW.get((method, path))
            if spec is not None:
                _dataflow(operation, spec, ref)
            _complete(path, operation, spec, ref[ErrorBody], proxied=path in proxied_paths, auth=auth)
    return doc


def _proxied(name: str, body: Ref, reply: Ref, streams: bool, error: Ref) -> dict[str, Any]:
    """POST on a proxied endpoint: the OpenAI request, the relayed reply (or its SSE stream)."""
    content: dict[str, Any] = {JSON: {"schema": reply}}
    if streams:
        content[SSE] = {"schema": SSE_EVENT}
    return {
        "summary": f"OpenAI {name}, proxied to the model's replicas",
        "operationId": name,
        "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
        "responses": {"200": {"description": "the upstream's reply; an SSE stream with `\"stream\": true`",
                              "content": content},
                      "default": _error(UPSTREAM, error)},
    }


def _complete(path: str, operation: dict[str, Any], spec: Operation | None, error: Ref, *,
              proxied: bool, auth: bool) -> None:
    """Add what FastAPI cannot know: real statuses, errors, security, x-request-id."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    errors = set(spec.errors if spec else ())
    if operation.get("requestBody"):
        errors |= {400, 413}
    if any(parameter.get("in") in ("query", "header") for parameter in operation.get("parameters", ())):
        errors.add(400)
    if "{" in path or proxied:
        errors.add(404)
    if auth and path not in OPEN_PATHS:
        admin = path.startswith(ADMIN_PREFIX)
        errors |= {401, 503} | ({403} if admin else set())
        operation["security"] = [{"adminKey" if admin else "apiKey": []}]
    if path.startswith("/dataflow/"):
        errors.add(503)  # the session's replica or the store is away
    if proxied:
        errors |= {502, 503, 504} | ({429} if auth else set())
    for status in sorted(errors):
        responses.setdefault(str(status), _error(ERRORS[status], error))
    for response in responses.values():
        response.setdefault("headers", {})["x-request-id"] = {"$ref": "#/components/headers/x-request-id"}


def _dataflow(operation: dict[str, Any], spec: Operation, ref: dict[type[BaseModel], Ref]) -> None:
    """A dataflow route: the body it parses itself, its real success status, its query parameters."""
    responses = operation["responses"]
    success = responses.pop("200", None) or responses.pop("201", None) or {"description": "done"}
    if spec.streams:
        success = {"description": "events as they happen, then the final value and `data: [DONE]`",
                   "content": {SSE: {"schema": SSE_EVENT}}}
    responses[str(spec.success)] = success
    if spec.body is not None:
        # dataflow reads an empty body as {}: it is optional where every field is.
        required = any(field.is_required() for field in spec.body.model_fields.values())
        operation["requestBody"] = {"required": required, "content": {JSON: {"schema": ref[spec.body]}}}
    if spec.fetches:
        operation.setdefault("parameters", []).extend(_FETCH_PARAMETERS + ([_RESUME] if spec.streams else []))


def _error(description: str, error: Ref) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": error}}}
