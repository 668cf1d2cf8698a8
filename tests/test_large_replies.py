"""Whole (non-streamed) upstream replies of 1, 8 and 64 MiB reach the client, plain and through
every feature that reads a reply (cache, output policies, cascade, usage accounting); error
bodies of any size keep their status; a reply over `server.max_reply_bytes` is a clear 502."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import openai
import orjson
import pytest

from gateway.store.memory import MemoryStore
from gateway.streaming import usage_of
from tests import support
from tests.support import BackgroundLoop, PeerRequest, RunningGateway, ScriptedUpstream

MiB = 1 << 20
ADMIN_ENV = "SEMGATE_TEST_LARGE_ADMIN_KEY"
SIZES = [1, 8, 64]


# --- the upstream: answers of the size the request names ("mib=8") ---------------------------------


def wanted_mib(request: PeerRequest) -> int:
    body = request.json()
    text = body["messages"][-1]["content"] if "messages" in body else body["input"][0]
    return int(text.removeprefix("mib="))


@cache
def text(mib: int) -> str:
    """A harmless answer text (guards judge it) a little under `mib` MiB."""
    line = "The weather is mild and the library opens at nine. "
    return (line * (mib * MiB // len(line) + 1))[: mib * MiB - 400]


@cache
def chat_body(mib: int) -> bytes:
    """A chat answer of about `mib` MiB, with the logprobs a cascade judge reads."""
    token = {"token": "x", "logprob": -0.1, "bytes": None, "top_logprobs": []}
    choice = {"index": 0, "message": {"role": "assistant", "content": text(mib)},
              "finish_reason": "stop", "logprobs": {"content": [token]}}
    return orjson.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "big", "choices": [choice],
                         "usage": {"prompt_tokens": 7, "completion_tokens": mib * 1000,
                                   "total_tokens": 7 + mib * 1000}})


@cache
def logprobs_body(mib: int) -> bytes:
    """What n=64, logprobs, top_logprobs=20 looks like: many small objects."""
    top = [{"token": f"t{i}", "logprob": -1.5, "bytes": None} for i in range(20)]
    per_token = len(orjson.dumps({"token": "x", "logprob": -0.1, "bytes": None, "top_logprobs": top}))
    tokens = mib * MiB // 64 // per_token
    choices = [{"index": i, "message": {"role": "assistant", "content": "x" * tokens}, "finish_reason": "length",
                "logprobs": {"content": [{"token": "x", "logprob": -0.1, "bytes": None, "top_logprobs": top}] * tokens}}
               for i in range(64)]
    return orjson.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "big", "choices": choices,
                         "usage": {"prompt_tokens": 7, "completion_tokens": 64 * tokens,
                                   "total_tokens": 7 + 64 * tokens}})


@cache
def embeddings_body(mib: int) -> bytes:
    vector = [0.0123456] * 1024
    per_input = len(orjson.dumps({"object": "embedding", "index": 0, "embedding": vector}))
    data = [{"object": "embedding", "index": i, "embedding": vector} for i in range(mib * MiB // per_input)]
    return orjson.dumps({"object": "list", "data": data, "model": "big",
                         "usage": {"prompt_tokens": len(data), "total_tokens": len(data)}})


async def big(request: PeerRequest, writer: Any) -> None:
    if request.path.endswith("/embeddings"):
        body = embeddings_body(wanted_mib(request))
    elif request.json().get("top_logprobs"):
        body = logprobs_body(wanted_mib(request))
    else:
        body = chat_body(wanted_mib(request))
    await support.respond(writer, 200, body)


async def big_chunked(request: PeerRequest, writer: Any) -> None:
    """The same answer without a content-length: only counting the bytes can stop it."""
    body = chat_body(wanted_mib(request))
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
    for start in range(0, len(body), 256 * 1024):
        part = body[start:start + 256 * 1024]
        writer.write(b"%x\r\n%s\r\n" % (len(part), part))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def error_500(request: PeerRequest, writer: Any) -> None:
    error = {"message": "m" * (2 * MiB), "type": "InternalServerError", "param": None, "code": 500}
    await support.respond(writer, 500, orjson.dumps({"error": error}))


async def html_500(request: PeerRequest, writer: Any) -> None:
    await support.respond(writer, 500, b"<html>" + b"e" * (2 * MiB) + b"</html>", b"text/html")


@pytest.fixture(scope="module")
def peer(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    behaviours = {"big": big, "big_chunked": big_chunked, "error_500": error_500, "html_500": html_500}
    upstream = bg.run(ScriptedUpstream(behaviours=behaviours).start())
    yield upstream
    bg.run(upstream.stop())


def model(name: str, peer: ScriptedUpstream, upstream_model: str = "big", **extra: Any) -> dict[str, Any]:
    return {"name": name, "upstreams": [peer.base_url], "upstream_model": upstream_model,
            "retry": {"attempts": 1}, **extra}


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    config = {
        # A reply stuck behind the read pause fails at read_timeout_s: short, so a regression fails fast.
        "server": {"read_timeout_s": 5, "max_reply_bytes": 72 * MiB, "health_interval_s": 60},
        "models": [
            model("big", peer),
            model("cached", peer, cache={"ttl_s": 60, "max_bytes": 72 * MiB}),
            model("guarded", peer),
            model("strong", peer),
            model("error_500", peer, "error_500"),
            model("html_500", peer, "html_500"),
        ],
        "routes": [{"name": "trusting", "strategy": "cascade", "weak": "big", "strong": "strong",
                    "min_mean_logprob": -100}],
        "policies": {
            "guards": {"local": {"type": "embedded"}},
            "profiles": {"checked": {"output": [{"kind": "pii"}, {"kind": "guard", "guard": "local"}]}},
            "models": {"guarded": "checked"},
        },
        "auth": {"admin_key_env": ADMIN_ENV},
        "tenants": {"team": {}},
    }
    os.environ[ADMIN_ENV] = "admin-key-for-large-replies"
    try:
        running = bg.run(support.start_gateway(config, store=MemoryStore()))
    finally:
        del os.environ[ADMIN_ENV]
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture(scope="module")
def key(gw: RunningGateway) -> str:
    reply = httpx.post(gw.url + "/admin/v1/keys", json={"tenant": "team", "name": "big"},
                       headers={"authorization": "Bearer admin-key-for-large-replies"})
    assert reply.status_code == 201, reply.text
    return reply.json()["key"]


@pytest.fixture
def client(gw: RunningGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=60)


def ask(client: openai.OpenAI, name: str, mib: int, **extra: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": f"mib={mib}"}], **extra)


def content_of(raw: Any) -> str:
    return raw.parse().choices[0].message.content


# --- plain -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mib", SIZES)
def test_a_large_chat_answer_reaches_the_client_whole(client: openai.OpenAI, mib: int) -> None:
    raw = ask(client, "big", mib)
    assert raw.status_code == 200
    assert content_of(raw) == text(mib)


@pytest.mark.parametrize("mib", SIZES)
def test_embeddings_for_many_inputs_reach_the_client_whole(client: openai.OpenAI, mib: int) -> None:
    # The raw reply: the SDK's pydantic models take ~30 s to build 7 million floats; the bytes are the point.
    raw = client.embeddings.with_raw_response.create(model="big", input=[f"mib={mib}"], encoding_format="float")
    assert raw.status_code == 200
    assert raw.content == embeddings_body(mib)


def test_many_choices_with_top_logprobs_reach_the_client(client: openai.OpenAI) -> None:
    raw = ask(client, "big", 8, n=64, logprobs=True, top_logprobs=20)
    answer = raw.parse()
    assert len(answer.choices) == 64
    assert len(answer.choices[-1].logprobs.content[-1].top_logprobs) == 20


# --- through the features that read a reply ------------------------------------------------------------


@pytest.mark.parametrize("mib", SIZES)
def test_a_large_answer_is_cached_and_served_from_the_cache(client: openai.OpenAI, peer: ScriptedUpstream,
                                                            mib: int) -> None:
    first = ask(client, "cached", mib, temperature=0.5)
    second = ask(client, "cached", mib, temperature=0.5)
    assert first.headers["x-semgate-cache"] == "miss" and second.headers["x-semgate-cache"] == "hit"
    assert content_of(second) == content_of(first) == text(mib)


@pytest.mark.parametrize("mib", SIZES)
def test_output_policies_check_a_large_answer(client: openai.OpenAI, mib: int) -> None:
    raw = ask(client, "guarded", mib)
    assert "output.guard.local=allow" in raw.headers["x-semgate-policy"]
    assert content_of(raw) == text(mib)


@pytest.mark.parametrize("mib", SIZES)
def test_a_cascade_judges_a_large_weak_answer(client: openai.OpenAI, mib: int) -> None:
    raw = ask(client, "trusting", mib)
    assert raw.headers["x-semgate-route"].startswith("cascade: weak answer kept")
    assert content_of(raw) == text(mib)


def test_usage_of_large_answers_is_counted_for_the_tenant(gw: RunningGateway, client: openai.OpenAI,
                                                          key: str) -> None:
    def completion_tokens() -> int:
        access = gw.gateway.access
        assert access is not None and gw.task is not None
        asyncio.run_coroutine_threadsafe(access.flush(), gw.task.get_loop()).result(10)
        report = httpx.get(gw.url + "/v1/usage", headers={"authorization": f"Bearer {key}"}).json()
        return int(report["usage"]["day"]["completion_tokens"])

    before = completion_tokens()
    for mib in SIZES:
        ask(client, "big", mib)
    assert completion_tokens() - before == sum(mib * 1000 for mib in SIZES)


# --- errors ----------------------------------------------------------------------------------------


def test_a_large_upstream_error_keeps_its_status_and_body(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, "error_500", 1)
    assert caught.value.status_code == 500
    assert caught.value.body["message"] == "m" * (2 * MiB)  # type: ignore[index]


def test_a_large_non_openai_error_keeps_its_status_and_is_wrapped(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, "html_500", 1)
    assert caught.value.status_code == 500
    message = caught.value.body["message"]  # type: ignore[index]
    assert message.startswith("upstream answered 500: <html>eee") and len(message) < 600


@pytest.fixture(scope="module")
def tight(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    """A gateway that takes whole replies of up to 4 MiB."""
    config = {"server": {"read_timeout_s": 5, "max_reply_bytes": 4 * MiB, "health_interval_s": 60},
              "models": [model("big", peer), model("big_chunked", peer, "big_chunked"),
                         model("error_500", peer, "error_500")]}
    running = bg.run(support.start_gateway(config))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.mark.parametrize("name", ["big", "big_chunked"])
def test_a_reply_over_max_reply_bytes_is_a_502_and_the_replica_keeps_its_standing(
    tight: RunningGateway, peer: ScriptedUpstream, name: str
) -> None:
    client = openai.OpenAI(base_url=tight.base_url, api_key="k", max_retries=0, timeout=30)
    aborted = peer.aborted
    for _ in range(6):  # more than the breaker's threshold of 5
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model=name, messages=[{"role": "user", "content": "mib=8"}])
        assert caught.value.status_code == 502
        assert caught.value.body["code"] == "upstream_reply_too_large"  # type: ignore[index]
        assert "max_reply_bytes" in caught.value.body["message"]  # type: ignore[index]
    replica = tight.gateway.routes[name].replicas.replicas[0]
    assert replica.breaker.failures == 0 and replica.in_flight == 0
    assert peer.aborted > aborted  # the upstream request was dropped, not read to the end
    small = client.chat.completions.create(model=name, messages=[{"role": "user", "content": "mib=1"}])
    assert len(small.choices[0].message.content or "") == MiB - 400
    metrics = httpx.get(tight.url + "/metrics").text
    assert f'model="{name}"' in metrics and "upstream_reply_too_large" in metrics


def test_an_error_body_over_max_reply_bytes_still_reports_the_status(tight: RunningGateway) -> None:
    # 2 MiB error, under the 4 MiB limit: relayed.
    client = openai.OpenAI(base_url=tight.base_url, api_key="k", max_retries=0, timeout=30)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="error_500", messages=[{"role": "user", "content": "mib=1"}])
    assert caught.value.status_code == 500


# --- reading usage without parsing the whole answer ---------------------------------------------------


@pytest.mark.parametrize("body, usage", [
    (b'{"choices":[],"usage":{"prompt_tokens":1,"details":{"cached":0}}}', {"prompt_tokens": 1, "details": {"cached": 0}}),
    (b'{"usage": {"prompt_tokens": 2}, "choices": []}', {"prompt_tokens": 2}),  # not last: full parse
    (b'{"choices":[{"usage":{"prompt_tokens":3}}]}', None),  # nested: not the answer's usage
    (b'{"choices":[{"text":"\\"usage\\":{\\"prompt_tokens\\":4}}"}]}', None),  # inside a string
    (b'{"kind":"usage"}', None),
    (b'{"usage":null}', None),
    (b'not json "usage":{}', None),
    (b'[{"usage":{"prompt_tokens":5}}]', None),
])
def test_usage_is_read_from_the_top_level_of_an_answer_only(body: bytes, usage: dict[str, Any] | None) -> None:
    assert usage_of(body) == usage
