"""The dataflow API's path, query and header parameters, checked before any work starts.

Every value a client can put in a URL or a header is parsed here into what
the executor needs, or refused with a 400 naming the parameter (404 for an
id that cannot exist). A stream is checked before its 200 goes out: an
error found after that could only cut the stream short.
"""

from __future__ import annotations

import math
import re

from dataflow.errors import NotFound
from dataflow.graph import VARIABLE_ID, Perf
from gateway.errors import BadRequest

SESSION_ID = re.compile(r"sess_[0-9a-f]{24}")  # what Executor.create_session hands out
GRAPH_ID = re.compile(r"graph_[0-9]{1,12}")
# An event id this API sent: a store stream position ("7" in memory, "1700000000000-0" in Redis).
# At most 19 digits a part keeps it inside Redis's 64-bit ids.
EVENT_ID = re.compile(r"[0-9]{1,19}(?:-[0-9]{1,19})?")
SHOWN_CHARS = 64  # of a client's value echoed in an error message


def shown(value: str) -> str:
    """`value` for an error message: quoted, and cut if long (a URL may carry 100k characters)."""
    if len(value) <= SHOWN_CHARS:
        return repr(value)
    return f"{value[:SHOWN_CHARS]!r}... ({len(value)} characters)"


def session_id(sid: str) -> str:
    if not SESSION_ID.fullmatch(sid):
        raise NotFound(f"session {shown(sid)} does not exist")
    return sid


def variable_id(sid: str, vid: str) -> str:
    if not VARIABLE_ID.fullmatch(vid):
        raise NotFound(f"variable {shown(vid)} does not exist in session {sid!r}")
    return vid


def graph_id(gid: str) -> str:
    if not GRAPH_ID.fullmatch(gid):
        raise NotFound(f"graph {shown(gid)} does not exist")
    return gid


def perf(raw: str | None) -> Perf:
    try:
        return Perf(raw or Perf.LATENCY)
    except ValueError:
        raise BadRequest(f"perf must be 'latency' or 'throughput', not {shown(raw or '')}", param="perf") from None


def timeout(raw: str | None, max_wait_s: float) -> float:
    """Seconds a fetch may wait: a finite number >= 0, at most max_wait_s (larger ones are cut to it)."""
    if raw is None:
        return max_wait_s
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"timeout must be a number of seconds, not {shown(raw)}", param="timeout") from None
    if not math.isfinite(value):
        raise BadRequest(f"timeout must be a finite number of seconds, not {shown(raw)}", param="timeout")
    if value < 0:
        raise BadRequest(f"timeout must not be negative (got {shown(raw)})", param="timeout")
    return min(value, max_wait_s)


def last_event_id(raw: str | None) -> str | None:
    """Where a resumed stream starts: after this event; None (no header, or empty) for the beginning."""
    if not raw:
        return None
    if not EVENT_ID.fullmatch(raw):
        raise BadRequest(f"Last-Event-ID must be the id of an event this stream sent (its id: field), not {shown(raw)}",
                         param="Last-Event-ID")
    return raw
