"""Semantic function signatures: a docstring template plus annotated parameters.

A semantic function is declared as a Python function whose docstring is the
prompt template and whose parameters say which placeholders the caller
supplies (`Input`) and which the model generates (`Output(...)`). Everything
is checked when the function is decorated, so a misspelt placeholder fails at
import time with the function's name in the message, not as a 400 from the
gateway in the middle of a run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dataflow.runner import RESERVED_PARAMS
from dataflow.template import PLACEHOLDER


class Input:
    """Annotation of a parameter the caller supplies: a string, a semantic
    variable, or a list of those (joined with newlines by the gateway)."""

    def __repr__(self) -> str:
        return "Input"


class Output:
    """Annotation of a parameter the model generates, with its sampling options.

    Used bare (`x: Output`) or with options (`x: Output(max_tokens=100)`).
    Options left as None are not sent, so the route's defaults apply.
    """

    __slots__ = ("max_tokens", "temperature", "top_p", "stop")

    def __init__(
        self,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
    ) -> None:
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                       or max_tokens < 1):
            raise ValueError(f"Output(max_tokens=...) must be a positive int, got {max_tokens!r}")
        for name, value in (("temperature", temperature), ("top_p", top_p)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"Output({name}=...) must be a number, got {value!r}")
        if isinstance(stop, str):
            stop = [stop]
        if stop is not None:
            stop = list(stop)
            if not all(isinstance(s, str) and s for s in stop):
                raise ValueError(f"Output(stop=...) must be non-empty strings, got {stop!r}")
        self.max_tokens = max_tokens
        self.temperature = None if temperature is None else float(temperature)
        self.top_p = None if top_p is None else float(top_p)
        self.stop: list[str] | None = stop

    def options(self) -> dict[str, Any]:
        """The options that were given, as the call's output binding carries them."""
        names = ("max_tokens", "temperature", "top_p", "stop")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"Output({args})"


@dataclass(frozen=True)
class FunctionSpec:
    """What a decorated function declares; immutable, shared by all its calls."""

    name: str
    template: str
    inputs: tuple[str, ...]  # parameter order
    outputs: tuple[tuple[str, Output], ...]  # parameter order: the order calls return them in
    model: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> inspect.Signature:
        """The call signature: the inputs only, positional or keyword."""
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature([inspect.Parameter(name, kind) for name in self.inputs])


def placeholders(template: str) -> list[str]:
    """Placeholder names in order of appearance, repeats included (the gateway's own syntax)."""
    return [match.group(1) for match in PLACEHOLDER.finditer(template)]


def parse_function(fn: Callable[..., Any], model: str, params: dict[str, Any] | None = None) -> FunctionSpec:
    """Read and check a semantic function's declaration; TypeError says what is wrong."""
    short = getattr(fn, "__name__", None) or "function"
    name = getattr(fn, "__qualname__", None) or short  # for messages
    if not isinstance(model, str) or not model:
        raise TypeError(f"semantic function {name}: model must be a non-empty string, got {model!r}")
    reserved = sorted(RESERVED_PARAMS.intersection(params or {}))
    if reserved:
        raise TypeError(f"semantic function {name}: params may not set {', '.join(reserved)}; the call defines "
                        "them (max_tokens goes in Output(max_tokens=...))")
    template = inspect.cleandoc(fn.__doc__) if fn.__doc__ else ""
    if not template.strip():
        raise TypeError(f"semantic function {name} needs a docstring: it is the prompt template")
    try:
        sig = inspect.signature(fn, eval_str=True)
    except NameError as exc:  # `from __future__ import annotations` and an unimportable name
        raise TypeError(
            f"semantic function {name}: cannot evaluate its annotations ({exc}); under `from __future__ import "
            "annotations` they are evaluated in the module's globals, so Output(...) options cannot use local names"
        ) from None

    inputs: list[str] = []
    outputs: list[tuple[str, Output]] = []
    for param in sig.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"semantic function {name}: *args/**kwargs ({param}) cannot be template placeholders")
        kind = _kind(param.annotation)
        if kind is None:
            raise TypeError(
                f"semantic function {name}: parameter {param.name!r} must be annotated Input or Output(...), "
                f"got {param.annotation!r}"
            )
        if isinstance(kind, Output):
            outputs.append((param.name, kind))
        else:
            inputs.append(param.name)
    if not outputs:
        raise TypeError(f"semantic function {name} has no Output parameter: nothing for the model to generate")

    _check_template(name, template, inputs, [n for n, _ in outputs])
    return FunctionSpec(short, template, tuple(inputs), tuple(outputs), model, dict(params or {}))


def _kind(annotation: Any) -> Input | Output | None:
    if annotation is Input or isinstance(annotation, Input):
        return Input()
    if annotation is Output:
        return Output()
    if isinstance(annotation, Output):
        return annotation
    return None


def _check_template(name: str, template: str, inputs: list[str], outputs: list[str]) -> None:
    found = placeholders(template)
    declared = set(inputs) | set(outputs)
    unknown = [p for p in dict.fromkeys(found) if p not in declared]
    if unknown:
        listed = ", ".join("{{%s}}" % p for p in unknown)
        raise TypeError(f"semantic function {name}: the docstring's {listed} is not a parameter")
    unused = [p for p in [*inputs, *outputs] if p not in found]
    if unused:
        raise TypeError(f"semantic function {name}: parameter(s) {', '.join(unused)} do not appear in the docstring "
                        "as {{name}}")
    # The gateway sends the template only up to the last output's first
    # occurrence; an input that appears only after it would never be seen.
    cut = max(found.index(o) for o in outputs)
    dead = [i for i in inputs if found.index(i) > cut]
    if dead:
        raise TypeError(f"semantic function {name}: input(s) {', '.join(dead)} appear only after the last output, "
                        "and text after the last output is never sent to the model")
