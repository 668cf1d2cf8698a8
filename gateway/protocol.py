"""The OpenAI request schema as pydantic models, used to validate bodies.

The gateway forwards the client's own bytes (or a copy with `model` rewritten),
never a re-serialisation of these models: unknown fields — vLLM extensions such
as `top_k`, `ignore_eos`, `guided_json` — reach the engine exactly as sent.
So every model here is `extra="allow"` and types only what the gateway relies
on or can reject early with a clearer message than the engine would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.errors import BadRequest, InvalidJSON


class _Open(BaseModel):
    # strict: no coercion. The gateway forwards the client's bytes, so a value
    # pydantic would quietly convert ("stream": "false", "n": "2", "echo": 0)
    # would reach the engine unconverted, and the gateway itself would read
    # "false" as true; a type mismatch is a 400 naming the field instead.
    model_config = ConfigDict(extra="allow", strict=True)


Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ChatMessage(_Open):
    role: Role
    # str, a list of content parts, or null (assistant turns with tool calls).
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class FunctionDef(_Open):
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Open):
    type: Literal["function"] = "function"
    function: FunctionDef


class StreamOptions(_Open):
    include_usage: bool | None = None


class _Sampling(_Open):
    """Fields shared by chat and text completions."""

    model: str = Field(min_length=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = 1
    max_tokens: Annotated[int, Field(ge=0)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: Annotated[int, Field(ge=0)] | None = None
    logprobs: bool | None = False
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


class CompletionRequest(_Sampling):
    prompt: str | list[str] | list[int] | list[list[int]]
    logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    echo: bool | None = False
    suffix: str | None = None


class EmbeddingRequest(_Open):
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: Annotated[int, Field(ge=1)] | None = None
    user: str | None = None


def validate(schema: type[BaseModel], data: Any) -> BaseModel:
    """Validate a decoded body, turning the first problem into a 400."""
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise first_problem(exc.errors(include_url=False), data) from None


def first_problem(errors: Sequence[Mapping[str, Any]], data: Any = None, *, sourced: bool = False) -> BadRequest:
    """The 400 for a list of validation errors: the first one, with its field as `param`.

    One wording for the hot path and the FastAPI routes, so a client sees the
    same error for the same mistake wherever it makes it. FastAPI's errors
    (`sourced`) start their `loc` with where the value came from: "body",
    "query", "path"; that part names no field.
    """
    first = errors[0]
    if first.get("type") == "json_invalid":  # FastAPI: the body did not decode
        return InvalidJSON(f"request body is not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}")
    loc = list(first.get("loc", ()))
    source = str(loc.pop(0)) if sourced and loc else "body"
    where = ".".join(_in_body(loc, data, missing=first.get("type") == "missing")) or None
    label = where or ("request body" if source == "body" else f"{source} parameter")
    extra = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return BadRequest(f"{label}: {first['msg']}{extra}", param=where)


def _in_body(loc: list[Any], data: Any, *, missing: bool) -> list[str]:
    """The part of an error's `loc` that is a path in the client's body.

    pydantic puts the union member it tried into `loc` ("input.str",
    "tool_choice.literal[...]"): no such field exists, so the walk stops at
    the value itself. A missing field is named though it is not there.
    """
    if data is None:
        return [str(part) for part in loc]
    path: list[str] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            if missing and isinstance(node, dict):
                path.append(str(part))
            break
        path.append(str(part))
    return path
