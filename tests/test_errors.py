"""Every failure is an OpenAI-shaped error with the right status; never a hang."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.support import RunningGateway

MESSAGES = [{"role": "user", "content": "hi"}]


def post(gw: RunningGateway, path: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{gw.base_url}{path}", content=content, headers={"content-type": "application/json", **headers}, timeout=10)


def assert_openai_error(reply: httpx.Response, status: int, code: str | None = None) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert set(error) >= {"message", "type", "code"} and error["message"]
    assert "Traceback" not in reply.text
    if code is not None:
        assert error["code"] == code
    return error


def test_malformed_json_is_400(gw: RunningGateway) -> None:
    assert_openai_error(post(gw, "/chat/completions", b'{"model": "echo", '), 400, "invalid_json")


@pytest.mark.parametrize("body, param", [
    (b'[1, 2]', None),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', "model"),
    (b'{"model": "echo"}', "messages"),
    (b'{"model": "echo", "messages": []}', "messages"),
    (b'{"model": "echo", "messages": [{"role": "wizard", "content": "hi"}]}', "messages.0.role"),
    (b'{"model": "echo", "messages": [{"role": "user", "content": "hi"}], "n": 0}', "n"),
    (b'{"model": "echo", "messages": [{"role": "user", "content": "hi"}], "temperature": 9}', "temperature"),
    (b'{"model": "echo", "messages": [{"role": "user", "content": "hi"}], "top_logprobs": 50}', "top_logprobs"),
])
def test_schema_violations_are_400_naming_the_field(gw: RunningGateway, body: bytes, param: str | None) -> None:
    error = assert_openai_error(post(gw, "/chat/completions", body), 400, "invalid_request")
    if param is not None:
        assert error["param"] == param


def test_sdk_sees_schema_errors_as_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="echo", messages=MESSAGES, n=0)
    assert caught.value.status_code == 400


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-17", messages=MESSAGES)
    assert caught.value.body["code"] == "model_not_found"


def test_body_over_the_limit_is_413(gw: RunningGateway) -> None:
    big = b'{"model": "echo", "messages": [{"role": "user", "content": "' + b"x" * 70_000 + b'"}]}'
    assert_openai_error(post(gw, "/chat/completions", big), 413, "payload_too_large")


@pytest.mark.parametrize("pieces", [1, 22])
def test_chunked_body_over_the_limit_is_413(gw: RunningGateway, pieces: int) -> None:
    # Chunked transfer-encoding: no content-length to check up front, and the
    # server may hand the body over in one message or in many.
    body = b'{"model": "echo", "messages": [{"role": "user", "content": "' + b"x" * 100_000 + b'"}]}'
    size = -(-len(body) // pieces)
    chunks = (body[i : i + size] for i in range(0, len(body), size))
    reply = httpx.post(f"{gw.base_url}/chat/completions", content=chunks, timeout=10)
    assert_openai_error(reply, 413, "payload_too_large")


def test_unreachable_upstream_is_503(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="down", messages=MESSAGES)
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "upstream_unavailable"


def test_silent_upstream_is_504_after_the_read_timeout(gw: RunningGateway) -> None:
    started = time.monotonic()
    reply = post(gw, "/chat/completions", b'{"model": "stall", "messages": [{"role": "user", "content": "hi"}]}')
    assert_openai_error(reply, 504, "upstream_timeout")
    assert time.monotonic() - started < 5  # read_timeout_s is 1 s in this config


def test_upstream_hanging_up_is_503(gw: RunningGateway) -> None:
    reply = post(gw, "/chat/completions", b'{"model": "hang_up", "messages": [{"role": "user", "content": "hi"}]}')
    assert_openai_error(reply, 503)


def test_upstream_html_error_is_wrapped(gw: RunningGateway) -> None:
    error = assert_openai_error(post(gw, "/chat/completions", b'{"model": "html_500", "messages": [{"role": "user", "content": "hi"}]}'), 500)
    assert "Internal Server Error" in error["message"]


def test_upstream_openai_error_passes_through(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="openai_400", messages=MESSAGES)
    assert "max_tokens is too large" in caught.value.message


def test_upstream_dying_mid_stream_ends_with_an_error_event(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="die_mid_stream", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError) as caught:
        for _ in stream:
            pass
    assert "closed the connection" in str(caught.value)


def test_wrong_method_is_405(gw: RunningGateway) -> None:
    assert_openai_error(httpx.get(f"{gw.base_url}/chat/completions"), 405, "method_not_allowed")


def test_unknown_path_is_404(gw: RunningGateway) -> None:
    assert_openai_error(httpx.get(f"{gw.url}/v1/nothing-here"), 404, "not_found")


def test_gateway_keeps_serving_after_errors(client: openai.OpenAI) -> None:
    assert client.chat.completions.create(model="echo", messages=MESSAGES).choices[0].message.content


def test_a_gateway_bug_is_a_500_in_openai_shape_not_a_traceback(gw: RunningGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.proxy import ProxyEndpoint

    async def broken(*args: object) -> int:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(ProxyEndpoint, "_serve", broken)
    reply = post(gw, "/chat/completions", b'{"model": "echo", "messages": [{"role": "user", "content": "hi"}]}')
    error = assert_openai_error(reply, 500, "internal_error")
    assert "simulated bug" not in error["message"]  # details stay in the log
