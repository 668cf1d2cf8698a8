"""Replica choice on a cluster: round robin against Semgate's default balancer.

Four simulated vLLM replicas (benchmarks/_sim_cluster.py, one child process)
behind one gateway (in this process, as tests/support.py starts it), in two
scenarios, each run once per balancer on a fresh cluster with the same
seeded arrivals and prompts:

- skew: one replica also serves heavy traffic that bypasses the gateway, so
  a request sent there queues. Short unique prompts: Semgate balances them
  with p2c on in-flight + scraped queue lengths.
- prefix: many long system prompts, each shared by many requests, on
  replicas whose KV cache holds only a fraction of them. Semgate's prefix
  affinity (bounded-load consistent hashing) keeps each prompt's cache warm
  on one replica; round robin makes every replica cycle through all of them.

Arrivals are open-loop Poisson (a slow replica does not slow the offered
load down, as it would with a closed loop). Reported per run: client-side
p50/p99 latency of whole non-streaming requests, the cluster's prefix-cache
hit rate (sum of the sims' hit tokens / query tokens), and the engines' loop
lag, which must stay ~0 for the modelled GPU, not this machine's CPU, to be
what is measured.

    run(quick=False) -> dict     table(result) -> str
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import uvicorn
import uvloop

from benchmarks._procs import ChildServers
from benchmarks._sim_cluster import MODEL, words
from gateway.app import Gateway
from gateway.config import parse_config
from gateway.upstream import Origin, UpstreamClient, build_head

ROOT = Path(__file__).resolve().parent.parent
REPLICAS = 4
SPEEDUP = 2.0
# An 8B model on an H100, cut down to a KV cache of 12k tokens and 16 batch
# slots, so that both the cache and the batch are scarce at this load.
PROFILE = {"profile": "llama3-8b-h100", "overrides": {"kv_cache_tokens": 12288, "max_num_seqs": 16}}
POLICIES: dict[str, dict[str, Any]] = {
    "round_robin": {"policy": "round_robin", "prefix_affinity": False, "scrape_metrics": False},
    "semgate": {},  # the defaults: p2c, scraping every second, prefix affinity
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "skew": {
        "rate": 200.0,  # requests per second, offered to the gateway
        "prompt_tokens": 30,  # unique, ~190 characters: under prefix_min_chars, so no affinity key
        "max_tokens": 32,
        "background": {"concurrency": 24, "prompt_tokens": 400, "max_tokens": 64},
    },
    "prefix": {
        "rate": 200.0,
        "system_prompts": 48,
        "system_tokens": 600,  # 48 x 600 tokens: ~2.3x one replica's KV cache
        "prompt_tokens": 30,  # the unique user message after the shared system prompt
        "max_tokens": 24,
    },
}
TARGETS = {"p99_ratio_skew": 1.5, "hit_rate_ratio_prefix": 2.0}
_COUNTER = re.compile(rb"^(vllm:prefix_cache_queries_total|vllm:prefix_cache_hits_total|sim:loop_lag_seconds_total)"
                      rb"(?:\{[^}]*\})?\s+(\S+)", re.MULTILINE)


# ---- the cluster ----------------------------------------------------------------


class Cluster(ChildServers):
    """The sims' child process (benchmarks._sim_cluster)."""

    def __init__(self, background: dict[str, Any] | None, seed: int) -> None:
        spec = {**PROFILE, "replicas": REPLICAS, "speedup": SPEEDUP, "background": background, "seed": seed}
        super().__init__("benchmarks._sim_cluster", spec, ROOT)


async def engine_counters(client: UpstreamClient, urls: list[str]) -> dict[str, float]:
    """Prefix-cache queries/hits and loop lag, summed over the replicas."""
    totals = {"queries": 0.0, "hits": 0.0, "lag_s": 0.0}
    names = {b"vllm:prefix_cache_queries_total": "queries", b"vllm:prefix_cache_hits_total": "hits",
             b"sim:loop_lag_seconds_total": "lag_s"}
    for url in urls:
        origin, _ = Origin.of(url)
        reply = await client.request(origin, build_head(b"GET", b"/metrics", origin, [], 0), b"")
        for match in _COUNTER.finditer(await reply.read()):
            totals[names[match.group(1)]] += float(match.group(2))
    return totals


