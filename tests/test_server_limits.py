"""The client-facing HTTP server's limits: header size, slow and idle clients,
the connection cap, and the parser's own refusals — all answered as
OpenAI-shaped JSON with x-request-id, then the connection closed."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import orjson
import pytest

from gateway.config import parse_config
from gateway.server import uvicorn_config
from tests import support
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream

HEADER_LIMIT = 8192
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
KEEPALIVE = 0.5
DOES_NOT_HANG = 4.0  # generous: every limit above is ≤ 1 s
CHAT = b'{"model": "echo", "messages": [{"role": "user", "content": "hi"}]}'


LONG_ANSWER = HEADER_TIMEOUT + BODY_TIMEOUT + KEEPALIVE + 0.5


async def answer_late(request: support.PeerRequest, writer: asyncio.StreamWriter) -> None:
    """A generation that takes longer than every client timeout together."""
    await asyncio.sleep(LONG_ANSWER)
    await support.respond(writer, 200, support.completion("late", "finally"))


def limits_config(peer: ScriptedUpstream, **server: object) -> dict:
    return {
        "server": {
            "max_header_bytes": HEADER_LIMIT, "header_timeout_s": HEADER_TIMEOUT, "body_timeout_s": BODY_TIMEOUT,
            "keepalive_timeout_s": KEEPALIVE, "health_interval_s": 60, **server,
        },
        "models": [{"name": "echo", "upstreams": [peer.base_url]}],
    }


@pytest.fixture(scope="module")
def late_peer(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    upstream = bg.run(ScriptedUpstream(behaviours={"late": answer_late}).start())
    yield upstream
    bg.run(upstream.stop())


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop, peer: ScriptedUpstream, late_peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    config = limits_config(peer)
    config["models"].append({"name": "late", "upstreams": [late_peer.base_url]})
    running = bg.run(support.start_gateway(config))
    yield running
    bg.run(support.stop_gateway(running))


# --- a raw HTTP client: the abuse needs bytes no SDK would send ---------------


@dataclass
class Reply:
    raw: bytes
    closed: bool  # the server closed the connection
    elapsed: float

    @property
    def status(self) -> int:
        return int(self.raw.split(b" ", 2)[1])

    @property
    def headers(self) -> dict[bytes, bytes]:
        head = self.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
        return {name.lower(): value for name, value in (line.split(b": ", 1) for line in head)}

    @property
    def error(self) -> dict:
        return orjson.loads(self.raw.split(b"\r\n\r\n", 1)[1])["error"]


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=DOES_NOT_HANG)


def read_until_closed(sock: socket.socket, started: float | None = None) -> Reply:
    started = time.monotonic() if started is None else started
    data = b""
    closed = False
    try:
        while chunk := sock.recv(65536):
            data += chunk
        closed = True
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    return Reply(data, closed, time.monotonic() - started)


def send(port: int, data: bytes) -> Reply:
    with connect(port) as sock:
        started = time.monotonic()
        sock.sendall(data)
        return read_until_closed(sock, started)


def assert_json_refusal(reply: Reply, status: int, code: str) -> None:
    assert reply.raw, "no reply at all"
    assert reply.status == status, reply.raw[:300]
    headers = reply.headers
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"connection"] == b"close"
    assert headers[b"x-request-id"]
    error = reply.error
    assert error["code"] == code
    assert set(error) == {"message", "type", "param", "code"}
    assert reply.closed


# --- header size ------------------------------------------------------------------


def test_headers_above_max_header_bytes_get_431_json_and_the_connection_closes(gw: RunningGateway) -> None:
    big = b"x-pad: " + b"a" * (2 * HEADER_LIMIT) + b"\r\n"
    reply = send(gw.port, b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-request-id: big-1\r\n" + big)
    assert_json_refusal(reply, 431, "request_header_fields_too_large")
    assert reply.headers[b"x-request-id"] == b"big-1"


def test_a_complete_oversized_head_in_one_read_gets_431(gw: RunningGateway) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n" % len(CHAT)
    reply = send(gw.port, head + b"x-pad: " + b"a" * (2 * HEADER_LIMIT) + b"\r\n\r\n" + CHAT)
    assert_json_refusal(reply, 431, "request_header_fields_too_large")


def test_a_huge_header_value_is_cut_off_not_buffered(gw: RunningGateway) -> None:
    # The 64 MiB header: the gateway must hang up long before it has all of it.
    sent = 0
    chunk = b"a" * 65536
    with connect(gw.port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\nx-huge: ")
        with pytest.raises(OSError):  # broken pipe / reset once the gateway closed
            while sent < 64 * 2**20:
                sock.sendall(chunk)
                sent += len(chunk)
    assert sent < 16 * 2**20  # what socket buffers hold, not what a header may be


def test_headers_under_the_limit_and_a_large_body_are_served(gw: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gw.base_url, api_key="x", max_retries=0)
    long_prompt = "word " * 40_000  # a 200 kB body arrives in the same reads as the head
    reply = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": long_prompt}],
        extra_headers={"x-pad": "a" * (HEADER_LIMIT // 2)},
    )
    assert long_prompt in orjson.loads(reply.choices[0].message.content)["body"]["messages"][0]["content"]


# --- slow and idle clients ----------------------------------------------------------


def test_a_slowloris_head_gets_408_after_header_timeout(gw: RunningGateway) -> None:
    with connect(gw.port) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        for _ in range(int(3 * HEADER_TIMEOUT / 0.2)):  # keeps trickling: bytes must not extend the deadline
            try:
                sock.sendall(b"x-a: b\r\n")
            except OSError:
                break
            time.sleep(0.2)
        reply = read_until_closed(sock, started)
    assert_json_refusal(reply, 408, "request_timeout")
    assert reply.elapsed < HEADER_TIMEOUT + DOES_NOT_HANG


def test_a_half_sent_body_gets_408_after_body_timeout_with_the_clients_request_id(gw: RunningGateway) -> None:
    with connect(gw.port) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-request-id: half-1\r\n"
                     b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"model\":")
        reply = read_until_closed(sock, started)
    assert_json_refusal(reply, 408, "request_timeout")
    assert reply.headers[b"x-request-id"] == b"half-1"
    assert BODY_TIMEOUT * 0.9 <= reply.elapsed < BODY_TIMEOUT + DOES_NOT_HANG


def test_a_slow_but_steady_body_is_not_cut_off(gw: RunningGateway) -> None:
    # The body timeout bounds silence, not the whole upload.
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(CHAT)
    with connect(gw.port) as sock:
        sock.sendall(head)
        pieces = [CHAT[i:i + 8] for i in range(0, len(CHAT), 8)]
        for piece in pieces:  # 2.7 s in all, 0.3 s apart
            time.sleep(0.3)
            sock.sendall(piece)
        first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")


def test_a_silent_connection_is_closed_after_header_timeout(gw: RunningGateway) -> None:
    with connect(gw.port) as sock:
        reply = read_until_closed(sock)
    assert reply.closed and reply.raw == b""  # nothing asked, nothing answered
    assert HEADER_TIMEOUT * 0.9 <= reply.elapsed < HEADER_TIMEOUT + DOES_NOT_HANG


def test_an_idle_keep_alive_connection_is_closed_after_keepalive_timeout(gw: RunningGateway) -> None:
    with connect(gw.port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        reply = read_until_closed(sock)
    assert reply.closed and reply.raw == b""
    assert KEEPALIVE * 0.9 <= reply.elapsed < KEEPALIVE + 2.0


def test_a_keep_alive_connection_serves_requests_spread_over_longer_than_the_timeouts(gw: RunningGateway) -> None:
    # Each pause is under keepalive_timeout_s, their sum over every timeout.
    with connect(gw.port) as sock:
        for _ in range(8):
            sock.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            time.sleep(KEEPALIVE * 0.6)


def test_no_client_timeout_runs_while_the_gateway_is_answering(gw: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gw.base_url, api_key="x", max_retries=0)
    started = time.monotonic()
    reply = client.chat.completions.create(model="late", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "finally"
    assert time.monotonic() - started >= LONG_ANSWER


def test_pipelined_requests_are_answered_in_order_on_one_connection(gw: RunningGateway) -> None:
    one = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"
    last = b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    reply = send(gw.port, one + one + last)
    assert reply.raw.count(b"HTTP/1.1 200 OK") == 3
    assert b'"object":"list"' in reply.raw.rsplit(b"HTTP/1.1 200 OK", 1)[1]
    assert reply.closed


# --- the connection cap --------------------------------------------------------------


@pytest.fixture
def capped(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    running = bg.run(support.start_gateway(limits_config(peer, max_client_connections=4, header_timeout_s=5.0)))
    yield running
    bg.run(support.stop_gateway(running))


def test_at_the_cap_a_new_connection_is_answered_503_when_every_connection_is_busy(capped: RunningGateway) -> None:
    busy = [connect(capped.port) for _ in range(4)]
    try:
        for sock in busy:  # each has a request head under way
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        time.sleep(0.2)
        reply = send(capped.port, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        assert_json_refusal(reply, 503, "too_many_connections")
    finally:
        for sock in busy:
            sock.close()
    time.sleep(0.2)
    assert send(capped.port, b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").status == 200


def test_at_the_cap_the_longest_idle_connection_makes_room(capped: RunningGateway) -> None:
    silent = []
    for _ in range(4):
        silent.append(connect(capped.port))
        time.sleep(0.05)
    try:
        reply = send(capped.port, b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        assert reply.status == 200
        oldest = read_until_closed(silent[0])
        assert oldest.closed and oldest.raw == b""
    finally:
        for sock in silent:
            sock.close()


# --- the parser's own refusals -----------------------------------------------------

TLS_CLIENT_HELLO = bytes.fromhex("16030100c4010000c00303") + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00"

MALFORMED = {
    "unknown method": b"FOO /v1/models HTTP/1.1\r\nhost: x\r\n\r\n",
    "bad chunk size": b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    "content-length and transfer-encoding": (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
        b"transfer-encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "duplicate content-length": (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}"
    ),
    "negative content-length": b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n",
    "obs-fold": b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: a\r\n b\r\n\r\n",
    "NUL in a header": b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: a\x00b\r\n\r\n",
    "CR in a header": b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: a\rb\r\n\r\n",
    "LF in a header name": b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-\na: b\r\n\r\n",
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "TLS ClientHello": TLS_CLIENT_HELLO,
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_what_the_http_parser_refuses_is_answered_400_json(gw: RunningGateway, data: bytes) -> None:
    assert_json_refusal(send(gw.port, data), 400, "invalid_http")


def test_a_100k_character_path_is_refused_as_too_large(gw: RunningGateway) -> None:
    reply = send(gw.port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nhost: x\r\n\r\n")
    assert_json_refusal(reply, 431, "request_header_fields_too_large")


def test_a_websocket_upgrade_is_ignored_and_answered_as_plain_http(gw: RunningGateway) -> None:
    # No WebSocket endpoint exists (OpenAI's Realtime API is not proxied): the app's 404.
    reply = send(gw.port, b"GET /v1/realtime HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n"
                          b"sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    assert reply.status == 404
    assert reply.error["code"] == "not_found"
    assert reply.headers[b"connection"] == b"close"
    assert reply.closed


H2C = b"connection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n"


def test_an_h2c_upgrade_without_a_body_is_served_over_http_1_1_then_closed(gw: RunningGateway) -> None:
    reply = send(gw.port, b"GET /health HTTP/1.1\r\nhost: x\r\n" + H2C + b"\r\n")
    assert reply.status == 200
    assert reply.headers[b"connection"] == b"close"
    assert reply.closed


def test_an_upgrade_request_with_a_body_is_refused_400_json(gw: RunningGateway) -> None:
    reply = send(gw.port, b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n" + H2C +
                 b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(CHAT), CHAT))
    assert_json_refusal(reply, 400, "upgrade_not_supported")


def test_the_graceful_shutdown_period_comes_from_the_config() -> None:
    models = [{"name": "m", "upstreams": ["http://127.0.0.1:9/v1"]}]
    configured = parse_config({"server": {"shutdown_timeout_s": 3.5}, "models": models})
    assert uvicorn_config(object(), configured).timeout_graceful_shutdown == 3.5
    assert uvicorn_config(object(), parse_config({"models": models})).timeout_graceful_shutdown == 10


def refused(gateway: RunningGateway, reason: str) -> float:
    value = gateway.gateway.metrics.registry.get_sample_value(
        "semgate_client_connections_refused_total", {"reason": reason})
    return value or 0.0


def test_the_servers_own_refusals_are_counted_by_reason(capped: RunningGateway) -> None:
    before = {reason: refused(capped, reason) for reason in ("invalid_http", "request_header_fields_too_large",
                                                              "too_many_connections", "reclaimed")}
    send(capped.port, MALFORMED["unknown method"])
    send(capped.port, b"GET /health HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 2 * HEADER_LIMIT + b"\r\n\r\n")
    silent = [connect(capped.port) for _ in range(4)]
    try:
        time.sleep(0.2)
        assert send(capped.port, b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").status == 200
    finally:
        for sock in silent:
            sock.close()
    time.sleep(0.2)
    busy = [connect(capped.port) for _ in range(4)]
    try:
        for sock in busy:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        time.sleep(0.2)
        assert send(capped.port, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").status == 503
    finally:
        for sock in busy:
            sock.close()
    time.sleep(0.2)
    after = {reason: refused(capped, reason) - count for reason, count in before.items()}
    assert after == {"invalid_http": 1, "request_header_fields_too_large": 1, "too_many_connections": 1,
                     "reclaimed": 1}
