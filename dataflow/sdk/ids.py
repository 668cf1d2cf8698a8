"""Client-side ids for variables and calls.

The client names everything it submits, so a whole graph (outputs feeding
later inputs) can be built and sent without asking the gateway for ids first:
that is what lets a map-reduce go out in one request. Ids read like the
application (`summary-3`, `summarize-3`), which makes the gateway's error
messages, which name them, easy to map back to code.
"""

from __future__ import annotations

import re

from dataflow.graph import VARIABLE_ID

MAX_PREFIX = 100  # leaves room for "-<counter>" within the 128-character limit
_INVALID = re.compile(r"[^A-Za-z0-9_.:-]+")


def check_id(value: str, what: str = "variable") -> str:
    """`value` if it is a valid id, else ValueError saying the rule."""
    if not isinstance(value, str) or not VARIABLE_ID.fullmatch(value):
        raise ValueError(f"{what} id {value!r} must be 1-128 characters of A-Z a-z 0-9 _ . : -")
    return value


class IdAllocator:
    """Unique ids within one Workflow (one gateway session).

    Variables and calls share one namespace: the gateway keeps them apart, but
    one namespace means an id in an error message is never ambiguous. Not
    thread-safe by itself; the Workflow calls it under its lock.
    """

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._used: set[str] = set()

    def new(self, name: str) -> str:
        """A fresh id `<name>-<n>`, with `name` made id-safe."""
        prefix = _INVALID.sub("_", name)[:MAX_PREFIX] or "var"
        n = self._next.get(prefix, 0)
        while f"{prefix}-{n}" in self._used:
            n += 1
        self._next[prefix] = n + 1
        ident = f"{prefix}-{n}"
        self._used.add(ident)
        return ident

    def claim(self, ident: str) -> str:
        """Reserve an id the application chose; ValueError if invalid or taken."""
        check_id(ident)
        if ident in self._used:
            raise ValueError(f"id {ident!r} is already used in this workflow")
        self._used.add(ident)
        return ident

    def __contains__(self, ident: object) -> bool:
        return ident in self._used
