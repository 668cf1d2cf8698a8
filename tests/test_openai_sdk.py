"""The official OpenAI SDK, pointed at the gateway, over the simulated engine."""

from __future__ import annotations

import json

import openai
import pytest

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def test_sync_chat_completion(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=16)
    assert reply.model == "sim"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None and 0 < reply.usage.completion_tokens <= 16
    assert reply.usage.prompt_tokens > 0


async def test_async_chat_completion(aclient: openai.AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=8, seed=7)
    again = await aclient.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=8, seed=7)
    assert reply.choices[0].message.content == again.choices[0].message.content


def test_streaming_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="sim", messages=MESSAGES, max_tokens=12, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert text and usage.completion_tokens == sum(1 for c in chunks if c.choices and c.choices[0].delta.content)
    assert all(c.model == "sim" for c in chunks)


def test_streaming_without_usage_hides_the_usage_event(client: openai.OpenAI) -> None:
    # The gateway asks the engine for usage anyway (metrics); the client must not see it.
    chunks = list(client.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=6, stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


def test_streamed_text_equals_non_streamed_text(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=10, temperature=0)
    stream = client.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=10, temperature=0, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == whole.choices[0].message.content


def test_n_choices(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=8, n=2, temperature=1.0)
    assert [c.index for c in reply.choices] == [0, 1]
    assert reply.choices[0].message.content != reply.choices[1].message.content


def test_logprobs(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="sim", messages=MESSAGES, max_tokens=5, logprobs=True, top_logprobs=3)
    content = reply.choices[0].logprobs.content
    assert content and len(content) == reply.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        assert [t.logprob for t in entry.top_logprobs] == sorted((t.logprob for t in entry.top_logprobs), reverse=True)


def test_tools_pass_through(client: openai.OpenAI) -> None:
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }]
    reply = client.chat.completions.create(model="sim", messages=MESSAGES, tools=tools, tool_choice="required")
    call = reply.choices[0].message.tool_calls[0]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)


def test_text_completions(client: openai.OpenAI) -> None:
    reply = client.completions.create(model="sim", prompt="Once upon a time", max_tokens=6)
    assert reply.choices[0].text and reply.usage.completion_tokens <= 6
    stream = client.completions.create(model="sim", prompt="Once upon a time", max_tokens=6, stream=True)
    assert "".join(c.choices[0].text for c in stream if c.choices) == reply.choices[0].text


def test_embeddings(client: openai.OpenAI) -> None:
    reply = client.embeddings.create(model="sim", input=["hello", "world"])
    assert len(reply.data) == 2 and len(reply.data[0].embedding) > 0


def test_models_lists_the_public_names(client: openai.OpenAI) -> None:
    names = {m.id for m in client.models.list()}
    assert {"sim", "renamed", "echo"} <= names
    assert client.models.retrieve("sim").id == "sim"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
