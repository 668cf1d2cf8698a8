"""Every failure is an OpenAI-shaped error with the right status; never a hang."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, RunningGateway

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


@pytest.mark.parametrize("path, field, value", [
    ("/chat/completions", "stream", '"false"'),  # would reach the engine as a string and the gateway as true
    ("/chat/completions", "n", '"2"'),
    ("/chat/completions", "frequency_penalty", "false"),
    ("/chat/completions", "max_tokens", "10.0"),
    ("/completions", "echo", "0"),
])
def test_values_of_the_wrong_type_are_400_not_coerced(gw: RunningGateway, path: str, field: str, value: str) -> None:
    prompt = '"messages": [{"role": "user", "content": "hi"}]' if path == "/chat/completions" else '"prompt": "hi"'
    body = f'{{"model": "echo", {prompt}, "{field}": {value}}}'.encode()
    assert assert_openai_error(post(gw, path, body), 400, "invalid_request")["param"] == field


@pytest.mark.parametrize("path, body, param", [
    ("/embeddings", b'{"model": "echo", "input": [1.5]}', "input"),
    ("/completions", b'{"model": "echo", "prompt": {"a": 1}}', "prompt"),
    ("/chat/completions", b'{"model": "echo", "messages": [{"role": "user"}], "tool_choice": 1}', "tool_choice"),
    ("/chat/completions", b'{"model": "echo", "messages": [{"role": "user", "content": 7}]}', "messages.0.content"),
    ("/chat/completions", b'{"model": "echo", "messages": [{"role": "user"}], "tools": [{"type": "function"}]}',
     "tools.0.function"),
])
def test_a_value_matching_no_allowed_type_is_named_by_its_field(gw: RunningGateway, path: str, body: bytes,
                                                                param: str) -> None:
    """pydantic adds the union member it tried ("input.str"); the client's body has no such field."""
    assert assert_openai_error(post(gw, path, body), 400, "invalid_request")["param"] == param


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


# --- the routes FastAPI serves: one error rule, x-request-id, Allow ------------

ADMIN_ENV = "SEMGATE_TEST_ERRORS_ADMIN_KEY"
ADMIN_KEY = "admin-key-for-the-error-tests"


@pytest.fixture(scope="module")
def authed(bg: BackgroundLoop) -> Iterator[RunningGateway]:
    """A gateway with tenants and the admin API on."""
    config = {
        "server": {"health_interval_s": 60, "max_body_bytes": 65536},
        "models": [{"name": "sim", "engine": "sim", "sim": {"profile": "instant"}}],
        "auth": {"admin_key_env": ADMIN_ENV},
        "tenants": {"team": {}},
    }
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        running = bg.run(support.start_gateway(config))
    finally:
        del os.environ[ADMIN_ENV]
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture(scope="module")
def team_key(authed: RunningGateway) -> str:
    reply = httpx.post(f"{authed.url}/admin/v1/keys", json={"tenant": "team"},
                       headers={"authorization": f"Bearer {ADMIN_KEY}"})
    assert reply.status_code == 201, reply.text
    return reply.json()["key"]


@pytest.mark.parametrize("body", [b'{"tenant": 1, "surprise": true}', b"{not json", b"[" * 5000])
@pytest.mark.parametrize("key", [None, "not-the-admin-key"])
def test_admin_routes_refuse_a_missing_or_wrong_key_before_reading_the_body(
    authed: RunningGateway, body: bytes, key: str | None,
) -> None:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {key}"} if key else {})
    reply = httpx.post(f"{authed.url}/admin/v1/keys", content=body, headers=headers)
    error = assert_openai_error(reply, 401, "invalid_api_key")
    assert "tenant" not in error["message"] and reply.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/admin/v1/keys?tenant=team", "/admin/v1/tenants", "/admin/v1/tenants/zzz/usage"])
def test_every_admin_route_needs_the_admin_key(authed: RunningGateway, team_key: str, path: str) -> None:
    assert_openai_error(httpx.get(f"{authed.url}{path}"), 401, "invalid_api_key")
    reply = httpx.get(f"{authed.url}{path}", headers={"authorization": f"Bearer {team_key}"})
    assert_openai_error(reply, 401, "invalid_api_key")  # a tenant's key is not the admin key


@pytest.mark.parametrize("body, param, code", [
    (b'{"tenant": 1}', "tenant", "invalid_request"),
    (b'{"tenant": "team", "expires_in_s": -1}', "expires_in_s", "invalid_request"),
    (b'{"tenant": "team", "surprise": 1}', "surprise", "invalid_request"),
    (b"{}", "tenant", "invalid_request"),
    (b'{"tenant": ', None, "invalid_json"),
    (b"[" * 5000 + b"]" * 5000, None, "invalid_json"),
])
def test_admin_schema_errors_are_400_naming_the_field(
    authed: RunningGateway, body: bytes, param: str | None, code: str,
) -> None:
    reply = httpx.post(f"{authed.url}/admin/v1/keys", content=body,
                       headers={"authorization": f"Bearer {ADMIN_KEY}", "content-type": "application/json"})
    assert assert_openai_error(reply, 400, code)["param"] == param


