"""A streamed answer put back together as the whole answer it stands for.

The response cache stores whole answers (a stream request is answered from
one by replaying it as SSE), so a streamed answer on a caching route is
collected as it passes and assembled once the stream has ended: off the
request's path, and only for routes that opted in to the cache.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.sse import data_of, events


class StreamAssembler:
    """Collects the SSE bytes sent to the client, up to `limit` bytes."""

    __slots__ = ("_parts", "_size", "_limit")

    def __init__(self, limit: int) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._limit = limit

    def feed(self, data: bytes) -> None:
        if self._size <= self._limit:
            self._parts.append(data)
            self._size += len(data)

    def answer(self, chat: bool, usage: dict[str, Any] | None) -> dict[str, Any] | None:
        """The whole answer, or None when the stream was too long, broken or in error."""
        if self._size > self._limit:
            return None
        chunks = []
        for event in events(b"".join(self._parts)):
            data = data_of(event)
            if data is None:
                continue
            if data == b"[DONE]":
                return _whole(chunks, chat, usage) if chunks else None
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                return None
            if not isinstance(chunk, dict) or "error" in chunk or _has_logprobs(chunk):
                return None  # errors are not answers; logprobs are not reassembled
            chunks.append(chunk)
        return None  # no [DONE]: the stream did not finish


def _has_logprobs(chunk: dict[str, Any]) -> bool:
    return any(part.get("logprobs") for part in chunk.get("choices") or ())


def _whole(chunks: list[dict[str, Any]], chat: bool, usage: dict[str, Any] | None) -> dict[str, Any]:
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for part in chunk.get("choices") or ():
            choice = choices.setdefault(part.get("index", 0), _empty(part.get("index", 0), chat))
            if part.get("finish_reason") is not None:
                choice["finish_reason"] = part["finish_reason"]
            if chat:
                _add_delta(choice["message"], part.get("delta") or {})
            else:
                choice["text"] += part.get("text") or ""
    first = chunks[0]
    answer = {"id": first.get("id", ""), "object": "chat.completion" if chat else "text_completion",
              "created": first.get("created", 0), "model": first.get("model", ""),
              "choices": [choices[index] for index in sorted(choices)]}
    if usage is not None:
        answer["usage"] = usage
    return answer


def _empty(index: int, chat: bool) -> dict[str, Any]:
    if chat:
        return {"index": index, "message": {"role": "assistant", "content": None}, "finish_reason": None}
    return {"index": index, "text": "", "finish_reason": None}


def _add_delta(message: dict[str, Any], delta: dict[str, Any]) -> None:
    if delta.get("content"):
        message["content"] = (message["content"] or "") + delta["content"]
    for call in delta.get("tool_calls") or ():
        calls = message.setdefault("tool_calls", [])
        index = call.get("index", len(calls))
        while len(calls) <= index:
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        target = calls[index]
        target["id"] = call.get("id") or target["id"]
        function = call.get("function") or {}
        target["function"]["name"] += function.get("name") or ""
        target["function"]["arguments"] += function.get("arguments") or ""
