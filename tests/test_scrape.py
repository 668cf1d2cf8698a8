"""Engine load from vLLM's /metrics: the parser on vLLM's text format, the
fetch over a socket, and scraping simulated engines end to end."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import BalancerConfig
from gateway.engines.sim import SamplingParams, SimServer, make_profile
from gateway.engines.sim.text import Prompt
from gateway.upstream.probe import fetch
from router.balancer import ReplicaSet
from router.replicas import Replica
from router.scrape import STALE_AFTER, EngineLoad, MetricsScraper, parse_metrics
from tests.test_sim_engine import eventually

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = b'{model_name="m",engine="%d"}'


def test_parses_a_vllm_metrics_page() -> None:
    load = parse_metrics((FIXTURES / "vllm-0.x-metrics.txt").read_bytes())
    # running_max, histograms and counters with similar names are not read.
    assert load == EngineLoad(waiting=4.0, running=7.0, kv_usage=0.8525)


def test_data_parallel_engines_are_summed_and_their_kv_use_averaged() -> None:
    text = b"\n".join([
        b"# TYPE vllm:num_requests_waiting gauge",
        b"vllm:num_requests_waiting" + LABELS % 0 + b" 2.0",
        b"vllm:num_requests_waiting" + LABELS % 1 + b" 3.0",
        b"vllm:num_requests_running" + LABELS % 0 + b" 10.0",
        b"vllm:num_requests_running" + LABELS % 1 + b" 12.0 1700000000000",  # with a timestamp
        b"vllm:kv_cache_usage_perc" + LABELS % 0 + b" 0.2",
        b"vllm:kv_cache_usage_perc" + LABELS % 1 + b" 0.6",
    ])
    assert parse_metrics(text) == EngineLoad(waiting=5.0, running=22.0, kv_usage=pytest.approx(0.4))


def test_older_vllm_names_and_unlabelled_series() -> None:
    text = b"vllm:num_requests_waiting 1\nvllm:num_requests_running 2\nvllm:gpu_cache_usage_perc 0.5\n"
    assert parse_metrics(text) == EngineLoad(waiting=1.0, running=2.0, kv_usage=0.5)


def test_pages_without_vllm_gauges_give_nothing() -> None:
    assert parse_metrics(b"# HELP up 1\nup 1\nprocess_cpu_seconds_total 3.5\n") is None
    assert parse_metrics(b"<html>not found</html>") is None
    assert parse_metrics(b"vllm:num_requests_waiting{} NaN\n") is None


# ---- fetching ----------------------------------------------------------------


@contextlib.asynccontextmanager
async def answering(reply: bytes) -> AsyncIterator[int]:
    """A server that answers every connection with `reply` and hangs up."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_fetch_reads_chunked_and_plain_bodies() -> None:
    chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    async with answering(chunked) as port:
        assert await fetch("http", "127.0.0.1", port, "/metrics", 2.0) == (200, b"hello world")
    plain = b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found"
    async with answering(plain) as port:
        assert await fetch("http", "127.0.0.1", port, "/metrics", 2.0) == (404, b"not found")


async def test_fetch_gives_none_for_refused_and_silent_servers() -> None:
    assert await fetch("http", "127.0.0.1", 1, "/metrics", 2.0) is None

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        assert await fetch("http", "127.0.0.1", server.sockets[0].getsockname()[1], "/metrics", 0.1) is None
    finally:
        server.close()


async def test_a_replica_without_metrics_is_not_asked_every_interval() -> None:
    hits = 0

    async def not_found(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal hits
        hits += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(not_found, "127.0.0.1", 0)
    replica = Replica(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1")
    scraper = MetricsScraper([replica], interval=0.01)
    try:
        for _ in range(3):
            await scraper.scrape(replica)
    finally:
        server.close()
    assert hits == 1


async def test_a_stale_reading_is_dropped_after_failed_scrapes() -> None:
    replica = Replica("http://127.0.0.1:1/v1")  # refuses
    replica.observe(EngineLoad(waiting=9, running=9, kv_usage=0.5))
    scraper = MetricsScraper([replica], interval=1.0)
    for _ in range(STALE_AFTER - 1):
        await scraper.scrape(replica)
    assert replica.external_load == 18  # a blip keeps the last reading
    await scraper.scrape(replica)
    assert replica.external_load == 0


# ---- simulated engines, end to end ---------------------------------------------------


def busy_engine(server: SimServer, requests: int) -> None:
    """Queue long requests on the engine directly, as traffic from elsewhere."""
    params = SamplingParams(max_tokens=2000, ignore_eos=True)
    for i in range(requests):
        server.engine.submit(Prompt.from_text(f"background request {i}"), params)


async def test_scraping_a_sim_engine_sees_its_queue() -> None:
    server = SimServer("m", make_profile("llama3-8b-h100", {"max_num_seqs": 2}), speedup=1.0)
    await server.start()
    try:
        busy_engine(server, 5)
        assert await eventually(lambda: server.engine.stats().running == 2)
        replica = Replica(server.base_url)
        await MetricsScraper([replica], interval=1.0).scrape(replica)
        assert replica.external_load == 5  # 2 running + 3 waiting, none of them ours
        replica.in_flight = 1  # one of them is ours after all
        await MetricsScraper([replica], interval=1.0).scrape(replica)
        assert replica.load == 5
    finally:
        await server.stop()


async def test_a_replica_set_scrapes_in_the_background_and_routes_around_the_busy_engine() -> None:
    busy, idle = (SimServer("m", make_profile("llama3-8b-h100", {"max_num_seqs": 4})) for _ in range(2))
    replicas = ReplicaSet(
        [Replica(await busy.start()), Replica(await idle.start())],
        BalancerConfig(scrape_interval_s=0.05),
        rng=random.Random(0),
    )
    await replicas.start()
    try:
        busy_engine(busy, 12)
        assert await eventually(lambda: replicas.replicas[0].external_load >= 12)
        assert all(replicas.pick() is replicas.replicas[1] for _ in range(20))
    finally:
        await replicas.stop()
        await busy.stop()
        await idle.stop()
