"""API keys while Redis is down: what a replica read before the outage still
binds it, expiries included, and no key it cannot vouch for is let through."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, RedisServer, RunningGateway

ADMIN_ENV = "SEMGATE_TEST_OUTAGE_ADMIN_KEY"
ADMIN_KEY = "admin-key-for-the-outage-tests"


def config(redis: RedisServer, on_error: str, key_cache_s: float) -> dict[str, Any]:
    return {
        "server": {"health_interval_s": 60},
        "models": [{"name": "m", "engine": "sim", "sim": {"profile": "instant"}}],
        "store": {"backend": "redis", "url": redis.url, "on_error": on_error, "timeout_s": 0.3, "retry_after_s": 1},
        "auth": {"admin_key_env": ADMIN_ENV, "key_cache_s": key_cache_s},
        "tenants": {"team": {}},
    }


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def start(bg: BackgroundLoop, cfg: dict[str, Any]) -> RunningGateway:
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        return bg.run(support.start_gateway(cfg))
    finally:
        del os.environ[ADMIN_ENV]


def create_key(gw: RunningGateway, **fields: Any) -> dict[str, Any]:
    reply = httpx.post(gw.url + "/admin/v1/keys", headers={"authorization": f"Bearer {ADMIN_KEY}"},
                       json={"tenant": "team", **fields}, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def ask(gw: RunningGateway, key: str) -> Any:
    client = openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=10)
    return client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=3)


def wait_past(expires: int) -> None:
    time.sleep(max(expires - time.time(), 0) + 0.1)


@pytest.mark.parametrize("on_error", ["open", "closed"])
@pytest.mark.parametrize("key_cache_s", [0.2, 30.0], ids=["cache-stale", "cache-fresh"])
def test_an_expired_key_is_refused_while_the_store_is_down_and_after(
    bg: BackgroundLoop, redis: RedisServer, on_error: str, key_cache_s: float
) -> None:
    gw = start(bg, config(redis, on_error, key_cache_s))
    try:
        expiring = create_key(gw, expires_in_s=1)
        lasting = create_key(gw)
        assert ask(gw, expiring["key"]).choices and ask(gw, lasting["key"]).choices  # both read and cached
        redis.stop()
        wait_past(expiring["expires"])
        with pytest.raises(openai.AuthenticationError) as caught:
            ask(gw, expiring["key"])
        assert caught.value.code == "invalid_api_key" and "expired" in caught.value.message
        assert ask(gw, lasting["key"]).choices  # a key read before the outage keeps working
        redis = RedisServer.start(redis.port)
        time.sleep(1.1)  # the store's retry_after_s
        with pytest.raises(openai.AuthenticationError):
            ask(gw, expiring["key"])
    finally:
        bg.run(support.stop_gateway(gw))
        if redis.process.poll() is None:
            redis.stop()


def test_a_key_revoked_here_stays_refused_while_the_store_is_down(bg: BackgroundLoop, redis: RedisServer) -> None:
    gw = start(bg, config(redis, "open", 0.2))
    try:
        created = create_key(gw)
        assert ask(gw, created["key"]).choices
        revoked = httpx.delete(f"{gw.url}/admin/v1/keys/{created['id']}",
                               headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)
        assert revoked.status_code == 200, revoked.text
        redis.stop()
        time.sleep(0.3)  # past key_cache_s: the replica would ask the store, which is gone
        with pytest.raises(openai.AuthenticationError):
            ask(gw, created["key"])
    finally:
        bg.run(support.stop_gateway(gw))


def test_keys_no_replica_can_vouch_for_are_never_let_through(bg: BackgroundLoop, redis: RedisServer) -> None:
    gw = start(bg, config(redis, "open", 0.2))
    try:
        never_issued = "sk-sg-not-a-key-the-admin-api-could-have-made"
        unseen = "sk-sg-" + "A" * 43  # shaped like an issued key, never read: the replica cannot tell
        known_unknown = "sk-sg-" + "B" * 43
        with pytest.raises(openai.AuthenticationError):
            ask(gw, known_unknown)  # read while the store was up: no such key
        redis.stop()
        with pytest.raises(openai.AuthenticationError):
            ask(gw, never_issued)
        with pytest.raises(openai.AuthenticationError):
            ask(gw, known_unknown)
        with pytest.raises(openai.InternalServerError) as caught:
            ask(gw, unseen)
        assert caught.value.status_code == 503 and caught.value.code == "store_unavailable"
    finally:
        bg.run(support.stop_gateway(gw))
