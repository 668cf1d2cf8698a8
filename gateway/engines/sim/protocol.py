"""OpenAI request parsing for the simulated engine.

Only the fields that change what the engine does are read; unknown fields are
ignored, as vLLM does. Malformed values raise ApiError(400) with the field
named, so a gateway test sees the same error class a real server returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from .request import SamplingParams, ToolCallSpec
from .text import TOP_LOGPROBS_MAX, Prompt, derive_seed, render_chat

T = TypeVar("T")
MAX_N = 128


class ApiError(Exception):
    """An error answered in OpenAI's shape: {"error": {message, type, param, code}}."""

    def __init__(self, message: str, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param

    def body(self) -> bytes:
        kinds = {404: "NotFoundError", 500: "InternalServerError", 503: "ServiceUnavailableError"}
        kind = kinds.get(self.status, "BadRequestError")
        error = {"message": self.message, "type": kind, "param": self.param, "code": self.status}
        return orjson.dumps({"error": error})


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """A parsed chat or completions request: one engine request per prompt."""

    prompts: list[Prompt]
    params: SamplingParams
    stream: bool
    include_usage: bool


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("request body must be a JSON object")
    return body


def check_model(body: Mapping[str, Any], served: str) -> None:
    model = body.get("model")
    if model is None:
        raise ApiError("'model' is required", param="model")
    if model != served:
        raise ApiError(f"The model `{model}` does not exist.", status=404, param="model")


def _get(body: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], default: T) -> T:
    value = body.get(key)
    if value is None:
        return default
    # bool is an int subclass: true is not a valid max_tokens.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ApiError(f"'{key}' has the wrong type: {value!r}", param=key)
    return value  # type: ignore[return-value]


def _bounded(
    body: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], default: T, low: float, high: float
) -> T:
    value = _get(body, key, kind, default)
    if value is not None and not low <= value <= high:  # type: ignore[operator]
        raise ApiError(f"'{key}' must be between {low} and {high}, got {value}", param=key)
    return value


