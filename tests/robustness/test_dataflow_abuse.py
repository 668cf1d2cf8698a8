"""The dataflow API under abuse: a 1,024-call chain failing at its root, bodies far
past the size limit, and every malformed parameter a client can send.

A real gateway on a background loop, raw sockets for the bodies; the event
loop's lag is probed on the gateway's own loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests import support
from tests.support import BackgroundLoop, RunningGateway

API = "/dataflow/v1"
LIMIT = 1 << 20  # server.max_body_bytes here
CALLS = 1024


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop) -> Iterator[RunningGateway]:
    config = {
        "server": {"health_interval_s": 60, "max_body_bytes": LIMIT},
        "models": [{"name": "sim", "engine": "sim", "sim": {"profile": "instant"}},
                   {"name": "down", "upstreams": ["http://127.0.0.1:1/v1"], "retry": {"attempts": 1}}],
        "dataflow": {"max_wait_s": 1},
    }
    running = bg.run(support.start_gateway(config))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture
def client(gw: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gw.url + API, timeout=30) as c:
        yield c


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.WARNING):
        yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def vid(i: int) -> str:
    return f"{i:04d}".rjust(128, "v")  # the longest ids allowed: the old nested errors grew with them


def failing_chain() -> dict[str, Any]:
    calls = [{"id": f"c{i}", "model": "sim", "template": "{{x}} {{o}}", "inputs": {"x": vid(i - 1)},
              "outputs": {"o": {"id": vid(i)}}} for i in range(1, CALLS)]
    return {"calls": [{"id": "c0", "model": "down", "template": "{{o}}", "outputs": {"o": {"id": vid(0)}}}, *calls]}


class LagProbe:
    """The longest the gateway's event loop went without running a 5 ms timer."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.running = True

    async def run(self) -> None:
        while self.running:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - began - 0.005)


def test_a_failing_1024_call_chain_stays_small_and_the_loop_keeps_running(
    gw: RunningGateway, client: httpx.Client, bg: BackgroundLoop, no_errors_logged: None
) -> None:
    sid = client.post("/sessions", json={"graph": failing_chain()}).json()["id"]
    probe = LagProbe()
    probing = asyncio.run_coroutine_threadsafe(probe.run(), bg.loop)  # on the gateway's loop
    try:
        failure = client.get(f"/sessions/{sid}/variables/{vid(CALLS - 1)}").json()["error"]
        description = client.get(f"/sessions/{sid}")
    finally:
        probe.running = False
        probing.result(5)
    assert failure["code"] == "call_failed" and "root cause: call 'c0' failed" in failure["message"]
    assert len(failure["message"]) < 1500  # was ~150 KB: every error nested the whole chain before it
    assert len(description.content) < 2 * 2**20  # was 600+ MB for 8 such graphs
    assert description.json()["summary"]["calls"] == {"total": CALLS, "failed": CALLS}
    # "does not hang" bound: the old chain failure blocked the loop for seconds (the 50 ms goal is
    # measured by benchmarks.dataflow_memory; a shared test machine's noise is too high to assert it)
    assert probe.worst < 0.5, f"the event loop stalled {probe.worst * 1000:.0f} ms"
    assert client.delete(f"/sessions/{sid}").json()["deleted"] is True
    assert (gw.gateway.dataflow.sessions == {}) and client.get(f"/sessions/{sid}").status_code == 404


