"""StreamAssembler: SSE chunks back into the whole answer they add up to."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.assemble import StreamAssembler


def sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    body = b"".join(b"data: " + orjson.dumps(chunk) + b"\n\n" for chunk in chunks)
    return body + (b"data: [DONE]\n\n" if done else b"")


def chat_chunk(**choice: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 7, "model": "m", "choices": [choice]}


def assemble(data: bytes, chat: bool = True, limit: int = 1 << 20, usage: dict[str, Any] | None = None) -> Any:
    assembler = StreamAssembler(limit)
    for i in range(0, len(data), 7):  # arbitrary cuts: events span feeds
        assembler.feed(data[i:i + 7])
    return assembler.answer(chat, usage)


def test_chat_content_and_finish_reason_per_choice() -> None:
    data = sse(chat_chunk(index=0, delta={"role": "assistant", "content": "Hel"}),
               chat_chunk(index=1, delta={"content": "Other"}),
               chat_chunk(index=0, delta={"content": "lo"}, finish_reason="stop"),
               chat_chunk(index=1, delta={}, finish_reason="length"))
    answer = assemble(data, usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})
    assert answer["object"] == "chat.completion" and answer["id"] == "c1" and answer["model"] == "m"
    assert [c["message"]["content"] for c in answer["choices"]] == ["Hello", "Other"]
    assert [c["finish_reason"] for c in answer["choices"]] == ["stop", "length"]
    assert answer["usage"]["total_tokens"] == 5


def test_tool_call_deltas_are_joined_by_index() -> None:
    data = sse(chat_chunk(index=0, delta={"tool_calls": [{"index": 0, "id": "t1", "type": "function",
                                                          "function": {"name": "get_", "arguments": '{"ci'}}]}),
               chat_chunk(index=0, delta={"tool_calls": [{"index": 0, "function": {"name": "weather",
                                                                                   "arguments": 'ty": "Paris"}'}}]}),
               chat_chunk(index=0, delta={}, finish_reason="tool_calls"))
    message = assemble(data)["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [{"id": "t1", "type": "function",
                                      "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]


def test_text_completions() -> None:
    data = sse({"id": "t", "object": "text_completion", "choices": [{"index": 0, "text": "a"}]},
               {"id": "t", "object": "text_completion", "choices": [{"index": 0, "text": "b", "finish_reason": "stop"}]})
    answer = assemble(data, chat=False)
    assert answer["object"] == "text_completion" and answer["choices"][0]["text"] == "ab"


def test_nothing_to_keep_from_broken_errored_long_or_logprob_streams() -> None:
    ok = chat_chunk(index=0, delta={"content": "x"})
    assert assemble(sse(ok, done=False)) is None  # no [DONE]: it broke off
    assert assemble(sse(ok, {"error": {"message": "boom"}})) is None
    assert assemble(sse(ok), limit=10) is None
    assert assemble(sse(chat_chunk(index=0, delta={"content": "x"}, logprobs={"content": []}))) is None
    assert assemble(sse()) is None  # [DONE] alone is no answer
