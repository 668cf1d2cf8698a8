"""Server-sent-event framing: the one place that knows where an event ends.

The SSE spec ends a line with `\\n`, `\\r\\n` or a bare `\\r`, and an event with
an empty line. Engines almost always write `\\n\\n`; that path costs a search
for `\\r` and one `rfind` per chunk. A stream that uses `\\r` anywhere is
rewritten to `\\n` line endings as it passes, so everything downstream (usage
tap, output policies, the cache's assembler, clients) sees one framing and
splits complete events with `events()`.

An event is bounded: one that has not ended within `max_event_bytes` (or a
stream that never frames one, such as a JSON body) raises
`UpstreamEventTooLarge` rather than growing memory without limit.
"""

from __future__ import annotations

from gateway.errors import UpstreamEventTooLarge

SEPARATOR = b"\n\n"
_CR = ord("\r")


def events(data: bytes) -> list[bytes]:
    """The events in `data` (complete, `\\n`-framed), without their separators."""
    return [event for event in data.split(SEPARATOR) if event]


def data_of(event: bytes) -> bytes | None:
    """An event's data field (its `data:` lines joined by `\n`), or None when it has none."""
    if event.startswith(b"data:") and b"\n" not in event:  # the usual event: one data line
        return _value(event)
    lines = [_value(line) for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def _value(line: bytes) -> bytes:
    return line[6:] if line[5:6] == b" " else line[5:]  # the spec drops one space after the colon


class EventFramer:
    """Cuts a byte stream into whole events; `feed` returns them, `\\n`-framed."""

    __slots__ = ("_limit", "_pending", "_size", "_cr", "_after_cr")

    def __init__(self, max_event_bytes: int) -> None:
        self._limit = max_event_bytes
        self._pending: list[bytes] = []  # the start of an event not yet ended
        self._size = 0
        self._cr = False  # the stream has used `\r`: normalise every chunk from now on
        self._after_cr = False  # the last chunk ended in `\r`: a leading `\n` is its CRLF's

    def feed(self, chunk: bytes) -> bytes:
        """Whole events completed by `chunk` (possibly b"")."""
        if self._cr or _CR in chunk:  # an int: membership is one memchr, 10x cheaper than b"\r"
            chunk = self._normalise(chunk)
        if self._pending:
            return self._resume(chunk)
        # The hot path: nothing held, and engines write whole events.
        end = chunk.rfind(SEPARATOR)
        if end < 0:
            return self._hold(chunk)
        end += 2
        if end == len(chunk):
            return chunk
        self._hold(chunk[end:])
        return chunk[:end]

    def flush(self) -> bytes:
        """What is left when the stream ends: a final event without its separator."""
        rest = b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        return rest

    def _resume(self, chunk: bytes) -> bytes:
        """`chunk` continues the held event: complete it (and any after it) if it ends there."""
        pending = self._pending
        end = chunk.rfind(SEPARATOR)
        if end >= 0:
            end += 2
        elif self._straddles(chunk):
            end = 1
        else:
            return self._hold(chunk)
        if self._size + end > self._limit:  # only then can the held event have grown too large
            first = 0 if self._straddles(chunk) else chunk.find(SEPARATOR)
            if self._size + first > self._limit:
                raise self._too_large()
        pending.append(chunk[:end])
        head = b"".join(pending)
        pending.clear()
        self._size = 0
        if end < len(chunk):
            self._hold(chunk[end:])
        return head

    def _straddles(self, chunk: bytes) -> bool:
        """The held bytes end a line and `chunk` starts with the empty line that ends the event."""
        return chunk[:1] == b"\n" and self._pending[-1][-1:] == b"\n"

    def _hold(self, part: bytes) -> bytes:
        self._size += len(part)
        if self._size > self._limit:
            raise self._too_large()
        if part:
            self._pending.append(part)
        return b""

    def _too_large(self) -> UpstreamEventTooLarge:
        self._pending.clear()
        self._size = 0
        return UpstreamEventTooLarge(
            f"an upstream server-sent event exceeded {self._limit} bytes without ending (server.max_event_bytes)"
        )

    def _normalise(self, chunk: bytes) -> bytes:
        self._cr = True
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._after_cr = chunk[-1:] == b"\r"
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
