"""SIGTERM with dataflow requests waiting: a real `semgate serve` answers them at
once (503 `shutting_down` for a long-poll, an in-band error for a stream) and
exits cleanly within a second or two, instead of holding the exit for
uvicorn's 10 s grace period and then cancelling them with tracebacks."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from dataflow.errors import ShuttingDown
from dataflow.executor import Executor
from dataflow.graph import Perf
from gateway.config import DataflowConfig
from gateway.store import MemoryStore
from tests.support import free_socket

ROOT = Path(__file__).resolve().parent.parent
API = "/dataflow/v1"


def start(tmp_path: Path, *, workers: int = 1, redis_url: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    settings: dict[str, Any] = {"server": {"health_interval_s": 60},
                                "models": [{"name": "sim", "engine": "sim", "sim": {"profile": "instant"}}]}
    if redis_url is not None:  # workers share sessions through it: any worker answers a fetch
        settings["store"] = {"backend": "redis", "url": redis_url}
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(settings))
    with free_socket() as sock:
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(config), "--port", str(port),
                             "--workers", str(workers)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the gateway did not start: {proc.communicate()[1].decode()[-2000:]}")


@pytest.fixture(params=[1, 2], ids=["one-process", "two-workers"])
def gateway_process(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    if request.param == 1:
        return start(tmp_path)
    return start(tmp_path, workers=2, redis_url=request.getfixturevalue("redis_url"))


def test_sigterm_answers_waiting_fetches_and_streams_then_exits_cleanly(
    gateway_process: tuple[subprocess.Popen[bytes], str],
) -> None:
    proc, url = gateway_process
    answers: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=url + API, timeout=30) as client:
            graph = {"variables": [{"id": "question"}],  # never set: whatever needs it waits
                     "calls": [{"model": "sim", "template": "{{q}} {{a}}", "inputs": {"q": "question"},
                                "outputs": {"a": {"id": "answer"}}}]}
            sid = client.post("/sessions", json={"graph": graph}).json()["id"]

        def fetch(name: str) -> None:
            with httpx.Client(base_url=url + API, timeout=30) as c:
                reply = c.get(f"/sessions/{sid}/variables/answer", params={"timeout": 60})
                answers[name] = (reply.status_code, reply.headers.get("retry-after"), reply.json())

        def stream() -> None:
            with httpx.Client(base_url=url + API, timeout=30) as c, \
                    c.stream("GET", f"/sessions/{sid}/variables/answer/stream", params={"timeout": 60}) as reply:
                answers["stream"] = (reply.status_code, [line for line in reply.iter_lines() if line])

        waiting = [threading.Thread(target=fetch, args=(f"fetch-{i}",)) for i in range(2)]
        waiting.append(threading.Thread(target=stream))
        for thread in waiting:
            thread.start()
        time.sleep(1.0)  # all three are waiting in the gateway now
        assert not answers
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        for thread in waiting:
            thread.join(15)
        code = proc.wait(15)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate()
    log = stderr.decode()
    assert code == 0, log[-3000:]
    assert took < 5, f"exit took {took:.1f} s"
    for name in ("fetch-0", "fetch-1"):
        status, retry_after, body = answers[name]
        assert (status, retry_after, body["error"]["code"]) == (503, "1", "shutting_down")
    status, lines = answers["stream"]
    assert status == 200 and lines[-1] == "data: [DONE]"
    assert orjson.loads(lines[-2].removeprefix("data: "))["error"]["code"] == "shutting_down"
    assert "Traceback" not in log and "Cancel" not in log, log[-3000:]


def test_after_drain_a_final_value_is_still_answered_and_waiting_is_refused() -> None:
    async def never(body: dict[str, Any], headers: Any, on_delta: Any, tenant: str) -> str:
        await asyncio.sleep(3600)
        return ""

    async def scenario() -> tuple[dict[str, Any], str, str]:
        executor = Executor(DataflowConfig(), MemoryStore(), never)
        session = await executor.create_session("t", None)
        await executor.submit(session, [("done", "42"), ("open", None)], [], lazy=True)
        waiting = asyncio.ensure_future(executor.fetch("t", session.id, "open", Perf.LATENCY, 60))
        await asyncio.sleep(0.05)
        await executor.drain()
        with pytest.raises(ShuttingDown) as cut:
            await asyncio.wait_for(waiting, 1)
        with pytest.raises(ShuttingDown) as refused:
            await executor.fetch("t", session.id, "open", Perf.LATENCY, 60)
        value = await executor.fetch("t", session.id, "done", Perf.LATENCY, 60)
        await executor.stop()
        return value, cut.value.code or "", refused.value.code or ""

    value, cut, refused = asyncio.run(scenario())
    assert value["value"] == "42" and cut == refused == "shutting_down"
