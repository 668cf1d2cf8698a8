"""The SDK's exceptions, mapped from the gateway's OpenAI-shaped error bodies.

One base class (`DataflowError`) so an application can catch everything the
SDK raises in one place; subclasses for the outcomes an application handles
differently: its call failed (retry with another prompt?), its work was
cancelled (stop), it waited too long (fetch again later), or the gateway
refused a request (a bug in the graph, auth, limits).
"""

from __future__ import annotations

from typing import Any

import httpx


class DataflowError(Exception):
    """Base class of everything the SDK raises on purpose."""


class APIError(DataflowError):
    """The gateway answered with an error status; `message` is the server's own words."""

    def __init__(self, status: int, code: str | None, message: str, *, param: str | None = None) -> None:
        super().__init__(f"{status} {code or 'error'}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.param = param


class CallFailed(APIError):
    """The variable's producing call, or a call upstream of it, failed (424).

    The message names the call that failed first and why, so an application
    can tell its own bad template from an engine outage.
    """


class Cancelled(APIError):
    """The variable's call, its graph or its whole session was cancelled (409)."""


class VariableTimeout(DataflowError, TimeoutError):
    """The variable was not final within the caller's timeout; the work goes on
    on the gateway, so fetching again later can still succeed."""

    def __init__(self, variable: str, timeout: float) -> None:
        super().__init__(f"variable {variable!r} was not ready within {timeout:g} s (it is still being produced)")
        self.variable = variable
        self.timeout = timeout


class APIConnectionError(DataflowError):
    """The gateway could not be reached, or the connection broke mid-request.

    `sent` is False when the request certainly never reached the gateway
    (the connection was refused), so repeating it cannot do anything twice.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


# Codes that identify an outcome even where no HTTP status comes with them
# (an `error` event inside an event stream that started with 200).
STATUS_OF_CODE = {"call_failed": 424, "cancelled": 409, "timeout": 408}


def error_from_body(status: int | None, body: Any) -> APIError:
    """The exception for an OpenAI-shaped error body (`{"error": {...}}`);
    `status` None for an error event in a stream."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"message": str(body) if body else f"HTTP {status}"}
    code = error.get("code")
    code = str(code) if code is not None else None
    if status is None:
        status = STATUS_OF_CODE.get(code or "", 500)
    message = str(error.get("message") or f"HTTP {status}")
    param = error.get("param")
    if status == 424 or code == "call_failed":
        return CallFailed(status, code, message, param=param)
    if code == "cancelled":
        return Cancelled(status, code, message, param=param)
    return APIError(status, code, message, param=param)


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error response; tolerates bodies that are not JSON
    (a proxy's HTML page) by quoting their start."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    return error_from_body(response.status_code, body)
