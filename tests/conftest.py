from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream

# Public model name -> what the scripted upstream does with it.
BEHAVIOURS = {
    "echo": support.echo,
    "hang_up": support.hang_up,
    "stall": support.stall,
    "think": support.think_then_answer,
    "html_500": support.html_500,
    "openai_400": support.openai_400,
    "die_mid_stream": support.die_mid_stream,
    "slow_stream": support.slow_stream,
}
REFUSED = "http://127.0.0.1:1/v1"  # nothing listens on port 1


@pytest.fixture(scope="session")
def bg() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def peer(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    upstream = bg.run(ScriptedUpstream(behaviours=dict(BEHAVIOURS)).start())
    yield upstream
    bg.run(upstream.stop())


def gateway_config(peer: ScriptedUpstream) -> dict:
    scripted = [{"name": name, "upstreams": [peer.base_url]} for name in BEHAVIOURS]
    return {
        "server": {"read_timeout_s": 1.0, "max_body_bytes": 65536, "health_interval_s": 60},
        "models": [
            {"name": "sim", "engine": "sim", "sim": {"profile": "llama3-8b-h100", "speedup": 20}},
            {"name": "renamed", "upstreams": [peer.base_url], "upstream_model": "echo"},
            {"name": "down", "upstreams": [REFUSED]},
            {"name": "failover", "upstreams": [REFUSED, peer.base_url], "upstream_model": "echo"},
            *scripted,
        ],
    }


@pytest.fixture(scope="session")
def gw(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    running = bg.run(support.start_gateway(gateway_config(peer)))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture
def client(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key="unused", max_retries=0, timeout=30)


@pytest.fixture
def aclient(gw: RunningGateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gw.base_url, api_key="unused", max_retries=0, timeout=30)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free port for the whole run (tests flush what they use)."""
    server = support.RedisServer.start()
    yield server.url
    server.stop()
