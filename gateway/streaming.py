"""Server-sent-event pass-through that reads usage on the way.

Chunks are forwarded as soon as they hold whole events; engines write one
event per write, so in practice nothing waits. The gateway always asks the
engine for a final usage event (token metrics and budgets need it); when the
client did not ask for it, `SSEUsageTap` removes it again.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import error_body

USAGE_MARKERS = (b'"usage":{', b'"usage": {')


def _has_usage(data: bytes) -> bool:
    return USAGE_MARKERS[0] in data or USAGE_MARKERS[1] in data


class SSEUsageTap:
    __slots__ = ("strip_usage", "rename", "usage", "_partial")

    def __init__(self, *, strip_usage: bool, rename: tuple[bytes, bytes] | None = None) -> None:
        self.strip_usage = strip_usage
        self.rename = rename
        self.usage: dict[str, Any] | None = None
        self._partial = b""

    def feed(self, chunk: bytes) -> bytes:
        """Return what can go to the client now (possibly b"")."""
        data = self._partial + chunk if self._partial else chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            self._partial = data
            return b""
        complete, self._partial = data[: end + 2], data[end + 2 :]
        return self._process(complete)

    def flush(self) -> bytes:
        """Whatever is left when the upstream ends (a final unterminated event)."""
        rest, self._partial = self._partial, b""
        return self._process(rest) if rest else b""

    def _process(self, events: bytes) -> bytes:
        if _has_usage(events):
            events = self._take_usage(events)
        if self.rename is not None:
            events = events.replace(*self.rename)
        return events

    def _take_usage(self, events: bytes) -> bytes:
        kept = []
        for event in events.split(b"\n\n"):
            if not event:
                continue
            if _has_usage(event) and event.startswith(b"data:"):
                payload = _parse(event[5:])
                if payload is not None and isinstance(payload.get("usage"), dict):
                    self.usage = payload["usage"]
                    if self.strip_usage and not payload.get("choices"):
                        continue
            kept.append(event + b"\n\n")
        return b"".join(kept)


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def error_event(message: str, type_: str, code: str) -> bytes:
    """An in-band error for failures after the 200 status went out."""
    return b"data: " + error_body(message, type_, code) + b"\n\ndata: [DONE]\n\n"
