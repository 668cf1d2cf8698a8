"""A session's description, in pages: `GET /sessions/{sid}?limit=N&after=CURSOR`.

A session holds up to `max_variables_per_session` variables and as many
calls, each call with an error of up to ~1.3 KB, so a description of all of
them at once can be megabytes; it comes in pages instead. The cursor is the
offset of the next item: opaque to clients, who pass back `next_after`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dataflow.graph import Graph
from gateway.errors import BadRequest

if TYPE_CHECKING:
    from dataflow.executor import Session

DEFAULT_LIMIT = 256
MAX_LIMIT = 256  # a page of 256 calls with long errors is ~220 KB: no loop stall to speak of
_MAX_AFTER = 10**9  # far beyond any session; keeps the digits parsed bounded


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = DEFAULT_LIMIT
    after: int = 0

    @classmethod
    def parse(cls, limit: str | None, after: str | None) -> Page:
        """From query values; a clear 400 naming the parameter for anything else."""
        return cls(_integer("limit", limit, DEFAULT_LIMIT, 1, MAX_LIMIT), _integer("after", after, 0, 0, _MAX_AFTER))

    def params(self) -> dict[str, str]:
        """As path/query parameters, for forwarding to the session's replica."""
        return {"limit": str(self.limit), "after": str(self.after)}


def _integer(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not low <= int(raw) <= high:
        what = "the cursor from a previous page's next_after" if name == "after" else f"an integer {low}-{high}"
        raise BadRequest(f"{name} must be {what}", param=name)
    return int(raw)


def describe(session: Session, page: Page) -> dict[str, Any]:
    """The session: counts by status always, and one page of its variables and calls.

    Variables and calls are paged side by side, in the order they were added
    (a session only grows, so an offset is a stable cursor): a description
    holds at most `page.limit` of each, however large the session."""
    graph = session.graph
    end = page.after + page.limit
    calls = {
        call.id: {"status": call.status.value, "model": call.model, "perf": call.perf, "error": call.error}
        for call in itertools.islice(graph.calls.values(), page.after, end)
    }
    variables = {var.id: {"status": var.status.value} for var in itertools.islice(graph.variables.values(), page.after, end)}
    more = end < max(len(graph.calls), len(graph.variables))
    return {"id": session.id, "object": "dataflow.session", "created": session.created, "ttl_s": session.state.ttl_s,
            "summary": summary(graph), "variables": variables, "calls": calls,
            "has_more": more, "next_after": str(end) if more else None}


def summary(graph: Graph) -> dict[str, dict[str, int]]:
    variables = Counter(var.status.value for var in graph.variables.values())
    calls = Counter(call.status.value for call in graph.calls.values())
    return {"variables": {"total": len(graph.variables), **variables}, "calls": {"total": len(graph.calls), **calls}}
