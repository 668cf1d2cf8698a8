"""Redis going away under a running gateway: fail open or closed as configured,
counted in the metrics, and no request waits longer than the store's timeout."""

from __future__ import annotations

import hashlib
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import support
from tests.support import BackgroundLoop, RedisServer, RunningGateway

KEY = "sk-sg-static-key-for-outage-tests"


def config(redis: RedisServer, on_error: str) -> dict[str, Any]:
    return {
        "server": {"health_interval_s": 60},
        "models": [{"name": "m", "engine": "sim", "sim": {"profile": "instant"}}],
        "store": {"backend": "redis", "url": redis.url, "on_error": on_error, "timeout_s": 0.3, "retry_after_s": 1},
        "tenants": {"team": {"rpm": 1000, "key_hashes": ["sha256:" + hashlib.sha256(KEY.encode()).hexdigest()]}},
    }


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer.start()
    yield server
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGCONT)
        server.stop()


def post(gw: RunningGateway, key: str = KEY) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    reply = httpx.post(gw.url + "/v1/chat/completions", headers={"authorization": f"Bearer {key}"}, timeout=10,
                       json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3})
    return reply, time.monotonic() - started


def metric(gw: RunningGateway, line: str) -> float:
    for row in httpx.get(gw.url + "/metrics").text.splitlines():
        if row.startswith(line + " "):
            return float(row.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_fail_open_serves_without_limits_and_counts_it(bg: BackgroundLoop, redis: RedisServer, outage: str) -> None:
    gw = bg.run(support.start_gateway(config(redis, "open")))
    try:
        assert post(gw)[0].status_code == 200
        if outage == "stopped":
            redis.stop()  # connections refused
        else:
            redis.process.send_signal(signal.SIGSTOP)  # connections open, nothing answers
        replies = [post(gw) for _ in range(3)]
        assert [reply.status_code for reply, _ in replies] == [200, 200, 200]
        assert replies[0][1] < 2.0  # at most the store's timeout, not a hang
        assert max(seconds for _, seconds in replies[1:]) < 0.5  # the breaker skips the store meanwhile
        assert metric(gw, 'semgate_store_errors_total{op="limits",outcome="open"}') >= 3
    finally:
        bg.run(support.stop_gateway(gw))


def test_fail_closed_refuses_with_503_and_recovers(bg: BackgroundLoop, redis: RedisServer) -> None:
    gw = bg.run(support.start_gateway(config(redis, "closed")))
    try:
        assert post(gw)[0].status_code == 200
        redis.process.send_signal(signal.SIGSTOP)
        reply, seconds = post(gw)
        assert reply.status_code == 503 and reply.json()["error"]["code"] == "store_unavailable"
        assert seconds < 2.0
        assert metric(gw, 'semgate_store_errors_total{op="limits",outcome="closed"}') >= 1
        redis.process.send_signal(signal.SIGCONT)
        time.sleep(1.1)  # the breaker's retry_after_s
        assert post(gw)[0].status_code == 200
    finally:
        bg.run(support.stop_gateway(gw))


def test_an_unknown_key_is_never_let_through_during_an_outage(bg: BackgroundLoop, redis: RedisServer) -> None:
    gw = bg.run(support.start_gateway(config(redis, "open")))
    try:
        redis.stop()
        reply, _ = post(gw, "sk-sg-" + "k" * 43)  # shaped like an issued key, never read before
        assert reply.status_code == 503 and "API key" in reply.json()["error"]["message"]
    finally:
        bg.run(support.stop_gateway(gw))


def test_workflows_answer_503_while_the_store_is_down(bg: BackgroundLoop, redis: RedisServer) -> None:
    gw = bg.run(support.start_gateway(config(redis, "open")))
    try:
        redis.stop()
        reply = httpx.post(gw.url + "/dataflow/v1/sessions", headers={"authorization": f"Bearer {KEY}"}, json={},
                           timeout=10)
        assert reply.status_code == 503 and reply.json()["error"]["code"] == "store_unavailable"
    finally:
        bg.run(support.stop_gateway(gw))


def test_a_cache_fill_failing_after_the_reply_does_not_touch_the_reply(bg: BackgroundLoop, redis: RedisServer) -> None:
    cfg = config(redis, "closed")
    cfg["models"][0]["cache"] = {"ttl_s": 60}
    gw = bg.run(support.start_gateway(cfg))
    try:
        cache = gw.gateway.cache
        assert cache is not None
        store = gw.gateway.store
        original = store.set

        async def failing_set(*args: Any, **kwargs: Any) -> bool:  # the lookup worked; the fill fails
            from gateway.store import StoreError

            raise StoreError("connection lost")

        store.set = failing_set  # type: ignore[method-assign]
        try:
            reply, _ = post(gw)
        finally:
            store.set = original  # type: ignore[method-assign]
        assert reply.status_code == 200 and reply.json()["choices"]
        assert metric(gw, 'semgate_store_errors_total{op="cache",outcome="closed"}') == 1
        # The request is counted as the 200 it was, and nothing tried to answer it twice.
        assert metric(gw, 'semgate_requests_total{endpoint="chat",model="m",status="200"}') == 1
        assert metric(gw, 'semgate_requests_total{endpoint="chat",model="m",status="503"}') == 0
    finally:
        bg.run(support.stop_gateway(gw))
