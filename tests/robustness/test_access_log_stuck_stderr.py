"""A log shipper that stops reading the gateway's stderr must not stop the
gateway: requests go on at full speed, the access log holds a bounded number
of lines, and what it had to drop is counted and said, not lost silently."""

from __future__ import annotations

import asyncio
import fcntl
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, ScriptedUpstream

REQUESTS = 600
BUFFER_LINES = 50
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


async def answer(request: support.PeerRequest, writer: asyncio.StreamWriter) -> None:
    await support.respond(writer, 200, support.completion("chat", "hello"))


@pytest.fixture(scope="module")
def upstream(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    peer = bg.run(ScriptedUpstream(behaviours={"chat": answer}).start())
    yield peer
    bg.run(peer.stop())


def dropped(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    found = re.search(r"^semgate_access_log_dropped_total (\S+)$", text, re.MULTILINE)
    assert found, "semgate_access_log_dropped_total missing from /metrics"
    return float(found.group(1))


async def load(port: int) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0, timeout=10)
    async with sdk:
        gate = asyncio.Semaphore(16)

        async def one() -> None:
            async with gate:
                await sdk.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])

        await asyncio.gather(*(one() for _ in range(REQUESTS)))


def test_a_stderr_nobody_reads_costs_counted_lines_not_requests(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    sock = support.free_socket()
    port = sock.getsockname()[1]
    sock.close()
    config = tmp_path / "semgate.yaml"
    config.write_text(f"server: {{access_log_buffer_lines: {BUFFER_LINES}, health_interval_s: 60}}\n"
                      f"models:\n  - {{name: chat, upstreams: ['{upstream.base_url}']}}\n")
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(config), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    fcntl.fcntl(proc.stderr.fileno(), F_SETPIPE_SZ, 4096)  # nobody reads it: full after ~30 lines
    try:
        support_wait_health(port, proc)
        started = time.monotonic()
        asyncio.run(load(port))  # every request must succeed although no line can be written
        assert time.monotonic() - started < 60
        lost = dropped(port)
        assert lost >= REQUESTS - 2 * BUFFER_LINES - 4096 // 100  # kept at most: the queue, the writer's batch, the pipe
        output: list[bytes] = []
        reader = threading.Thread(target=lambda: output.append(proc.stderr.read()))  # type: ignore[union-attr]
        reader.start()  # the shipper is back: what was kept is written, then the count of what was not
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = b"".join(output).decode()
    kept = len(re.findall(r" INFO semgate\.access: rid=", text))
    notices = [int(n) for n in re.findall(r"WARNING semgate\.access: (\d+) lines dropped so far", text)]
    assert notices and notices[-1] == lost
    assert kept + lost == REQUESTS


def support_wait_health(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gateway exited at start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("gateway did not start")
