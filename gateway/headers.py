"""Header lists as servers and parsers hand them over: [(lowercase name, value)]."""

from __future__ import annotations

Headers = list[tuple[bytes, bytes]]


def find_header(headers: Headers, name: bytes) -> bytes | None:
    """The first value of `name` (lowercase), or None."""
    for key, value in headers:
        if key == name:
            return value
    return None
