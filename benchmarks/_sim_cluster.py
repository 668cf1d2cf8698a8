"""A cluster of simulated vLLM replicas in one child process, for routing benchmarks.

    python -m benchmarks._sim_cluster '{"replicas": 4, "profile": ..., "background": ...}'

prints one JSON line, `{"urls": [...]}`, once every replica serves, then runs
until its stdin closes. All replicas share one event loop in one process: on
a 2-core machine that leaves the other core to the gateway and the load
generator, and the engines' loop lag (`sim:loop_lag_seconds`) shows whether
this process kept up with the modelled GPUs.

`background` optionally keeps replica 0 busy with traffic that never passes
the gateway (other clients, another gateway): `concurrency` requests at all
times, submitted to the engine directly, each a fresh prompt of
`prompt_tokens` words generating `max_tokens` tokens.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from typing import Any

import uvloop

from gateway.engines.sim import SamplingParams, SimEngine, SimServer, make_profile
from gateway.engines.sim.request import SeqOutput
from gateway.engines.sim.text import Prompt

MODEL = "sim"
# Prompt text: one token per word in the simulator's tokenizer (words of at
# most 8 letters, each with its leading space).
WORDS = (
    "the of and to in is for on with as by at from that this are be or it an was which can has "
    "model token cache prefix replica request batch engine memory latency gateway system answer "
    "question context window budget policy router vector matrix kernel tensor stream buffer "
    "network packet client server shard worker queue ticket summary report invoice contract clause"
).split()


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(WORDS, k=count))


async def _background_worker(engine: SimEngine, rng: random.Random, prompt_tokens: int, max_tokens: int) -> None:
    params = SamplingParams(max_tokens=max_tokens, ignore_eos=True, temperature=0.0)
    while True:
        outputs: asyncio.Queue[SeqOutput] = asyncio.Queue()
        engine.submit(Prompt.from_text(words(rng, prompt_tokens)), params, outputs)
        while (await outputs.get()).finish_reason is None:
            pass


async def serve(spec: dict[str, Any]) -> None:
    profile = make_profile(spec["profile"], spec.get("overrides") or {})
    servers = [
        SimServer(MODEL, profile, seed=index, speedup=spec["speedup"]) for index in range(spec["replicas"])
    ]
    urls = [await server.start() for server in servers]
    workers: list[asyncio.Task[None]] = []
    background = spec.get("background")
    if background:
        rng = random.Random(spec.get("seed", 0))
        workers = [
            asyncio.create_task(
                _background_worker(servers[0].engine, rng, background["prompt_tokens"], background["max_tokens"])
            )
            for _ in range(background["concurrency"])
        ]
    print(json.dumps({"urls": urls}), flush=True)
    # The parent closing our stdin (or dying) is the signal to stop.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    for server in servers:
        await server.stop()


def main(argv: list[str]) -> int:
    uvloop.run(serve(json.loads(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
