"""Slow, stalled and silent clients by the hundred, and a descriptor-starved
gateway: each abusive connection is closed within its timeout while normal
requests (the official openai SDK) keep succeeding and replicas stay healthy."""

from __future__ import annotations

import asyncio
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from tests import support
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream, free_socket

TIMEOUT = 1.5  # header and body timeouts of the in-process gateway
PER_KIND = 200
SLACK = 4.0  # generous bound for "closed, not left open"
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    config = {
        "server": {"header_timeout_s": TIMEOUT, "body_timeout_s": TIMEOUT, "keepalive_timeout_s": 1.0,
                   "health_interval_s": 60},
        "models": [{"name": "echo", "upstreams": [peer.base_url]}],
    }
    running = bg.run(support.start_gateway(config))
    yield running
    bg.run(support.stop_gateway(running))


@dataclass
class Outcome:
    reply: bytes
    closed: bool
    elapsed: float

    @property
    def status(self) -> int | None:
        return int(self.reply.split(b" ", 2)[1]) if self.reply.startswith(b"HTTP/1.1 ") else None


async def abuse(port: int, first: bytes, trickle: bytes | None, give_up_s: float) -> Outcome:
    """Send `first`, then `trickle` every 0.3 s, until the gateway hangs up (or give_up_s)."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = loop.time()
    reply, closed = b"", False
    if first:
        writer.write(first)
    try:
        while loop.time() - started < give_up_s:
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.3)
            except TimeoutError:
                if trickle and not writer.is_closing():
                    writer.write(trickle)
                continue
            if not data:
                closed = True
                break
            reply += data
    except ConnectionError:
        closed = True
    finally:
        writer.close()
    return Outcome(reply, closed, loop.time() - started)


async def normal_requests(base_url: str, count: int) -> int:
    async with openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=10) as client:
        ok = 0
        for _ in range(count):
            reply = await client.chat.completions.create(model="echo", messages=MESSAGES)
            ok += reply.choices[0].finish_reason == "stop"
            await asyncio.sleep(0.02)
        return ok


def test_hundreds_of_slow_and_silent_clients_are_cut_off_while_normal_requests_succeed(gw: RunningGateway) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
    half = head + b"content-type: application/json\r\ncontent-length: 4096\r\n\r\n{\"model\": \"echo\","
    give_up = TIMEOUT + SLACK

    async def scenario() -> tuple[list[Outcome], list[Outcome], list[Outcome], int]:
        slowloris = [abuse(gw.port, head, b"x-a: b\r\n", give_up) for _ in range(PER_KIND)]
        half_bodies = [abuse(gw.port, half, None, give_up) for _ in range(PER_KIND)]
        silent = [abuse(gw.port, b"", None, give_up) for _ in range(PER_KIND)]
        results = await asyncio.gather(
            asyncio.gather(*slowloris), asyncio.gather(*half_bodies), asyncio.gather(*silent),
            normal_requests(gw.base_url, 30),
        )
        return results[0], results[1], results[2], results[3]

    slowloris, half_bodies, silent, succeeded = asyncio.run(scenario())
    assert succeeded == 30
    for outcome in slowloris + half_bodies:
        assert outcome.closed and outcome.status == 408, outcome
        assert b'"code":"request_timeout"' in outcome.reply
    for outcome in silent:
        assert outcome.closed and outcome.reply == b"", outcome


# --- a gateway short of descriptors -------------------------------------------------

NOFILE = 1024
FLOOD = 1100


def low_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("gateway did not become ready:\n" + log.read_text())


def state(sock: socket.socket) -> str:
    """'open', 'closed' (hung up without a word) or the reply's status line."""
    try:
        data = sock.recv(65536)
    except BlockingIOError:
        return "open"
    except ConnectionResetError:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode() if data else "closed"


def test_a_flood_of_silent_connections_under_a_low_open_files_limit_leaves_the_gateway_serving(
    tmp_path: Path,
) -> None:
    # The embedded simulated engine: its sockets (and its health probes) share the
    # gateway's descriptor table, as the starved replicas did.
    config = {
        "server": {"header_timeout_s": 4.0, "health_interval_s": 0.3},
        "models": [{"name": "echo", "engine": "sim", "sim": {"speedup": 50}}],
    }
    (tmp_path / "semgate.yaml").write_text(yaml.safe_dump(config))
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(tmp_path / "semgate.yaml"), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, preexec_fn=low_nofile,
        )
    url = f"http://127.0.0.1:{port}"
    flood: list[socket.socket] = []
    try:
        wait_ready(url, proc, log)
        cap = int(re.search(rb"client connections: at most (\d+)", log.read_bytes()).group(1))
        assert cap < NOFILE - 256  # a reserve for the upstream pool, probes and logs
        for _ in range(FLOOD):
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)

        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0, timeout=10)
        for _ in range(5):
            reply = client.chat.completions.create(model="echo", messages=MESSAGES, max_tokens=8)
            assert reply.choices[0].message.content
        time.sleep(1.0)  # several health probe rounds ran during the flood
        assert httpx.get(f"{url}/health").status_code == 200
        ready = httpx.get(f"{url}/ready")
        assert ready.status_code == 200 and ready.json()["models"]["echo"]["replicas"] == [True]

        for conn in flood:
            conn.setblocking(False)
        states = [state(conn) for conn in flood]
        assert states.count("open") <= cap
        excess = [s for s in states if s != "open"]
        assert len(excess) >= FLOOD - cap
        assert set(excess) <= {"closed", "HTTP/1.1 503 Service Unavailable"}

        time.sleep(4.0 + 1.0)  # header_timeout_s: the silent ones the gateway kept are closed too
        assert [state(conn) for conn in flood].count("open") == 0
        assert proc.poll() is None
        assert b"Traceback" not in log.read_bytes()
    finally:
        for conn in flood:
            conn.close()
        proc.terminate()
        proc.wait(15)
