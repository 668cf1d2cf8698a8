"""A corpus of bad input, on every endpoint, against a running gateway over raw sockets.

Malformed and truncated JSON, invalid UTF-8, lone surrogates, 10k-deep
nesting, numbers no double holds, NaN literals, duplicate keys, bodies that
are not objects, wrong types for every main field, path and header tricks.
Whatever arrives, the gateway answers: never a 5xx, always an OpenAI-shaped
error with the right status, always x-request-id; and it serves a normal
request afterwards.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import orjson
import pytest

from gateway.tenants.keys import hash_key
from tests import support
from tests.support import BackgroundLoop, RunningGateway

ADMIN_ENV = "SEMGATE_ROBUST_ADMIN_KEY"
ADMIN_KEY = "robust-admin-key"
KEY = "sk-robust-tenant-key"
LIMIT = 65536
ERROR_FIELDS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def gateway(bg: BackgroundLoop) -> Iterator[RunningGateway]:
    config = {
        "server": {"health_interval_s": 60, "max_body_bytes": LIMIT},
        "dataflow": {"max_wait_s": 0.2},
        "models": [{"name": "sim", "engine": "sim", "sim": {"profile": "instant"}}],
        "auth": {"admin_key_env": ADMIN_ENV},
        "tenants": {"team": {"key_hashes": [hash_key(KEY.encode())]}},
    }
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        running = bg.run(support.start_gateway(config))
    finally:
        del os.environ[ADMIN_ENV]
    yield running
    bg.run(support.stop_gateway(running))


# --- a raw HTTP/1.1 client: sends exactly the bytes it is given --------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> dict[str, Any]:
        return orjson.loads(self.body)["error"]


def exchange(port: int, head: bytes, body: bytes = b"") -> Reply:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    raw_head, _, rest = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        rest = _unchunk(rest)
    return Reply(int(lines[0].split()[1]), headers, rest)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def send(gw: RunningGateway, method: str, path: str, body: bytes = b"", *, key: str | None = KEY,
         headers: list[tuple[bytes, bytes]] | None = None, content_type: bytes | None = b"application/json") -> Reply:
    head = [b"%s %s HTTP/1.1" % (method.encode(), path.encode("latin-1")), b"host: 127.0.0.1",
            b"connection: close", b"content-length: %d" % len(body)]
    if content_type is not None:
        head.append(b"content-type: " + content_type)
    if key is not None:
        head.append(b"authorization: Bearer " + key.encode())
    head += [name + b": " + value for name, value in headers or []]
    return exchange(gw.port, b"\r\n".join(head) + b"\r\n\r\n", body)


def assert_answered(reply: Reply, *statuses: int, code: str | None = None) -> None:
    """No 5xx; the expected status; an OpenAI-shaped error; x-request-id."""
    assert reply.status in statuses, (reply.status, reply.body[:300])
    assert reply.headers.get("x-request-id")
    if reply.status >= 400:
        assert reply.headers["content-type"].startswith("application/json"), reply.headers
        error = reply.error()
        assert set(error) == ERROR_FIELDS and isinstance(error["message"], str) and error["message"]
        assert b"Traceback" not in reply.body
        if code is not None:
            assert error["code"] == code, error


# --- every endpoint that takes a body: a valid body, to break --------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    valid: dict[str, Any]
    key: str = KEY
    empty_is_valid: bool = False  # dataflow reads an empty body as {}


SESSION = "/dataflow/v1/sessions/{sid}"
ENDPOINTS = {
    "chat": Endpoint("POST", "/v1/chat/completions",
                     {"model": "sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}),
    "completions": Endpoint("POST", "/v1/completions", {"model": "sim", "prompt": "hi", "max_tokens": 2}),
    "embeddings": Endpoint("POST", "/v1/embeddings", {"model": "sim", "input": "hi"}),
    "session": Endpoint("POST", "/dataflow/v1/sessions", {"ttl_s": 60}, empty_is_valid=True),
    "graph": Endpoint("POST", SESSION + "/graphs", {"variables": [{"id": "g", "value": "x"}]}, empty_is_valid=True),
    "call": Endpoint("POST", SESSION + "/calls",
                     {"model": "sim", "template": "say {{x}}", "outputs": {"x": {"id": "out", "max_tokens": 2}}}),
    "variable": Endpoint("POST", SESSION + "/variables", {"id": "w", "value": "x"}),
    "set": Endpoint("PUT", SESSION + "/variables/v", {"value": "y"}),
    "admin": Endpoint("POST", "/admin/v1/keys", {"tenant": "team", "name": "robust"}, key=ADMIN_KEY),
}


@pytest.fixture(scope="module")
def sid(gateway: RunningGateway) -> str:
    """A session (with a variable `v`) for the dataflow routes to address."""
    body = orjson.dumps({"graph": {"variables": [{"id": "v"}]}})
    reply = send(gateway, "POST", "/dataflow/v1/sessions", body)
    assert reply.status == 201, reply.body
    return str(orjson.loads(reply.body)["id"])


def valid_json(endpoint: Endpoint) -> bytes:
    return orjson.dumps(endpoint.valid)


DEEP_ARRAYS = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECTS = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
# Bytes that are not a JSON object a schema could accept: always a 400.
BROKEN: dict[str, bytes | None] = {
    "truncated": None,  # the valid body cut in half
    "unclosed object": b'{"model": ',
    "trailing comma": b'{"model": "sim",}',
    "single quotes": b"{'model': 'sim'}",
    "bare word": b"hello",
    "whitespace only": b"  \r\n\t ",
    "invalid UTF-8": b"\xff\xfe\xfd\xfc",
    "invalid UTF-8 in a string": b'{"model": "\xff\xfe"}',
    "overlong UTF-8": b'{"model": "\xc0\xaf"}',
    "UTF-16 body": '{"model": "sim"}'.encode("utf-16"),
    "raw NUL in a string": b'{"model": "a\x00b"}',
    "raw newline in a string": b'{"model": "a\nb"}',
    "10k-deep arrays": DEEP_ARRAYS,
    "10k-deep objects": DEEP_OBJECTS,
    "deep nesting in a field": b'{"model": "sim", "x": ' + DEEP_ARRAYS + b"}",
    "NaN": b'{"model": NaN}',
    "Infinity": b'{"model": Infinity}',
    "-Infinity": b'{"model": -Infinity}',
    "top-level array": b"[]",
    "top-level string": b'"sim"',
    "top-level number": b"1",
    "top-level null": b"null",
    "top-level true": b"true",
    "two objects": b"{}{}",
}


@pytest.mark.parametrize("name", list(BROKEN))
@pytest.mark.parametrize("where", list(ENDPOINTS))
def test_broken_json_is_a_400(gateway: RunningGateway, sid: str, where: str, name: str) -> None:
    endpoint = ENDPOINTS[where]
    body = BROKEN[name]
    if body is None:
        body = valid_json(endpoint)[: len(valid_json(endpoint)) // 2]
    reply = send(gateway, endpoint.method, endpoint.path.format(sid=sid), body, key=endpoint.key)
    assert_answered(reply, 400)
    assert reply.error()["code"] in ("invalid_json", "invalid_request")


@pytest.mark.parametrize("where", list(ENDPOINTS))
def test_an_empty_body_is_a_400_unless_every_field_is_optional(gateway: RunningGateway, sid: str, where: str) -> None:
    endpoint = ENDPOINTS[where]
    reply = send(gateway, endpoint.method, endpoint.path.format(sid=sid), b"", key=endpoint.key)
    if endpoint.empty_is_valid:
        assert_answered(reply, 201)
    else:
        assert_answered(reply, 400)


# Values no double or int64 holds, and strings the parser must not accept.
NUMBERS_AND_ESCAPES = {
    "1e999": b"1e999",
    "-1e999": b"-1e999",
    "2**100": str(2**100).encode(),
    "-2**100": str(-(2**100)).encode(),
    "2**64": str(2**64).encode(),
    "lone high surrogate": b'"\\ud800"',
    "lone low surrogate": b'"\\udc00"',
    "bad escape": b'"\\x41"',
    "short unicode escape": b'"\\u12"',
}


@pytest.mark.parametrize("value", list(NUMBERS_AND_ESCAPES))
@pytest.mark.parametrize("where", ["chat", "completions", "embeddings", "session", "call", "set", "admin"])
def test_numbers_and_escapes_no_field_can_hold_are_refused(
    gateway: RunningGateway, sid: str, where: str, value: str,
) -> None:
    endpoint = ENDPOINTS[where]
    field = next(iter(endpoint.valid))  # the first field: model, ttl_s, value, tenant
    body = valid_json(endpoint).replace(orjson.dumps(field) + b":" + orjson.dumps(endpoint.valid[field]),
                                        orjson.dumps(field) + b":" + NUMBERS_AND_ESCAPES[value], 1)
    reply = send(gateway, endpoint.method, endpoint.path.format(sid=sid), body, key=endpoint.key)
    allowed = [400]
    if where == "admin" and "surrogate" in value:
        allowed.append(404)  # Python's json (FastAPI) reads it into a str: no tenant has that name
    if where == "session" and value in ("2**100", "2**64"):
        allowed.append(201)  # ttl_s is any positive number, clamped to dataflow.session_ttl_s
    assert_answered(reply, *allowed)


# field -> values of the wrong type or out of range, per endpoint: each a 400 naming the field.
WRONG = {
    "chat": {
        "model": [1, None, [], {}, ""],
        "messages": ["hi", [], [1], [{}], [{"role": "wizard"}], [{"role": "user", "content": 1}], {"role": "user"}],
        "max_tokens": ["5", -1, 1.5, True, [5]],
        "max_completion_tokens": ["5", -1],
        "n": [0, 129, "2", True, 2.5],
        "temperature": ["hot", -1, 3, True, [1]],
        "top_p": [2, "1"],
        "stream": ["yes", "false", 1, [True]],
        "stream_options": ["x", {"include_usage": "yes"}],
        "tools": ["x", [1], [{"type": "function"}], [{"type": "web", "function": {"name": "f"}}],
                  [{"function": {"name": ""}}]],
        "tool_choice": [1, "maybe", ["auto"]],
        "stop": [1, [1], {"a": 1}],
        "logprobs": ["yes", 1],
        "top_logprobs": [21, -1, "5"],
        "response_format": ["json", 1],
        "seed": ["1", 1.5],
        "user": [1, ["u"]],
        "presence_penalty": [3, "0"],
        "frequency_penalty": [-3, False],
    },
    "completions": {
        "prompt": [1.5, {"a": 1}, [1.5], [[1.5]], None, True],
        "echo": ["yes", 0],
        "suffix": [1],
        "logprobs": [21, "x", True],
        "max_tokens": ["2"],
    },
    "embeddings": {
        "input": [None, 1.5, {"a": 1}, [[1.5]], [None]],
        "encoding_format": ["hex", 1],
        "dimensions": [0, "1", 1.5],
        "model": [7],
    },
    "session": {"ttl_s": [-1, 0, "60", True], "graph": ["x", {"calls": "x"}, {"lazy": 1}, {"surprise": 1}]},
    "call": {"model": [1, ""], "template": [1, None], "outputs": ["x", {"x": {"id": 1}}, {"x": {"max_tokens": 0}}],
             "inputs": ["x", {"a": 1}], "params": ["x"]},
    "variable": {"id": [1, None], "value": [1, []]},
    "set": {"value": [1, None, ["y"]]},
    "admin": {"tenant": [1, None, []], "name": [1, "x" * 201], "expires_in_s": ["60", 0, -5, 1e12]},
}
WRONG_CASES = [(where, field, value) for where, fields in WRONG.items()
               for field, values in fields.items() for value in values]


@pytest.mark.parametrize("where, field, value", WRONG_CASES, ids=[f"{w}-{f}-{v!r}"[:60] for w, f, v in WRONG_CASES])
def test_a_wrong_type_for_a_field_is_a_400_naming_it(
    gateway: RunningGateway, sid: str, where: str, field: str, value: Any,
) -> None:
    endpoint = ENDPOINTS[where]
    reply = send(gateway, endpoint.method, endpoint.path.format(sid=sid), orjson.dumps({**endpoint.valid, field: value}),
                 key=endpoint.key)
    assert_answered(reply, 400, code="invalid_request")
    assert (reply.error()["param"] or "").split(".")[0] == field


@pytest.mark.parametrize("where", ["chat", "completions", "embeddings", "session", "admin"])
def test_duplicate_keys_take_the_last_value(gateway: RunningGateway, sid: str, where: str) -> None:
    endpoint = ENDPOINTS[where]
    field = next(iter(endpoint.valid))
    body = b"{" + orjson.dumps(field) + b': {"not": "this"}, ' + valid_json(endpoint)[1:]
    reply = send(gateway, endpoint.method, endpoint.path.format(sid=sid), body, key=endpoint.key)
    assert_answered(reply, 200, 201)


@pytest.mark.parametrize("where", list(ENDPOINTS))
def test_a_body_just_under_the_limit_is_read_and_one_over_is_a_413(gateway: RunningGateway, sid: str,
                                                                   where: str) -> None:
    endpoint = ENDPOINTS[where]
    path = endpoint.path.format(sid=sid)
    under = valid_json(endpoint)[:-1] + b', "pad": "' + b"\xc3\xa9" * ((LIMIT - 200) // 2) + b'"}'
    # Under the limit it is read and judged: the hot path forwards unknown fields, the others refuse them.
    assert_answered(send(gateway, endpoint.method, path, under, key=endpoint.key), 200, 400)
    over = valid_json(endpoint)[:-1] + b', "pad": "' + b"x" * LIMIT + b'"}'
    assert_answered(send(gateway, endpoint.method, path, over, key=endpoint.key), 413, code="payload_too_large")


def test_a_huge_prompt_within_the_limit_is_answered(gateway: RunningGateway) -> None:
    body = orjson.dumps({"model": "sim", "max_tokens": 1, "messages": [{"role": "user", "content": "word " * 12_000}]})
    assert len(body) < LIMIT
    # The sim engine's context is 8k tokens: its own 400 passes through, in OpenAI's shape.
    assert_answered(send(gateway, "POST", "/v1/chat/completions", body), 200, 400)


# --- paths ------------------------------------------------------------------------------


PATHS = {
    "/v1/../admin/v1/keys": (401, 404),
    "/v1/%2e%2e/admin/v1/keys": (401, 404),
    "/v1/chat/completions/../../admin/v1/tenants": (401, 404),
    "//v1/chat/completions": (404,),
    "/v1//chat/completions": (404,),
    "/v1/chat/completions/": (404,),
    "/v1/chat%2Fcompletions": (200,),  # the server decodes %2F: it is the endpoint itself
    "/V1/CHAT/COMPLETIONS": (404,),
    "/v1/chat/completions%00": (404,),
    "/v1/chat/completions;x=1": (404,),
    "/v1/chat/completions?model=other": (200,),
    "/v1/chat/completions#frag": (200, 400, 404),
    "/admin%2Fv1%2Fkeys": (401,),  # decoded before the admin check as before routing
    "/dataflow/v1/sessions/%2e%2e%2f%2e%2e%2fadmin": (404,),
    "/dataflow/v1/sessions/" + "a" * 8000: (404,),
    "/" + "x/" * 4000: (404,),
    "/v1/models/%ff%fe": (404,),
    "/v1/models/..%2f..%2fadmin%2fv1%2fkeys": (404,),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_path_tricks_reach_nothing_they_should_not(gateway: RunningGateway, path: str) -> None:
    body = valid_json(ENDPOINTS["chat"])
    reply = send(gateway, "POST" if "completions" in path else "GET", path, body)
    assert_answered(reply, *PATHS[path])


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "GET"])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/embeddings"])
def test_other_methods_on_the_hot_path_are_405_with_allow(gateway: RunningGateway, method: str, path: str) -> None:
    reply = send(gateway, method, path, valid_json(ENDPOINTS["chat"]))
    assert_answered(reply, 405, code="method_not_allowed")
    assert reply.headers["allow"] == "POST"


# --- headers -----------------------------------------------------------------------------

AUTHORIZATIONS = {
    "none": None,
    "Basic scheme": b"Basic " + KEY.encode(),
    "no scheme": KEY.encode(),
    "empty bearer": b"Bearer ",
    "bearer, no space": b"Bearer" + KEY.encode(),
    "wrong key": b"Bearer sk-not-a-key",
    "very long key": b"Bearer " + b"k" * 16_000,
    "non-ASCII key": b"Bearer \xff\xfe\xc3\xa9",
    "two keys": b"Bearer " + KEY.encode() + b", Bearer other",
    "admin key as a tenant key": b"Bearer " + ADMIN_KEY.encode(),
}


BOGUS = [(where, name) for where in ("chat", "embeddings", "session", "admin", "models", "usage", "stream")
         for name in AUTHORIZATIONS if (where, name) != ("admin", "admin key as a tenant key")]


@pytest.mark.parametrize("where, name", BOGUS)
def test_bogus_authorization_is_a_401(gateway: RunningGateway, sid: str, where: str, name: str) -> None:
    value = AUTHORIZATIONS[name]
    headers = [(b"authorization", value)] if value is not None else []
    paths = {"models": ("GET", "/v1/models"), "usage": ("GET", "/v1/usage"),
             "stream": ("GET", f"/dataflow/v1/sessions/{sid}/variables/v/stream")}
    method, path = paths.get(where) or (ENDPOINTS[where].method, ENDPOINTS[where].path.format(sid=sid))
    body = valid_json(ENDPOINTS[where]) if where in ENDPOINTS else b""
    reply = send(gateway, method, path, body, key=None, headers=headers)
    assert_answered(reply, 401, code="invalid_api_key")
    assert reply.headers["www-authenticate"] == "Bearer"


REQUEST_IDS = {
    "very long": b"r" * 10_000,
    "non-ASCII": b"\xff\xfe-id",
    "spaces": b"a b c",
    "quotes and CRLF-free tricks": b'"><script>',
    "empty": b"",
}


@pytest.mark.parametrize("name", list(REQUEST_IDS))
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/health", "/v1/models", "/nowhere"])
def test_an_insane_request_id_is_replaced_by_a_fresh_one(gateway: RunningGateway, path: str, name: str) -> None:
    method = "POST" if "completions" in path else "GET"
    reply = send(gateway, method, path, valid_json(ENDPOINTS["chat"]),
                 headers=[(b"x-request-id", REQUEST_IDS[name])])
    assert_answered(reply, 200, 404)
    assert reply.headers["x-request-id"].isalnum() and 16 <= len(reply.headers["x-request-id"]) <= 128


CONTENT_TYPES = [None, b"text/plain", b"application/json; charset=latin-1", b"application/json; charset=utf-16",
                 b"multipart/form-data; boundary=x", b"application/x-www-form-urlencoded", b"\xff\xfe/json",
                 b"application/json" + b"; x=y" * 500]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("where", ["chat", "session", "admin"])
def test_weird_content_types_never_break_the_gateway(gateway: RunningGateway, sid: str, where: str,
                                                     content_type: bytes | None) -> None:
    endpoint = ENDPOINTS[where]
    reply = send(gateway, endpoint.method, endpoint.path.format(sid=sid), valid_json(endpoint), key=endpoint.key,
                 content_type=content_type)
    # The hot path and dataflow read JSON whatever the label; FastAPI (admin) wants it labelled JSON.
    assert_answered(reply, 200, 201, 400)


@pytest.mark.parametrize("header", [
    (b"x-session-id", b"\xff" * 100), (b"x-semgate-model", b"other"), (b"accept", b"\xff"),
    (b"user-agent", b"u" * 8000), (b"x-forwarded-for", b"1.2.3.4, \xff"), (b"last-event-id", b"\xff\xfe"),
])
def test_non_ascii_and_odd_headers_are_harmless(gateway: RunningGateway, header: tuple[bytes, bytes]) -> None:
    reply = send(gateway, "POST", "/v1/chat/completions", valid_json(ENDPOINTS["chat"]), headers=[header])
    assert_answered(reply, 200)
    assert orjson.loads(reply.body)["model"] == "sim"


# --- afterwards ----------------------------------------------------------------------------


def test_the_gateway_still_serves_normal_requests_afterwards(gateway: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0, timeout=10)
    answer = client.chat.completions.create(model="sim", messages=[{"role": "user", "content": "hi"}], max_tokens=3)
    assert answer.choices[0].message.content
    assert send(gateway, "GET", "/health", key=None).status == 200
