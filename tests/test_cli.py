"""`semgate serve` as a user runs it: a real process, a real port."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.support import free_socket


def start(args: list[str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_ready(port: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("gateway did not become ready")


@pytest.fixture
def port() -> int:
    sock = free_socket()
    number = sock.getsockname()[1]
    sock.close()
    return number


@pytest.fixture
def default_gateway(port: int) -> Iterator[subprocess.Popen[str]]:
    proc = start([], port)
    try:
        wait_ready(port, proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)


def test_serve_without_config_starts_the_embedded_default(default_gateway: subprocess.Popen[str], port: int) -> None:
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
    assert {m.id for m in client.models.list()} == {"sim-small", "sim-large", "auto"}
    reply = client.chat.completions.create(model="sim-small", messages=[{"role": "user", "content": "hi"}], max_tokens=4)
    assert reply.choices[0].message.content
    default_gateway.send_signal(signal.SIGINT)
    output = default_gateway.communicate(timeout=15)[0]
    assert "embedded default" in output and "simulated" in output
    assert default_gateway.returncode == 0


def test_engine_start_failure_is_one_clean_line(tmp_path: Path, port: int) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("models:\n  - name: m\n    engine: vllm\n    vllm: {model: /nonexistent/model, python: /nonexistent/python}\n")
    proc = start(["--config", str(config)], port)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 1
    assert "start-up failed" in output and "Traceback" not in output


def test_metrics_and_health_endpoints(default_gateway: subprocess.Popen[str], port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/ready").json()
    assert ready["ready"] and set(ready["models"]) == {"sim-small", "sim-large"}
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
    list(client.chat.completions.create(model="sim-large", messages=[{"role": "user", "content": "hi"}], max_tokens=3, stream=True))
    text = httpx.get(f"{base}/metrics").text
    for name in ("semgate_requests_total", "semgate_request_duration_seconds_bucket",
                 "semgate_time_to_first_token_seconds_bucket", "semgate_tokens_total", "semgate_requests_in_flight"):
        assert f"{name}{{" in text, name
    assert 'semgate_tokens_total{direction="out",model="sim-large"} 3.0' in text
