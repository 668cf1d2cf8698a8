"""Semantic functions: decorated Python functions whose calls build the graph.

Calling one does no I/O; it records a call in its Workflow and hands back
the output variables at once, so a loop over chunks or agent rounds builds
the whole dataflow before anything is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dataflow.sdk.signature import FunctionSpec

if TYPE_CHECKING:
    from dataflow.sdk.variable import SemanticVariable
    from dataflow.sdk.workflow import Workflow


class SemanticFunction:
    """A prompt template bound to a Workflow; call it with its inputs (str,
    SemanticVariable, or a list of those) to get its output variable(s)."""

    def __init__(self, workflow: Workflow, fn: Callable[..., Any], spec: FunctionSpec) -> None:
        functools.update_wrapper(self, fn)
        self.spec = spec
        self.workflow = workflow
        self._signature = spec.signature

    @property
    def template(self) -> str:
        return self.spec.template

    def __call__(self, *args: Any, **kwargs: Any) -> SemanticVariable | tuple[SemanticVariable, ...]:
        """Record a call; the output variable, or a tuple of them in declaration order."""
        outputs = {name for name, _ in self.spec.outputs}
        given = sorted(outputs & kwargs.keys())
        if given:
            raise TypeError(f"{self.spec.name}(): {', '.join(given)} is an output; the model generates it")
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.spec.name}(): {exc}") from None
        produced = self.workflow._record_call(self.spec, bound.arguments)
        return produced[0] if len(produced) == 1 else tuple(produced)

    def __repr__(self) -> str:
        outs = ", ".join(name for name, _ in self.spec.outputs)
        return f"<SemanticFunction {self.spec.name}({', '.join(self.spec.inputs)}) -> {outs} model={self.spec.model!r}>"
