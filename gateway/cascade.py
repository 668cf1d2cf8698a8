"""Cascade execution: ask the weak model, keep its answer only if it is trusted.

The weak model is always asked without streaming (an answer must be whole to
be judged) and with logprobs (what the shipped judge reads). A trusted answer
is returned in the shape the client asked for: logprobs removed if it did not
ask for them, replayed as an SSE stream if it asked to stream.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.strategies import Judge


def weak_request(data: dict[str, Any], chat: bool) -> dict[str, Any]:
    probe = {**data, "stream": False}
    probe.pop("stream_options", None)
    if chat:
        probe["logprobs"] = True
    elif not data.get("logprobs"):
        probe["logprobs"] = 1
    return probe


def judge_answer(judge: Judge, status: int, body: bytes) -> tuple[dict[str, Any] | None, bool, str]:
    """(parsed answer, trusted?, reason)."""
    if status != 200:
        return None, False, f"weak model answered {status}"
    answer = parse_answer(body)
    if answer is None:
        return None, False, "weak model sent no answer"
    trusted, reason = judge(answer)
    return answer, trusted, reason


def parse_answer(body: bytes) -> dict[str, Any] | None:
    """A whole answer's JSON object; None for invalid JSON or anything else."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return answer if isinstance(answer, dict) else None


def as_client_asked(answer: dict[str, Any], data: dict[str, Any], public_model: str) -> dict[str, Any]:
    answer["model"] = public_model
    if not data.get("logprobs"):
        for choice in answer.get("choices") or []:
            choice["logprobs"] = None
    return answer


def as_sse(answer: dict[str, Any], chat: bool, include_usage: bool) -> bytes:
    """A complete answer replayed as an OpenAI stream: one content chunk per choice."""
    base = {"id": answer.get("id", ""), "created": answer.get("created", 0), "model": answer.get("model", "")}
    events = []
    for choice in answer.get("choices") or []:
        if chat:
            message = choice.get("message") or {}
            delta = {"role": "assistant", "content": message.get("content")}
            if message.get("tool_calls"):
                delta["tool_calls"] = [{**call, "index": i} for i, call in enumerate(message["tool_calls"])]
            item = {"index": choice.get("index", 0), "delta": delta, "logprobs": choice.get("logprobs"),
                    "finish_reason": choice.get("finish_reason")}
            events.append({**base, "object": "chat.completion.chunk", "choices": [item]})
        else:
            item = {"index": choice.get("index", 0), "text": choice.get("text", ""), "logprobs": choice.get("logprobs"),
                    "finish_reason": choice.get("finish_reason")}
            events.append({**base, "object": "text_completion", "choices": [item]})
    if include_usage and answer.get("usage"):
        kind = "chat.completion.chunk" if chat else "text_completion"
        events.append({**base, "object": kind, "choices": [], "usage": answer["usage"]})
    return b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"
