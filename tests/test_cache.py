"""The response cache: exact match on the normalised request, opt-in per model
or route, per tenant, with a TTL; in memory and shared through Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream


def config(peer: ScriptedUpstream, store: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "server": {"health_interval_s": 60},
        "models": [
            {"name": "cached", "upstreams": [peer.base_url], "upstream_model": "echo", "cache": {"ttl_s": 0.5}},
            {"name": "plain", "upstreams": [peer.base_url], "upstream_model": "echo"},
            {"name": "streamer", "engine": "sim", "sim": {"profile": "instant"}, "cache": {"ttl_s": 60}},
        ],
        "routes": [{"name": "front", "strategy": "rules", "default": "plain", "cache": {"ttl_s": 60}}],
        **({"store": store} if store else {}),
    }


@pytest.fixture(scope="module")
def cgw(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    running = bg.run(support.start_gateway(config(peer)))
    yield running
    bg.run(support.stop_gateway(running))


def ask(gw: RunningGateway, model: str, content: str, key: str = "k1", **extra: Any) -> Any:
    client = openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=10)
    return client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": content}], **extra)


def counted(peer: ScriptedUpstream, content: str) -> int:
    return sum(1 for r in peer.requests if r.body and content in r.body.decode())


def test_an_identical_request_is_answered_from_the_cache(cgw: RunningGateway, peer: ScriptedUpstream) -> None:
    first = ask(cgw, "cached", "same question")
    second = ask(cgw, "cached", "same question", user="someone-else")  # delivery-only fields do not count
    assert first.headers["x-semgate-cache"] == "miss" and second.headers["x-semgate-cache"] == "hit"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert second.headers["x-semgate-model"] == "cached"
    assert counted(peer, "same question") == 1


def test_any_change_to_what_is_asked_is_a_miss(cgw: RunningGateway, peer: ScriptedUpstream) -> None:
    ask(cgw, "cached", "vary me")
    assert ask(cgw, "cached", "vary me", temperature=0.3).headers["x-semgate-cache"] == "miss"
    assert ask(cgw, "cached", "vary me", key="another-tenant").headers["x-semgate-cache"] == "miss"
    assert counted(peer, "vary me") == 3


def test_a_stream_is_replayed_from_a_cached_whole_answer(cgw: RunningGateway) -> None:
    whole = ask(cgw, "cached", "stream me").parse().choices[0].message.content
    client = openai.OpenAI(base_url=cgw.base_url, api_key="k1", max_retries=0, timeout=10)
    with client.chat.completions.with_streaming_response.create(
            model="cached", messages=[{"role": "user", "content": "stream me"}], stream=True) as reply:
        assert reply.headers["x-semgate-cache"] == "hit"
        text = "".join(chunk.choices[0].delta.content or "" for chunk in reply.parse() if chunk.choices)
    assert text == whole


def test_a_streamed_answer_is_stored_whole_for_streams_and_plain_requests(cgw: RunningGateway) -> None:
    client = openai.OpenAI(base_url=cgw.base_url, api_key="k1", max_retries=0, timeout=10)
    messages = [{"role": "user", "content": "tell me a story"}]

    def stream() -> tuple[str, str]:
        with client.chat.completions.with_streaming_response.create(
                model="streamer", messages=messages, max_tokens=12, stream=True) as reply:
            text = "".join(chunk.choices[0].delta.content or "" for chunk in reply.parse() if chunk.choices)
            return reply.headers["x-semgate-cache"], text

    status, streamed = stream()
    assert status == "miss" and streamed
    whole = client.chat.completions.with_raw_response.create(model="streamer", messages=messages, max_tokens=12)
    assert whole.headers["x-semgate-cache"] == "hit"
    answer = whole.parse()
    assert answer.choices[0].message.content == streamed and answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 12  # the usage the stream reported
    assert stream() == ("hit", streamed)


def test_entries_expire_after_their_ttl(cgw: RunningGateway, peer: ScriptedUpstream) -> None:
    ask(cgw, "cached", "short lived")
    time.sleep(0.6)
    assert ask(cgw, "cached", "short lived").headers["x-semgate-cache"] == "miss"
    assert counted(peer, "short lived") == 2


def test_only_models_and_routes_that_opted_in_are_cached(cgw: RunningGateway, peer: ScriptedUpstream) -> None:
    assert "x-semgate-cache" not in ask(cgw, "plain", "not cached").headers
    ask(cgw, "plain", "not cached")
    assert counted(peer, "not cached") == 2
    ask(cgw, "front", "via a route")
    assert ask(cgw, "front", "via a route").headers["x-semgate-cache"] == "hit"
    metrics = httpx.get(cgw.url + "/metrics").text
    assert 'semgate_cache_lookups_total{model="front",result="hit"} 1.0' in metrics


def test_replicas_share_the_cache_through_redis(bg: BackgroundLoop, peer: ScriptedUpstream, redis_url: str) -> None:
    store = {"backend": "redis", "url": redis_url}
    first = bg.run(support.start_gateway(config(peer, store)))
    second = bg.run(support.start_gateway(config(peer, store)))
    try:
        ask(first, "front", "shared answer")
        reply = ask(second, "front", "shared answer")
        assert reply.headers["x-semgate-cache"] == "hit"
        assert counted(peer, "shared answer") == 1
    finally:
        bg.run(support.stop_gateway(first))
        bg.run(support.stop_gateway(second))
