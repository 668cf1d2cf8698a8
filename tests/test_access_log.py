"""The access log (gateway/accesslog.py): one documented line per proxied request,
written off the event loop, complete on a clean stop, and bounded: lines its
destination cannot take are dropped and counted, never silently."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from gateway.config import ConfigError, parse_config
from gateway.exchange import Exchange
from tests import support
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) INFO semgate\.access: rid=(?P<rid>[0-9A-Za-z-]+) "
    r"endpoint=(?P<endpoint>\w+) model=(?P<model>\S+) served=(?P<served>\S+) status=(?P<status>\d{3}) "
    r"ms=(?P<ms>\d+\.\d) tenant=(?P<tenant>\S+) client=(?P<client>\S+)$"
)
SECRET_KEY = "sk-very-secret-key-0123456789"
SECRET_PROMPT = "my password is hunter2"
MESSAGES = [{"role": "user", "content": SECRET_PROMPT}]
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


async def embeddings(request: support.PeerRequest, writer: asyncio.StreamWriter) -> None:
    body = b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"embed",' \
           b'"usage":{"prompt_tokens":2,"total_tokens":2}}'
    await support.respond(writer, 200, body)


async def chat(request: support.PeerRequest, writer: asyncio.StreamWriter) -> None:
    if not request.json().get("stream"):
        await support.respond(writer, 200, support.completion("chat", "hello"))
        return
    events = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"chat","choices":[{"index":0,' \
             b'"delta":{"content":"hello"},"finish_reason":null}]}\n\ndata: [DONE]\n\n'
    await support.respond(writer, 200, events, b"text/event-stream")


@pytest.fixture(scope="module")
def upstream(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    peer = bg.run(ScriptedUpstream(behaviours={
        "chat": chat, "embed": embeddings, "think": support.think_then_answer, "flaky": support.hang_up,
    }).start())
    yield peer
    bg.run(peer.stop())


def config(upstream: ScriptedUpstream, **server: Any) -> dict[str, Any]:
    return {
        "server": {"health_interval_s": 60, **server},
        "models": [
            {"name": "chat", "upstreams": [upstream.base_url]},
            {"name": "embed", "upstreams": [upstream.base_url]},
            {"name": "think", "upstreams": [upstream.base_url]},
            {"name": "flaky", "upstreams": [upstream.base_url], "fallbacks": ["chat"],
             "retry": {"attempts": 1}},
        ],
    }


@pytest.fixture
def gateway_with_log(bg: BackgroundLoop, upstream: ScriptedUpstream,
                     tmp_path: Path) -> Iterator[Callable[..., tuple[RunningGateway, Path]]]:
    started: list[RunningGateway] = []

    def start(**server: Any) -> tuple[RunningGateway, Path]:
        server.setdefault("access_log", str(tmp_path / "access.log"))
        running = bg.run(support.start_gateway(config(upstream, **server)))
        started.append(running)
        return running, tmp_path / "access.log"

    yield start
    for running in started:
        bg.run(support.stop_gateway(running))


def access_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if " semgate.access: " in line]


def wait_lines(path: Path, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
    """The first `count` access lines once written, each parsed by the documented format."""
    deadline = time.monotonic() + timeout
    while len(lines := access_lines(path)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(lines) >= count, f"{len(lines)} access lines, expected {count}: {lines}"
    parsed = []
    for line in lines:
        match = LINE.match(line)
        assert match, f"not in the documented format: {line!r}"
        parsed.append(match.groupdict())
    return parsed


def client(gw: RunningGateway, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=SECRET_KEY, max_retries=0, **kwargs)


def test_each_request_gets_one_line_with_the_documented_fields(gateway_with_log: Callable[..., Any]) -> None:
    gw, path = gateway_with_log()
    sdk = client(gw)
    plain = sdk.chat.completions.with_raw_response.create(model="chat", messages=MESSAGES)
    with sdk.chat.completions.with_streaming_response.create(model="chat", messages=MESSAGES, stream=True) as stream:
        assert "hello" in stream.read().decode()
        streamed_rid = stream.headers["x-request-id"]
    sdk.embeddings.create(model="embed", input=SECRET_PROMPT, extra_headers={"x-request-id": "embed-req-1"})
    fell_back = sdk.chat.completions.with_raw_response.create(model="flaky", messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="no-such-model", messages=MESSAGES)
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="chat", messages=[{"role": "nobody", "content": "x"}])  # type: ignore[misc]

    lines = wait_lines(path, 6)
    assert len(lines) == 6
    rows = [(line["rid"], line["endpoint"], line["model"], line["served"], line["status"]) for line in lines]
    assert rows == [
        (plain.headers["x-request-id"], "chat", "chat", "chat", "200"),
        (streamed_rid, "chat", "chat", "chat", "200"),
        ("embed-req-1", "embeddings", "embed", "embed", "200"),
        (fell_back.headers["x-request-id"], "chat", "flaky", "chat", "200"),  # who answered, after the fallback
        (rows[4][0], "chat", "-", "-", "404"),  # a model that does not exist is not echoed into the log
        (rows[5][0], "chat", "-", "-", "400"),  # refused before the model is looked up
    ]
    assert all(line["client"] == "127.0.0.1" and line["tenant"] == "-" for line in lines)
    assert all(float(line["ms"]) < 10_000 for line in lines)


def test_lines_hold_no_keys_and_no_prompts(gateway_with_log: Callable[..., Any]) -> None:
    gw, path = gateway_with_log()
    client(gw).chat.completions.create(model="chat", messages=MESSAGES)
    wait_lines(path, 1)
    text = path.read_text()
    assert SECRET_KEY not in text and SECRET_PROMPT not in text and "hunter2" not in text


def test_a_client_that_hangs_up_is_logged_as_499(gateway_with_log: Callable[..., Any]) -> None:
    gw, path = gateway_with_log()
    with pytest.raises(openai.APITimeoutError):
        client(gw, timeout=0.3).chat.completions.create(model="think", messages=MESSAGES)
    (line,) = wait_lines(path, 1)
    assert (line["model"], line["status"]) == ("think", "499")


def test_close_writes_every_line_still_pending(tmp_path: Path) -> None:
    from gateway.accesslog import AccessLog

    path = tmp_path / "access.log"
    log = AccessLog(str(path), 100_000, lambda lines: None)
    exchange = Exchange({"type": "http", "headers": [], "client": ("10.1.2.3", 5000)}, receive_nothing, send_nothing)
    for _ in range(5000):
        log.request(exchange, "chat", "m", 200, 0.0012)
    log.close()  # at once: the writer's next round is still up to 50 ms away
    lines = access_lines(path)
    assert len(lines) == 5000 and all(LINE.match(line) for line in lines)
    assert lines[0].endswith(" endpoint=chat model=m served=- status=200 ms=1.2 tenant=- client=10.1.2.3")


def test_a_rotated_log_file_is_reopened_at_its_path(tmp_path: Path) -> None:
    from gateway.accesslog import AccessLog

    path = tmp_path / "access.log"
    log = AccessLog(str(path), 1000, lambda lines: None)
    exchange = Exchange({"type": "http", "headers": [], "client": None}, receive_nothing, send_nothing)
    log.request(exchange, "chat", "m", 200, 0.001)
    wait_lines(path, 1)
    path.rename(tmp_path / "access.log.1")  # logrotate's default: move, then expect a new file
    for _ in range(2):
        log.request(exchange, "chat", "m", 200, 0.001)
    wait_lines(path, 2)
    log.close()
    assert len(access_lines(tmp_path / "access.log.1")) == 1 and len(access_lines(path)) == 2


def test_lines_a_broken_destination_refuses_are_counted_once(tmp_path: Path) -> None:
    from gateway.accesslog import AccessLog

    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    counted: list[int] = []
    log = AccessLog(str(fifo), 1000, counted.append)
    exchange = Exchange({"type": "http", "headers": [], "client": None}, receive_nothing, send_nothing)
    log.request(exchange, "chat", "m", 200, 0.001)
    assert drain(reader, until=b"semgate.access", timeout=5).count(b"\n") == 1
    os.close(reader)  # the reader is gone: writes fail with EPIPE
    for _ in range(5):
        log.request(exchange, "chat", "m", 200, 0.001)
    time.sleep(0.3)  # several writer rounds, each also failing to write the notice
    log.close()
    assert log.lost == 5 and sum(counted) == 5
    log.request(exchange, "chat", "m", 200, 0.001)  # no reader, not even for a new open: dropped, counted, no hang
    assert log.dropped == 1 and sum(counted) == 6


def test_an_access_log_path_that_cannot_be_opened_fails_at_start(tmp_path: Path) -> None:
    from gateway.app import Gateway

    config = parse_config({"server": {"access_log": str(tmp_path)}, "models": [{"name": "m", "upstreams": ["http://x/v1"]}]})
    with pytest.raises(IsADirectoryError):  # `semgate serve` prints it as one line: start-up failed
        Gateway(config)


async def receive_nothing() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def send_nothing(message: dict[str, Any]) -> None:
    return None


def test_access_log_false_writes_nothing(gateway_with_log: Callable[..., Any], tmp_path: Path) -> None:
    gw, _ = gateway_with_log(access_log=False)
    client(gw).chat.completions.create(model="chat", messages=MESSAGES)
    assert gw.gateway.access_log is None
    assert not list(tmp_path.iterdir())


def test_access_log_is_true_false_or_a_path() -> None:
    models = [{"name": "m", "upstreams": ["http://127.0.0.1:1/v1"]}]
    assert parse_config({"models": models}).server.access_log is True
    assert parse_config({"server": {"access_log": "/var/log/semgate/access.log"}, "models": models}).server.access_log \
        == "/var/log/semgate/access.log"
    with pytest.raises(ConfigError, match="access_log"):
        parse_config({"server": {"access_log": ""}, "models": models})
    with pytest.raises(ConfigError, match="access_log_buffer_lines"):
        parse_config({"server": {"access_log_buffer_lines": 0}, "models": models})


def metric(gw: RunningGateway, name: str) -> float:
    for line in httpx.get(f"{gw.url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_a_blocked_destination_drops_lines_counts_them_and_never_stalls_requests(
    gateway_with_log: Callable[..., Any], tmp_path: Path,
) -> None:
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader that never reads: the pipe fills up
    try:
        fcntl.fcntl(reader, F_SETPIPE_SZ, 4096)
        gw, _ = gateway_with_log(access_log=str(fifo), access_log_buffer_lines=20)
        sdk = client(gw, timeout=10)
        started = time.monotonic()
        for _ in range(300):
            sdk.chat.completions.create(model="chat", messages=MESSAGES)
        assert time.monotonic() - started < 60  # requests go on while the log is stuck (no hang)
        log = gw.gateway.access_log
        assert log is not None and len(log._pending) <= 20  # bounded memory
        dropped = metric(gw, "semgate_access_log_dropped_total")
        assert dropped >= 300 - 2 * 20 - 4096 // 100  # kept at most: the queue, the writer's batch, the pipe
        assert dropped == log.dropped
        text = drain(reader, until=b"lines dropped so far")
    finally:
        os.close(reader)
    lines = [line for line in text.decode().splitlines() if line]
    assert all(LINE.match(line) or "WARNING semgate.access:" in line for line in lines), lines
    kept = sum(1 for line in lines if LINE.match(line))
    notice = re.search(r"WARNING semgate\.access: (\d+) lines dropped so far", text.decode())
    assert notice and int(notice.group(1)) == dropped
    assert kept + dropped == 300


def drain(fd: int, until: bytes, timeout: float = 10.0) -> bytes:
    """Read a non-blocking pipe until `until` has come and nothing more does."""
    data, deadline, quiet_since = b"", time.monotonic() + timeout, time.monotonic()
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            chunk = b""
        if chunk:
            data, quiet_since = data + chunk, time.monotonic()
        elif until in data and time.monotonic() - quiet_since > 0.3:
            return data
        time.sleep(0.01)
    return data


# --- `semgate serve`: a real process, its stderr, its signals ---------------


def serve(tmp_path: Path, upstream: ScriptedUpstream, *args: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    sock = support.free_socket()
    port = sock.getsockname()[1]
    sock.close()
    config_file = tmp_path / "semgate.yaml"
    models = "".join(f"  - {{name: {name}, upstreams: ['{upstream.base_url}']}}\n" for name in ("chat", "embed"))
    config_file.write_text("server: {health_interval_s: 60}\nmodels:\n" + models)
    stderr = tmp_path / "stderr.log"
    with open(stderr, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(config_file), "--port", str(port), *args],
            stdout=subprocess.DEVNULL, stderr=out,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, stderr.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return proc, port, stderr
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("gateway did not become ready: " + stderr.read_text())


async def burst(port: int, count: int) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET_KEY, max_retries=0)
    async with sdk:
        gate = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            async with gate:
                await sdk.chat.completions.create(model="chat", messages=MESSAGES, extra_headers={"x-request-id": f"b-{i}"})

        await asyncio.gather(*(one(i) for i in range(count)))


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_right_after_a_burst_loses_no_line_and_no_line_is_torn(
    tmp_path: Path, upstream: ScriptedUpstream, workers: int,
) -> None:
    proc, port, stderr = serve(tmp_path, upstream, "--workers", str(workers))
    try:
        asyncio.run(burst(port, 200))
        proc.send_signal(signal.SIGTERM)  # at once: lines of the last ~50 ms are still pending
        assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after its graceful shutdown
    finally:
        if proc.poll() is None:
            proc.kill()
    text = stderr.read_text()
    lines = [line for line in text.splitlines() if "semgate.access" in line]
    assert all(LINE.match(line) for line in lines), [line for line in lines if not LINE.match(line)][:3]
    assert sorted(LINE.match(line)["rid"] for line in lines) == sorted(f"b-{i}" for i in range(200))  # type: ignore[index]
    # The other log lines (uvicorn's, the gateway's) stay whole lines beside them.
    others = [line for line in text.splitlines() if line and "semgate.access" not in line]
    assert any("Started server process" in line for line in others)
    assert all(" semgate.access" not in line[1:] for line in others)