async def start_gateway(urls: list[str], balancer: dict[str, Any]) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    config = parse_config({
        "server": {"access_log": False, "health_interval_s": 60},
        "models": [{"name": "bench", "upstreams": urls, "upstream_model": MODEL, "balancer": balancer}],
    })
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY, see tests/support.py
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(Gateway(config, base_dir=ROOT), lifespan="on", log_level="warning",
                                           access_log=False, http="httptools"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            raise RuntimeError("the gateway failed to start")
        await asyncio.sleep(0.01)
    return server, task, sock.getsockname()[1]


# ---- the load -----------------------------------------------------------------------


def requests_for(scenario: dict[str, Any], count: int, seed: int) -> list[bytes]:
    """The request bodies, in arrival order: the same for every balancer."""
    rng = random.Random(seed)
    systems = [f"System prompt {i}: " + words(rng, scenario["system_tokens"])
               for i in range(scenario.get("system_prompts", 0))]
    bodies = []
    for n in range(count):
        messages = [{"role": "user", "content": f"Request {n}: " + words(rng, scenario["prompt_tokens"])}]
        if systems:
            messages.insert(0, {"role": "system", "content": rng.choice(systems)})
        bodies.append(orjson.dumps({"model": "bench", "messages": messages, "max_tokens": scenario["max_tokens"],
                                    "ignore_eos": True, "temperature": 0}))
    return bodies


async def offer(client: UpstreamClient, port: int, bodies: list[bytes], rate: float, seed: int) -> dict[str, Any]:
    """Send `bodies` as a Poisson stream at `rate`/s; latencies of the answers."""
    origin = Origin("http", "127.0.0.1", port)
    headers = [(b"content-type", b"application/json")]
    latencies: list[float] = []
    errors: list[str] = []
    lag = 0.0
    loop = asyncio.get_running_loop()

    async def one(body: bytes) -> None:
        started = time.perf_counter()
        try:
            reply = await client.request(origin, build_head(b"POST", b"/v1/chat/completions", origin, headers,
                                                            len(body)), body)
            answer = await reply.read()
        except Exception as exc:  # recorded, not raised: one failure must not end the run
            errors.append(repr(exc))
            return
        if reply.status != 200:
            errors.append(f"HTTP {reply.status}: {answer[:200]!r}")
            return
        latencies.append(time.perf_counter() - started)

    rng = random.Random(seed)
    tasks = []
    due = loop.time()
    for body in bodies:
        due += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, due - loop.time()))
        lag = max(lag, loop.time() - due)
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    return {"latencies": latencies, "errors": errors, "client_lag_s": lag}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def run_one(scenario: dict[str, Any], balancer: dict[str, Any], duration_s: float, seed: int) -> dict[str, Any]:
    count = int(scenario["rate"] * duration_s)
    bodies = requests_for(scenario, count, seed)
    cluster = Cluster(scenario.get("background"), seed)
    client = UpstreamClient(limit_per_origin=1024, read_timeout=120)
    try:
        server, task, port = await start_gateway(cluster.urls, balancer)
        try:
            before = await engine_counters(client, cluster.urls)
            started = time.perf_counter()
            load = await offer(client, port, bodies, scenario["rate"], seed)
            elapsed = time.perf_counter() - started
            after = await engine_counters(client, cluster.urls)
        finally:
            server.should_exit = True
            await task
    finally:
        client.close()
        cluster.stop()
    latencies = load["latencies"]
    queries = after["queries"] - before["queries"]
    return {
        "requests": count,
        "ok": len(latencies),
        "errors": len(load["errors"]),
        "first_error": load["errors"][0] if load["errors"] else None,
        "seconds": round(elapsed, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "prefix_hit_rate": round((after["hits"] - before["hits"]) / queries, 4) if queries else None,
        "engine_lag_s": round(after["lag_s"] - before["lag_s"], 3),
        "client_lag_ms": round(load["client_lag_s"] * 1000, 1),
    }


async def _run(quick: bool) -> dict[str, Any]:
    duration = 3.0 if quick else 13.0
    results: dict[str, dict[str, Any]] = {}
    for name, scenario in SCENARIOS.items():
        results[name] = {}
        for policy, balancer in POLICIES.items():
            results[name][policy] = await run_one(scenario, balancer, duration, seed=1)
    return {
        "settings": {"quick": quick, "duration_s": duration, "replicas": REPLICAS, "speedup": SPEEDUP,
                     **PROFILE, "scenarios": SCENARIOS, "policies": POLICIES},
        "scenarios": results,
        "targets": _targets(results),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    skew, prefix = results["skew"], results["prefix"]
    p99 = _ratio(skew["round_robin"]["p99_ms"], skew["semgate"]["p99_ms"])
    hits = _ratio(prefix["semgate"]["prefix_hit_rate"], prefix["round_robin"]["prefix_hit_rate"])
    return {
        "p99_ratio_skew": {"value": p99, "target": TARGETS["p99_ratio_skew"],
                           "met": None if p99 is None else p99 >= TARGETS["p99_ratio_skew"]},
        "hit_rate_ratio_prefix": {"value": hits, "target": TARGETS["hit_rate_ratio_prefix"],
                                  "met": None if hits is None else hits >= TARGETS["hit_rate_ratio_prefix"]},
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Both scenarios under both balancers; takes ~18 s quick, ~55 s full."""
    return uvloop.run(_run(quick))


def table(result: dict[str, Any]) -> str:
    head = f"{'scenario':<8} {'balancer':<12} {'ok/sent':>10} {'p50 ms':>8} {'p99 ms':>8} {'hit rate':>9} {'lag s':>6}"
    lines = [head, "-" * len(head)]
    for name, runs in result["scenarios"].items():
        for policy, row in runs.items():
            hit = "-" if row["prefix_hit_rate"] is None else f"{row['prefix_hit_rate']:.1%}"
            lines.append(
                f"{name:<8} {policy:<12} {row['ok']:>5}/{row['requests']:<4} {row['p50_ms']!s:>8} {row['p99_ms']!s:>8}"
                f" {hit:>9} {row['engine_lag_s']:>6}"
            )
    behind = [f"{name}/{policy}" for name, runs in result["scenarios"].items() for policy, row in runs.items()
              if row["engine_lag_s"] > 0.02 * row["seconds"]]
    if behind:
        lines.append(f"note: the engines fell >2% behind their cost model in {', '.join(behind)} (busy CPU)")
    for key, target in result["targets"].items():
        verdict = {True: "met", False: "MISSED", None: "n/a"}[target["met"]]
        lines.append(f"{key}: {target['value']}x (target >= {target['target']}x) {verdict}")
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = run(quick="--quick" in sys.argv)
    print(table(outcome))
