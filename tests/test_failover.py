"""A replica dying mid-run: non-streamed requests never see an error."""

from __future__ import annotations

import asyncio

import httpx
import openai

from gateway.engines.sim import SimServer, make_profile
from tests import support
from tests.support import BackgroundLoop

QUESTION = [{"role": "user", "content": "Summarise the history of Rome."}]


def test_killing_a_replica_mid_run_loses_no_request(bg: BackgroundLoop) -> None:
    profile = make_profile("llama3-8b-h100")
    victim = SimServer("pair", profile, speedup=10)
    survivor = SimServer("pair", profile, seed=1, speedup=10)
    bg.run(victim.start())
    bg.run(survivor.start())
    config = {"models": [{
        "name": "pair", "upstreams": [victim.base_url, survivor.base_url],
        "balancer": {"policy": "round_robin", "scrape_metrics": False, "prefix_affinity": False},
    }]}
    gateway = bg.run(support.start_gateway(config))
    try:
        async def burst() -> list[str]:
            client = openai.AsyncOpenAI(base_url=gateway.base_url, api_key="unused", max_retries=0, timeout=30)

            async def one(i: int) -> str:
                await asyncio.sleep(i * 0.01)
                reply = await client.chat.completions.create(model="pair", messages=QUESTION, max_tokens=64)
                return reply.choices[0].message.content or ""

            async def kill() -> None:
                await asyncio.sleep(0.15)  # requests are in flight on both replicas now
                # The engines live on the background loop: stop it there.
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(victim.stop(), bg.loop))

            *answers, _ = await asyncio.gather(*(one(i) for i in range(40)), kill())
            return answers

        answers = asyncio.run(burst())
        assert len(answers) == 40 and all(answers)
        assert victim.engine.stats().aborted > 0, "the kill hit no request in flight: the test proved nothing"
        metrics = httpx.get(f"{gateway.url}/metrics").text
        assert 'semgate_requests_total{endpoint="chat",model="pair",status="200"} 40.0' in metrics
    finally:
        bg.run(support.stop_gateway(gateway))
        bg.run(survivor.stop())
