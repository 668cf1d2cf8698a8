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


class OwnerUnavailable(GatewayError):
    """The replica that runs the session did not take a forwarded change in time: it is gone."""

    status = 503
    type = "service_unavailable"
    code = "session_owner_unavailable"


class Relayed(GatewayError):
    """An error the session's replica answered to a forwarded change, passed on as it was."""

    def __init__(self, status: int, type_: str, code: str | None, message: str, param: str | None) -> None:
        super().__init__(message, param=param)
        self.status, self.type, self.code = status, type_, code


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


class ShuttingDown(GatewayError):
    """This gateway is stopping: a waiting fetch is answered now rather than cut off at exit."""

    status = 503
    type = "service_unavailable"
    code = "shutting_down"

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"retry-after", b"1")]  # another replica (or this one, restarted) will answer
