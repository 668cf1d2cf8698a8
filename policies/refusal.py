"""How a block answers: an assistant refusal, or an OpenAI-style 400 error.

A refusal is a normal completion whose `finish_reason` is "content_filter"
(what OpenAI and Azure send when their filters stop an answer), so clients
that handle that reason need nothing new; `block_response: error` answers
400 with code `content_policy_violation` naming the category instead.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import error_body
from gateway.exchange import JSON
from policies.config import PolicyProfile
from policies.decisions import Blocked

SSE = b"text/event-stream; charset=utf-8"


@dataclass(frozen=True, slots=True)
class BlockReply:
    status: int
    body: bytes
    content_type: bytes


def block_reply(profile: PolicyProfile, data: dict[str, Any], chat: bool, blocked: Blocked) -> BlockReply:
    if profile.block_response == "error":
        message = f"the request was blocked by policy: {blocked.reason}"
        return BlockReply(400, error_body(message, "invalid_request_error", "content_policy_violation"), JSON)
    answer = _refusal(profile.refusal_text, data, chat, blocked)
    if not data.get("stream"):
        return BlockReply(200, orjson.dumps(answer), JSON)
    chunk = _as_chunk(answer, chat)
    return BlockReply(200, b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n", SSE)


def _refusal(text: str, data: dict[str, Any], chat: bool, blocked: Blocked) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": "content_filter", "logprobs": None}
    if chat:
        choice["message"] = {"role": "assistant", "content": text, "refusal": text}
    else:
        choice["text"] = text
    return {
        "id": ("chatcmpl-" if chat else "cmpl-") + os.urandom(12).hex(),
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()), "model": data.get("model", ""), "choices": [choice],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "semgate": {"blocked": blocked.decision.render(), "categories": list(blocked.categories)},
    }


def _as_chunk(answer: dict[str, Any], chat: bool) -> dict[str, Any]:
    choice = answer["choices"][0]
    if chat:
        message = choice["message"]
        choice = {"index": 0, "delta": {"role": "assistant", "content": message["content"]},
                  "finish_reason": "content_filter", "logprobs": None}
    return {**answer, "object": "chat.completion.chunk" if chat else "text_completion", "choices": [choice]}


def _chunk(last: dict[str, Any], chat: bool, choices: list[dict[str, Any]]) -> bytes:
    base = {"id": last.get("id", ""), "created": last.get("created", 0), "model": last.get("model", ""),
            "object": "chat.completion.chunk" if chat else "text_completion"}
    return b"data: " + orjson.dumps({**base, "choices": choices}) + b"\n\n"


def stream_cut(last: dict[str, Any], chat: bool, blocked: Blocked) -> bytes:
    """The end of a stream an output guard stopped: finish_reason content_filter, then [DONE]."""
    indexes = [c.get("index", 0) for c in last.get("choices") or []] or [0]
    key = "delta" if chat else "text"
    choices = [{"index": i, key: {} if chat else "", "finish_reason": "content_filter"} for i in indexes]
    return _chunk(last, chat, choices) + b"data: [DONE]\n\n"


def text_chunk(last: dict[str, Any], chat: bool, index: int, text: str) -> bytes:
    """A chunk carrying released text (held back until the end of the stream)."""
    choice: dict[str, Any] = {"index": index, "finish_reason": None}
    if chat:
        choice["delta"] = {"content": text}
    else:
        choice["text"] = text
    return _chunk(last, chat, [choice])