@pytest.mark.parametrize("body, param", [
    ({"ttl_s": "soon"}, "ttl_s"),
    ({"ttl_s": "60"}, "ttl_s"),
    ({"graph": {"lazy": 0}}, "graph.lazy"),
])
def test_dataflow_schema_errors_are_400_naming_the_field(
    authed: RunningGateway, team_key: str, body: dict, param: str,
) -> None:
    reply = httpx.post(f"{authed.url}/dataflow/v1/sessions", json=body, headers={"authorization": f"Bearer {team_key}"})
    assert assert_openai_error(reply, 400, "invalid_request")["param"] == param


def test_a_query_parameter_of_the_wrong_type_is_400_not_422(gw: RunningGateway) -> None:
    """FastAPI's own parameter validation follows the gateway's rule too."""
    from fastapi import FastAPI

    api: FastAPI = gw.gateway.api
    if not any(getattr(route, "path", "") == "/test/typed" for route in api.router.routes):
        @api.get("/test/typed")
        async def typed(count: int) -> dict[str, int]:
            return {"count": count}

    error = assert_openai_error(httpx.get(f"{gw.url}/test/typed?count=many"), 400, "invalid_request")
    assert error["param"] == "count"
    assert_openai_error(httpx.get(f"{gw.url}/test/typed"), 400, "invalid_request")
    assert httpx.get(f"{gw.url}/test/typed?count=3").json() == {"count": 3}


@pytest.mark.parametrize("method, path, auth", [
    ("GET", "/health", None), ("GET", "/ready", None), ("GET", "/metrics", None),
    ("GET", "/v1/models", "team"), ("GET", "/v1/models/sim", "team"), ("GET", "/v1/models/nope", "team"),
    ("GET", "/v1/usage", "team"), ("GET", "/nowhere", "team"), ("DELETE", "/health", None),
    ("GET", "/v1/models", None), ("GET", "/admin/v1/tenants", "admin"), ("POST", "/admin/v1/keys", None),
    ("POST", "/dataflow/v1/sessions", "team"), ("GET", "/dataflow/v1/sessions/missing", "team"),
    ("POST", "/v1/chat/completions", None), ("POST", "/v1/chat/completions", "team"),
])
def test_every_response_carries_a_request_id(
    authed: RunningGateway, team_key: str, method: str, path: str, auth: str | None,
) -> None:
    key = {"team": team_key, "admin": ADMIN_KEY}.get(auth or "")
    headers = {"authorization": f"Bearer {key}"} if key else {}
    fresh = httpx.request(method, f"{authed.url}{path}", headers=headers, json={})
    assert len(fresh.headers["x-request-id"]) >= 16
    echoed = httpx.request(method, f"{authed.url}{path}", headers={**headers, "x-request-id": "trace-42"}, json={})
    assert echoed.headers["x-request-id"] == "trace-42"
    insane = httpx.request(method, f"{authed.url}{path}", headers={**headers, "x-request-id": "a b" * 100}, json={})
    assert insane.headers["x-request-id"] != "a b" * 100 and insane.headers["x-request-id"].isalnum()


def test_a_dataflow_stream_carries_the_request_id(authed: RunningGateway, team_key: str) -> None:
    headers = {"authorization": f"Bearer {team_key}", "x-request-id": "stream-7"}
    graph = {"variables": [{"id": "v", "value": "ready"}]}
    sid = httpx.post(f"{authed.url}/dataflow/v1/sessions", json={"graph": graph}, headers=headers).json()["id"]
    with httpx.stream("GET", f"{authed.url}/dataflow/v1/sessions/{sid}/variables/v/stream", headers=headers) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        assert reply.headers["x-request-id"] == "stream-7"
        assert b"[DONE]" in reply.read()


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/v1/chat/completions", "POST"),
    ("PUT", "/v1/embeddings", "POST"),
    ("POST", "/health", "GET"),
    ("PUT", "/dataflow/v1/sessions/abc", "GET, DELETE"),
    ("GET", "/dataflow/v1/sessions/abc/variables", "POST"),
])
def test_405_says_which_methods_the_path_accepts(gw: RunningGateway, method: str, path: str, allow: str) -> None:
    reply = httpx.request(method, f"{gw.url}{path}")
    assert_openai_error(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/admin/v1/keys", "/dataflow/v1/sessions"])
@pytest.mark.parametrize("chunked", [False, True])
def test_bodies_over_the_limit_are_413_on_admin_and_dataflow_routes_too(
    authed: RunningGateway, team_key: str, path: str, chunked: bool,
) -> None:
    key = ADMIN_KEY if path.startswith("/admin/") else team_key
    body = b'{"tenant": "' + b"x" * (authed.gateway.config.server.max_body_bytes + 10) + b'"}'
    content = (body[i:i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    reply = httpx.post(f"{authed.url}{path}", content=content, timeout=10,
                       headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    assert_openai_error(reply, 413, "payload_too_large")
    assert reply.headers["x-request-id"]
