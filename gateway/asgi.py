"""What every request FastAPI serves goes through, at the ASGI level.

The hot path's Exchange (exchange.py) gives its replies x-request-id and
bounds its request bodies; these wrappers do the same for the routes FastAPI
serves (probes, models, dataflow, admin, 404s), once for all of them, so no
route can forget either.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import PayloadTooLarge
from gateway.exchange import Receive, Send


def with_request_id(request_id: bytes, send: Send) -> Send:
    """`send` that adds x-request-id (the Exchange's: the client's if sane, else a fresh one) to the reply."""

    async def send_with_id(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
        await send(message)

    return send_with_id


def with_body_limit(receive: Receive, limit: int) -> Receive:
    """`receive` that raises PayloadTooLarge once the body passes the limit.

    For bodies without a content-length (chunked): reading stops at the first
    chunk past the limit instead of buffering the whole upload.
    """
    size = 0

    async def receive_within_limit() -> dict[str, Any]:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        return message

    return receive_within_limit
