"""Errors of the dataflow API, as OpenAI-shaped gateway errors."""

from __future__ import annotations

from gateway.errors import BadRequest, GatewayError


class DataflowError(GatewayError):
    type = "invalid_request_error"


class InvalidGraph(BadRequest):
    code = "invalid_graph"


class NotFound(DataflowError):
    status = 404
    code = "not_found"


class StateConflict(DataflowError):
    status = 409
    code = "conflict"


class SessionElsewhere(StateConflict):
    code = "session_elsewhere"


class Cancelled(DataflowError):
    status = 409
    code = "cancelled"


class FetchTimeout(DataflowError):
    status = 408
    code = "timeout"


class CallFailed(DataflowError):
    status = 424
    type = "dataflow_error"
    code = "call_failed"
