"""A client that goes away cancels its upstream request (the engine stops work)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.support import RunningGateway, ScriptedUpstream

MESSAGES = [{"role": "user", "content": "hi"}]


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def metric(gw: RunningGateway, line_prefix: str) -> float:
    for line in httpx.get(f"{gw.url}/metrics").text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_streaming_disconnect_aborts_the_upstream_request(gw: RunningGateway, peer: ScriptedUpstream) -> None:
    before = peer.aborted
    body = {"model": "slow_stream", "messages": MESSAGES, "stream": True}
    with httpx.Client() as http, http.stream("POST", f"{gw.base_url}/chat/completions", json=body) as reply:
        assert reply.status_code == 200
        first = next(reply.iter_raw())
        assert first.startswith(b"data: ")
    # The peer streams for 10 s; it only stops early if the gateway hung up on it.
    assert eventually(lambda: peer.aborted > before, timeout=3)
    assert eventually(lambda: metric(gw, 'semgate_client_disconnects_total{model="slow_stream"}') >= 1)


def test_non_streaming_disconnect_aborts_the_upstream_request(gw: RunningGateway, peer: ScriptedUpstream) -> None:
    before = peer.aborted
    with httpx.Client(timeout=0.3) as http, pytest.raises(httpx.ReadTimeout):
        http.post(f"{gw.base_url}/chat/completions", json={"model": "think", "messages": MESSAGES})
    assert eventually(lambda: peer.aborted > before, timeout=3)
    assert eventually(lambda: metric(gw, 'semgate_client_disconnects_total{model="think"}') >= 1)
    assert metric(gw, 'semgate_requests_in_flight{model="think"}') == 0


def sim_engine(gw: RunningGateway):
    engine = gw.gateway.engines.get("sim")
    assert engine is not None
    return engine.server.engine


@pytest.mark.parametrize("stream", [True, False])
def test_disconnect_frees_the_simulated_engine(gw: RunningGateway, stream: bool) -> None:
    engine = sim_engine(gw)
    before = engine.stats().aborted
    # ignore_eos + 2,000 tokens: about 1 s of simulated decoding at speedup 20.
    body = {"model": "sim", "messages": MESSAGES, "max_tokens": 2000, "ignore_eos": True, "stream": stream}
    with httpx.Client(timeout=0.2) as http:
        if stream:
            with http.stream("POST", f"{gw.base_url}/chat/completions", json=body) as reply:
                next(reply.iter_raw())
        else:
            with pytest.raises(httpx.ReadTimeout):
                http.post(f"{gw.base_url}/chat/completions", json=body)
    assert eventually(lambda: engine.stats().aborted > before, timeout=3)
    assert eventually(lambda: engine.stats().running == 0)