def _stop(body: Mapping[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise ApiError("'stop' must be a string or a list of strings", param="stop")
    return tuple(stops)


def _sampling(
    body: Mapping[str, Any], max_tokens: int | None, top_logprobs: int | None, tool: ToolCallSpec | None
) -> SamplingParams:
    number = (int, float)
    return SamplingParams(
        max_tokens=max_tokens,
        temperature=float(_bounded(body, "temperature", number, 1.0, 0.0, 2.0)),
        top_p=float(_bounded(body, "top_p", number, 1.0, 1e-9, 1.0)),
        seed=_get(body, "seed", int, None),
        stop=_stop(body),
        ignore_eos=_get(body, "ignore_eos", bool, False),
        top_logprobs=top_logprobs,
        n=_bounded(body, "n", int, 1, 1, MAX_N),
        tool=tool,
    )


def _stream_flags(body: Mapping[str, Any]) -> tuple[bool, bool]:
    stream = _get(body, "stream", bool, False)
    options = _get(body, "stream_options", dict, {})
    return stream, stream and bool(options.get("include_usage"))


def _max_tokens(body: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = _bounded(body, key, int, None, 1, float("inf"))
        if value is not None:
            return value
    return None


# ---- chat ---------------------------------------------------------------


def _messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError("'messages' must be a non-empty list", param="messages")
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError("each message must be an object with a 'role'", param="messages")
    return messages


def _functions(tools: Any) -> dict[str, Mapping[str, Any] | None]:
    if not isinstance(tools, list):
        raise ApiError("'tools' must be a list", param="tools")
    functions: dict[str, Mapping[str, Any] | None] = {}
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ApiError("each tool must be {'type': 'function', 'function': {'name': ...}}", param="tools")
        functions[function["name"]] = function.get("parameters")
    return functions


def _forced_tool(body: Mapping[str, Any], prompt: Prompt) -> ToolCallSpec | None:
    """The function a tool_choice forces, if any ("auto" answers in text)."""
    choice = body.get("tool_choice")
    tools = body.get("tools")
    if tools is None or choice in (None, "auto", "none"):
        return None
    functions = _functions(tools)
    if not functions:
        raise ApiError("tool_choice needs a non-empty 'tools' list", param="tool_choice")
    if choice == "required":
        names = sorted(functions)
        name = names[derive_seed(prompt.text) % len(names)]
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        if name not in functions:
            raise ApiError(f"tool_choice names an unknown function {name!r}", param="tool_choice")
    else:
        raise ApiError("tool_choice must be 'none', 'auto', 'required' or a named function", param="tool_choice")
    return ToolCallSpec(name, functions[name])


def _chat_logprobs(body: Mapping[str, Any]) -> int | None:
    wanted = _get(body, "logprobs", bool, False)
    top = _bounded(body, "top_logprobs", int, None, 0, TOP_LOGPROBS_MAX)
    if top is not None and not wanted:
        raise ApiError("'top_logprobs' needs 'logprobs': true", param="top_logprobs")
    return (top or 0) if wanted else None


def parse_chat(body: Mapping[str, Any]) -> GenerationRequest:
    tools = body.get("tools")
    prompt = Prompt.from_text(render_chat(_messages(body), tools if isinstance(tools, list) else None), add_bos=False)
    max_tokens = _max_tokens(body, "max_completion_tokens", "max_tokens")
    params = _sampling(body, max_tokens, _chat_logprobs(body), _forced_tool(body, prompt))
    stream, include_usage = _stream_flags(body)
    return GenerationRequest([prompt], params, stream, include_usage)


# ---- completions --------------------------------------------------------


def _is_ids(value: Any) -> bool:
    return (
        isinstance(value, list) and bool(value) and all(isinstance(i, int) and not isinstance(i, bool) for i in value)
    )


def _prompts(value: Any) -> list[Prompt]:
    """str | list[str] | list[int] | list[list[int]], as OpenAI accepts."""
    if isinstance(value, str):
        return [Prompt.from_text(value)]
    if _is_ids(value):
        return [Prompt.from_ids(value)]
    if isinstance(value, list) and value:
        if all(isinstance(item, str) for item in value):
            return [Prompt.from_text(item) for item in value]
        if all(_is_ids(item) for item in value):
            return [Prompt.from_ids(item) for item in value]
    raise ApiError("'prompt' must be a string, a list of strings, or token ids", param="prompt")


def parse_completion(body: Mapping[str, Any]) -> GenerationRequest:
    prompts = _prompts(_required(body, "prompt"))
    top = _bounded(body, "logprobs", int, None, 0, TOP_LOGPROBS_MAX)
    params = _sampling(body, _max_tokens(body, "max_tokens"), top, None)
    stream, include_usage = _stream_flags(body)
    return GenerationRequest(prompts, params, stream, include_usage)


# ---- embeddings ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    inputs: list[Prompt]
    dimensions: int
    base64: bool


def parse_embeddings(body: Mapping[str, Any], default_dim: int) -> EmbeddingRequest:
    inputs = _prompts(_required(body, "input"))
    dimensions = _bounded(body, "dimensions", int, default_dim, 1, 65536)
    encoding = _get(body, "encoding_format", str, "float")
    if encoding not in ("float", "base64"):
        raise ApiError("'encoding_format' must be 'float' or 'base64'", param="encoding_format")
    return EmbeddingRequest(inputs, dimensions, encoding == "base64")


# ---- classification (vLLM's POST /classify) -------------------------------


@dataclass(frozen=True, slots=True)
class ClassifyRequest:
    inputs: list[Prompt]
    # None: the server's default activation (softmax for a multi-class head).
    use_activation: bool | None


def parse_classify(body: Mapping[str, Any]) -> ClassifyRequest:
    if "normalize" in body:
        raise ApiError("Parameter `normalize` was removed; use `use_activation` instead.", param="normalize")
    inputs = _prompts(_required(body, "input"))
    return ClassifyRequest(inputs, _get(body, "use_activation", bool, None))


def _required(body: Mapping[str, Any], key: str) -> Any:
    if body.get(key) is None:
        raise ApiError(f"'{key}' is required", param=key)
    return body[key]
