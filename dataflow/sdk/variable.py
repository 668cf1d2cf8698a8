"""Semantic variables: client-side futures for values the gateway holds or will produce.

A variable is created with no I/O (as a constant, an empty slot, or a call's
output) and can be passed straight into further calls; only fetching its
value talks to the gateway. That is what lets an application describe a
whole pipeline first and pay one round trip for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dataflow.sdk.workflow import Workflow

Perf = Literal["latency", "throughput"]


class SemanticVariable:
    """A value in a Workflow's session: given by the client or produced by a call.

    `await var.get()` (or `await var`) returns the value; `var.result()` does
    the same from synchronous code; `var.stream()` yields it token by token.
    """

    __slots__ = ("id", "producer", "_workflow", "_value", "_error", "_submitted")

    def __init__(self, workflow: Workflow, ident: str, *, value: str | None = None,
                 producer: str | None = None) -> None:
        self.id = ident
        self.producer = producer  # the id of the call that produces it, if any
        self._workflow = workflow
        self._value = value
        self._error: BaseException | None = None  # its graph was refused: fetching it re-raises
        self._submitted = False

    @property
    def workflow(self) -> Workflow:
        return self._workflow

    @property
    def value(self) -> str | None:
        """The value if known locally (a constant, a set value, or one fetched before); never does I/O."""
        return self._value

    @property
    def submitted(self) -> bool:
        """Whether the gateway knows this variable yet (its graph has been sent)."""
        return self._submitted

    async def get(self, perf: Perf = "latency", timeout: float | None = None) -> str:
        """Submit everything buffered, then wait for this variable's value.

        `perf` tells the gateway what to optimise the work upstream of this
        variable for: "latency" (this answer is awaited now) or "throughput"
        (batch it with other work). `timeout` bounds the whole wait; on
        expiry `VariableTimeout` is raised and the work carries on.
        """
        return await self._workflow._fetch(self, perf, timeout)

    def result(self, perf: Perf = "latency", timeout: float | None = None) -> str:
        """`get()` for synchronous code: blocks the calling thread."""
        return self._workflow._fetch_sync(self, perf, timeout)

    def stream(self, perf: Perf = "latency") -> AsyncIterator[str]:
        """The value as it is generated, in pieces that concatenate to the final value."""
        return self._workflow._stream(self, perf)

    def iter_stream(self, perf: Perf = "latency") -> Iterator[str]:
        """`stream()` for synchronous code."""
        return self._workflow._stream_sync(self, perf)

    def __await__(self) -> Generator[Any, None, str]:
        return self.get().__await__()

    def __repr__(self) -> str:
        if self._value is not None:
            state = f"value={_preview(self._value)}"
        elif self.producer is not None:
            state = f"produced by {self.producer!r}"
        else:
            state = "empty"
        return f"<SemanticVariable {self.id!r} {state}>"


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
