"""The gateway (a real `semgate serve` process) against an upstream that misbehaves every way we
know: the client always gets a well-formed answer — the reply, an OpenAI-shaped error with the
right status, or an in-band stream error and `[DONE]` — in bounded time, and the gateway's memory
stays bounded however much the upstream sends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.robustness.misbehaving_upstream import FAULTS, MiB, MisbehavingUpstream, answer
from tests.support import BackgroundLoop, free_socket

REFUSED = "http://127.0.0.1:1/v1"
MAX_REPLY = 8 * MiB
MAX_EVENT = MiB
# Peak RSS growth allowed while one huge or endless reply is refused: the limits above, the
# connection's read-ahead (1 MiB) and the allocator's slack; the unbounded gateway grew by the
# whole reply (the faults send up to 1 GiB).
RSS_BOUND = 64 * MiB
REQUEST_TIMEOUT = 15.0  # "bounded time": every fault is answered well within it


@pytest.fixture(scope="module")
def upstream(bg: BackgroundLoop) -> Iterator[MisbehavingUpstream]:
    up = bg.run(MisbehavingUpstream().start())
    yield up
    bg.run(up.stop())


@pytest.fixture(scope="module")
def gateway(upstream: MisbehavingUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    models = [{"name": name, "upstreams": [upstream.base_url], "upstream_model": name, "retry": {"attempts": 1},
               "balancer": {"scrape_metrics": False}} for name in FAULTS]
    models.append({"name": "refused", "upstreams": [REFUSED], "retry": {"attempts": 1}})
    config = {"server": {"read_timeout_s": 0.5, "connect_timeout_s": 1, "max_reply_bytes": MAX_REPLY,
                         "max_event_bytes": MAX_EVENT, "health_interval_s": 60, "access_log": False},
              "models": models}
    directory = tmp_path_factory.mktemp("faults")
    path = directory / "semgate.yaml"
    path.write_bytes(orjson.dumps(config))  # JSON is YAML
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    log = (directory / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--config", str(path), "--port", str(port), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    gw = Gateway(process, f"http://127.0.0.1:{port}", directory / "gateway.log")
    try:
        gw.wait_ready()
        yield gw
    finally:
        process.terminate()
        process.wait(10)
        log.close()


class Gateway:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the gateway did not start:\n" + self.log.read_text())

    def rss(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field}")

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS

    def post(self, model: str, stream: bool = False) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
        return httpx.post(self.url + "/v1/chat/completions", json=body, timeout=REQUEST_TIMEOUT)


def assert_openai_error(reply: httpx.Response, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text[:300]
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code, error


def stream_events(reply: httpx.Response) -> list[Any]:
    """The events of a well-formed stream: JSON each, `[DONE]` last (and only last)."""
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    assert b"\r" not in reply.content
    datas = [event.removeprefix(b"data: ") for event in reply.content.split(b"\n\n") if event]
    assert datas[-1] == b"[DONE]" and b"[DONE]" not in datas[:-1], reply.content[-300:]
    return [orjson.loads(data) for data in datas[:-1]]


def text_of(events: list[Any]) -> str:
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))


# --- whole replies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault, status, code", [
    ("refused", 503, "upstream_unavailable"),
    ("reset", 503, "upstream_unavailable"),
    ("hang_before_headers", 504, "upstream_timeout"),
    ("hang_mid_headers", 504, "upstream_timeout"),
    ("hang_mid_body", 504, "upstream_timeout"),
    ("long_content_length", 504, "upstream_timeout"),
    ("garbage_status", 502, "bad_gateway"),
    ("garbage_chunk_size", 502, "bad_gateway"),
    ("die_mid_body", 502, "bad_gateway"),
])
def test_a_broken_whole_reply_is_an_openai_error_with_the_right_status(gateway: Gateway, fault: str, status: int,
                                                                        code: str) -> None:
    assert_openai_error(gateway.post(fault), status, code)


@pytest.mark.parametrize("fault, content", [("trickle", "trickled"), ("close_delimited", "fine"), ("ok", "fine")])
def test_a_slow_or_old_fashioned_reply_arrives_whole(gateway: Gateway, fault: str, content: str) -> None:
    reply = gateway.post(fault)
    assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"] == content


def test_a_reply_shorter_than_its_garbage_is_relayed_as_framed_and_the_connection_dropped(gateway: Gateway) -> None:
    reply = gateway.post("short_content_length")
    assert reply.status_code == 200 and reply.content == answer()[:-10]  # what its content-length said
    assert gateway.post("ok").json()["choices"][0]["message"]["content"] == "fine"  # no garbage left behind


@pytest.mark.parametrize("fault, stream", [("huge_body", False), ("huge_chunked_body", False),
                                           ("json_to_stream_request", True)])
def test_a_huge_whole_reply_is_refused_early_with_bounded_memory(gateway: Gateway, upstream: MisbehavingUpstream,
                                                                fault: str, stream: bool) -> None:
    base = gateway.rss()
    gateway.reset_peak()
    assert_openai_error(gateway.post(fault, stream), 502, "upstream_reply_too_large")
    assert gateway.rss("VmHWM") - base < RSS_BOUND
    assert upstream.sent[fault] < 64 * MiB  # the gateway hung up instead of reading on


# --- streams -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["no_separator_stream", "huge_event_stream"])
def test_an_endless_or_huge_event_ends_the_stream_in_band_with_bounded_memory(
    gateway: Gateway, upstream: MisbehavingUpstream, fault: str
) -> None:
    base = gateway.rss()
    gateway.reset_peak()
    events = stream_events(gateway.post(fault, stream=True))
    assert gateway.rss("VmHWM") - base < RSS_BOUND
    assert events[-1]["error"]["code"] == "upstream_event_too_large"
    assert upstream.sent[fault] < 64 * MiB
    if fault == "huge_event_stream":
        assert text_of(events) == "before"  # what came before the huge event was delivered


def test_a_stream_with_every_line_ending_is_delivered(gateway: Gateway) -> None:
    events = stream_events(gateway.post("crlf_stream", stream=True))
    assert text_of(events) == "t0 t1 t2 t3 "


@pytest.mark.parametrize("fault, code", [("die_mid_stream", "bad_gateway"), ("hang_mid_stream", "upstream_timeout")])
def test_a_stream_broken_off_ends_with_an_in_band_error(gateway: Gateway, fault: str, code: str) -> None:
    events = stream_events(gateway.post(fault, stream=True))
    assert text_of(events) == "Hel" and events[-1]["error"]["code"] == code


@pytest.mark.parametrize("fault, status, code", [
    ("refused", 503, "upstream_unavailable"), ("hang_before_headers", 504, "upstream_timeout"),
    ("garbage_status", 502, "bad_gateway"),
])
def test_a_stream_that_never_starts_is_an_openai_error(gateway: Gateway, fault: str, status: int, code: str) -> None:
    assert_openai_error(gateway.post(fault, stream=True), status, code)


def test_a_slow_client_holds_back_a_fast_stream_with_bounded_memory(gateway: Gateway,
                                                                   upstream: MisbehavingUpstream) -> None:
    base = gateway.rss()
    gateway.reset_peak()
    body = {"model": "fast_long_stream", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.stream("POST", gateway.url + "/v1/chat/completions", json=body, timeout=REQUEST_TIMEOUT) as reply:
        assert reply.status_code == 200
        next(reply.iter_raw(4096))  # read a little, then stall: the gateway must stop reading upstream
        time.sleep(1.5)
        sent = upstream.sent["fast_long_stream"]
        assert sent < 32 * MiB, f"the upstream sent {sent / MiB:.0f} MiB to a client that read 4 KiB"
        assert gateway.rss("VmHWM") - base < RSS_BOUND
    deadline = time.monotonic() + 5
    while upstream.hung_up.get("fast_long_stream", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.hung_up.get("fast_long_stream", 0) == 1  # the client left: the upstream request was dropped


def test_the_gateway_is_still_well_after_all_that(gateway: Gateway) -> None:
    assert gateway.post("ok").json()["choices"][0]["message"]["content"] == "fine"
    assert gateway.process.poll() is None
    assert "Traceback" not in gateway.log.read_text()
