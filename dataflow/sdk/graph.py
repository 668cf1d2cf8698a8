"""The client's buffer of not-yet-submitted variables and calls.

Calling a semantic function only records the call here; the first fetch (or
an explicit submit) sends everything recorded so far as one graph. One
request for a whole map-reduce or agent loop is the point of the dataflow
API: the gateway sees the full graph and the client pays one round trip
instead of one per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dataflow.sdk.signature import FunctionSpec

if TYPE_CHECKING:
    from dataflow.sdk.variable import SemanticVariable


@dataclass(eq=False)
class CallRecord:
    """One call of a semantic function, with every binding resolved to ids."""

    id: str
    spec: FunctionSpec
    inputs: dict[str, str | list[str]]  # placeholder -> variable id, or ids joined with "\n"
    outputs: dict[str, SemanticVariable]  # placeholder -> the variable it produces

    def to_json(self) -> dict[str, Any]:
        options = dict(self.spec.outputs)
        call: dict[str, Any] = {
            "id": self.id,
            "model": self.spec.model,
            "template": self.spec.template,
            "inputs": {name: list(ids) if isinstance(ids, list) else ids for name, ids in self.inputs.items()},
            "outputs": {name: {"id": var.id, **options[name].options()} for name, var in self.outputs.items()},
        }
        if self.spec.params:
            call["params"] = dict(self.spec.params)
        return call


@dataclass
class GraphBuffer:
    """Variables the client declares (constants, `Workflow.variable()`) and calls, in creation order.

    Output variables are not declared: the gateway creates them from the
    calls' output bindings.
    """

    variables: list[SemanticVariable] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.variables or self.calls)

    def members(self) -> list[SemanticVariable]:
        """Every variable this buffer would create on the gateway, outputs included."""
        return [*self.variables, *(var for call in self.calls for var in call.outputs.values())]

    def to_json(self, lazy: bool = True) -> dict[str, Any]:
        """The body of a graph submission (docs/dataflow.md, "A graph")."""
        variables = []
        for var in self.variables:
            value = var.value
            variables.append({"id": var.id} if value is None else {"id": var.id, "value": value})
        return {"variables": variables, "calls": [call.to_json() for call in self.calls], "lazy": lazy}

    def take(self) -> GraphBuffer:
        """Move the contents out into a new buffer (what one flush sends), leaving this one empty."""
        taken = GraphBuffer(self.variables, self.calls)
        self.variables, self.calls = [], []
        return taken

    def put_back(self, taken: GraphBuffer) -> None:
        """Undo `take` after a submission that certainly never reached the gateway."""
        self.variables[:0] = taken.variables
        self.calls[:0] = taken.calls
