"""The gateway's exception hierarchy and OpenAI-shaped error bodies.

Every failure a client can see is a `GatewayError`: it carries the HTTP status
and renders as `{"error": {"message", "type", "param", "code"}}`, the shape the
OpenAI SDKs parse into their own exception classes.
"""

from __future__ import annotations

import orjson


class GatewayError(Exception):
    status: int = 500
    type: str = "internal_error"
    code: str | None = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    def body(self) -> bytes:
        return error_body(self.message, self.type, self.code, self.param)

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Extra reply headers (retry-after, www-authenticate); none by default."""
        return []


def error_body(message: str, type_: str, code: str | int | None, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})


# --- the client's fault -----------------------------------------------------


class BadRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class InvalidJSON(BadRequest):
    code = "invalid_json"


class ModelNotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "model_not_found"


class RouteNotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class MethodNotAllowed(GatewayError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow  # RFC 9110: a 405 must say which methods the path does accept

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"allow", self.allow.encode())]


class PayloadTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "payload_too_large"


class AuthenticationFailed(GatewayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"www-authenticate", b"Bearer")]


class PermissionDenied(GatewayError):
    status = 403
    type = "invalid_request_error"
    code = "permission_denied"


class _Retryable(GatewayError):
    """A refusal the client may retry after `retry_after_s` seconds."""

    status = 429

    def __init__(self, message: str, retry_after_s: float, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s

    def headers(self) -> list[tuple[bytes, bytes]]:
        # Whole seconds, rounded up: "retry-after: 0" would invite an immediate retry.
        return [(b"retry-after", b"%d" % max(1, -int(-self.retry_after_s // 1)))]


class RateLimited(_Retryable):
    type = "rate_limit_error"  # OpenAI's type and code for RPM/TPM limits
    code = "rate_limit_exceeded"


class BudgetExceeded(_Retryable):
    type = "insufficient_quota"  # what OpenAI answers when a quota is used up
    code = "budget_exceeded"


class StoreUnavailable(GatewayError):
    """The shared store is down and the configuration says to refuse rather than go on."""

    status = 503
    type = "service_unavailable"
    code = "store_unavailable"


# --- refused by the HTTP server itself (gateway/server.py) --------------------


class HeaderFieldsTooLarge(GatewayError):
    status = 431
    type = "invalid_request_error"
    code = "request_header_fields_too_large"


class RequestTimeout(GatewayError):
    status = 408
    type = "invalid_request_error"
    code = "request_timeout"


class TooManyConnections(GatewayError):
    status = 503
    type = "service_unavailable"
    code = "too_many_connections"


class InvalidHTTP(BadRequest):
    """The HTTP parser refused the bytes (bad method, framing, header syntax)."""

    code = "invalid_http"


# --- the upstream's fault ---------------------------------------------------


class UpstreamError(GatewayError):
    """The upstream answered with something unusable, or broke mid-reply."""

    status = 502
    type = "upstream_error"
    code = "bad_gateway"


class UpstreamUnavailable(UpstreamError):
    """No replica of the model could be reached."""

    status = 503
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class UpstreamReplyTooLarge(UpstreamError):
    """A whole upstream reply above `server.max_reply_bytes`: refused, not buffered.

    A limit of ours, not a fault of the replica (a client can ask for a huge
    answer), so it never counts against the replica's circuit breaker.
    """

    code = "upstream_reply_too_large"


class UpstreamEventTooLarge(UpstreamError):
    """A server-sent event that did not end within `server.max_event_bytes`
    (or a stream that never frames one): the stream is ended in-band."""

    code = "upstream_event_too_large"


class ClientDisconnected(Exception):
    """The client went away; nothing is left to answer (not a GatewayError)."""