async def _post_huge(port: int, chunked: bool) -> tuple[bytes, int]:
    """POST a 512 MiB body (announced, or chunked) 64 KiB at a time; the reply's head and the bytes sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = b"transfer-encoding: chunked" if chunked else b"content-length: %d" % (512 << 20)
    writer.write(b"POST /dataflow/v1/sessions HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n%s\r\n\r\n"
                 % framing)
    piece = b"x" * 65536
    reply = asyncio.ensure_future(reader.read(4096))
    sent = 0
    try:
        while not reply.done() and sent < 512 << 20:
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await asyncio.wait_for(writer.drain(), 5)
            sent += len(piece)
        return await asyncio.wait_for(reply, 5), sent
    except (ConnectionError, TimeoutError):
        return await asyncio.wait_for(reply, 5), sent
    finally:
        writer.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_huge_body_is_refused_before_it_is_read(gw: RunningGateway, bg: BackgroundLoop, chunked: bool) -> None:
    head, sent = bg.run(_post_huge(gw.port, chunked), timeout=30)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b'"payload_too_large"' in head
    assert sent < LIMIT + (8 << 20)  # stopped at the limit (plus what the sockets buffer), not at 512 MiB


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "must be the id of an event"), ("1-2-3", "must be the id of an event"), ("9" * 40, "must be the id"),
    ("-1", "must be the id"), ("1 2", "must be the id"), ("5-0", "is not an id of this stream's events"),
])
def test_a_bad_last_event_id_is_a_400_before_the_stream_starts(
    client: httpx.Client, value: str, message: str, no_errors_logged: None
) -> None:
    sid = client.post("/sessions", json={"graph": {"variables": [{"id": "v", "value": "x"}]}}).json()["id"]
    reply = client.get(f"/sessions/{sid}/variables/v/stream", headers={"last-event-id": value})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_request", "Last-Event-ID") and message in error["message"]


@pytest.mark.parametrize(("query", "param", "message"), [
    ({"timeout": "nan"}, "timeout", "must be a finite number"), ({"timeout": "inf"}, "timeout", "finite"),
    ({"timeout": "-inf"}, "timeout", "finite"), ({"timeout": "1e999"}, "timeout", "finite"),
    ({"timeout": "-1"}, "timeout", "must not be negative"), ({"timeout": "soon"}, "timeout", "a number of seconds"),
    ({"timeout": "x" * 10_000}, "timeout", "(10000 characters)"), ({"perf": "bogus"}, "perf", "'latency' or"),
])
@pytest.mark.parametrize("stream", [False, True], ids=["fetch", "stream"])
def test_bad_fetch_parameters_are_a_400_with_a_message_that_fits(
    client: httpx.Client, query: dict[str, str], param: str, message: str, stream: bool, no_errors_logged: None
) -> None:
    sid = client.post("/sessions", json={"graph": {"variables": [{"id": "v", "value": "x"}]}}).json()["id"]
    reply = client.get(f"/sessions/{sid}/variables/v" + ("/stream" if stream else ""), params=query)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == param and message in error["message"] and len(error["message"]) < 300


def test_a_huge_finite_timeout_waits_at_most_max_wait_s(client: httpx.Client) -> None:
    sid = client.post("/sessions", json={"graph": {"variables": [{"id": "empty"}]}}).json()["id"]
    began = time.monotonic()
    reply = client.get(f"/sessions/{sid}/variables/empty", params={"timeout": "1e300"})
    assert reply.status_code == 408 and time.monotonic() - began < 10


@pytest.mark.parametrize("path", [
    "/sessions/..%2F..%2Fadmin", "/sessions/sess_0/variables/v", "/sessions/" + "s" * 20_000,
    "/sessions/sess_000000000000000000000000:v:x", "/sessions/{sid}/variables/" + "v" * 5000,
    "/sessions/{sid}/variables/a%00b/stream", "/sessions/{sid}/graphs/graph_1%0d%0a",
])
def test_ids_with_path_tricks_are_a_short_404(client: httpx.Client, path: str, no_errors_logged: None) -> None:
    sid = client.post("/sessions", json={}).json()["id"]
    method = "DELETE" if "/graphs/" in path else "GET"
    reply = client.request(method, path.replace("{sid}", sid))
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["code"] == "not_found" and len(reply.text) < 400


def test_a_stream_cut_by_deleting_its_session_ends_in_band(
    gw: RunningGateway, client: httpx.Client, bg: BackgroundLoop
) -> None:
    graph = {"variables": [{"id": "q"}], "calls": [{"model": "sim", "template": "{{q}} {{a}}", "inputs": {"q": "q"},
                                                    "outputs": {"a": {"id": "a"}}}]}
    sid = client.post("/sessions", json={"graph": graph}).json()["id"]

    async def stream_then_delete(url: str) -> list[str]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as c:
            async def read() -> list[str]:
                async with c.stream("GET", f"/sessions/{sid}/variables/a/stream", params={"timeout": 5}) as reply:
                    return [line async for line in reply.aiter_lines() if line]
            reading = asyncio.ensure_future(read())
            await asyncio.sleep(0.3)
            await c.delete(f"/sessions/{sid}")
            return await reading

    lines = bg.run(stream_then_delete(gw.url + API))
    assert lines[-1] == "data: [DONE]"
    assert orjson.loads(lines[-2].removeprefix("data: "))["error"]["code"] in ("cancelled", "not_found")
