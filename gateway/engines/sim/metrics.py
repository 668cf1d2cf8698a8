"""Prometheus metrics with vLLM's names, read from the engine at scrape time.

Each engine gets its own CollectorRegistry: several engines live in one
process (the gateway embeds one per simulated model), and the global registry
would reject their duplicate metric names. A custom collector reads the
engine's plain counters when scraped, so the scheduler's hot loop never
touches prometheus_client.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .engine import SimEngine

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _EngineCollector(Collector):
    def __init__(self, engine: SimEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self._engine
        stats = engine.stats()
        labels = {"model_name": engine.model_name}

        def metric(
            family: type[GaugeMetricFamily] | type[CounterMetricFamily], name: str, doc: str, value: float
        ) -> Metric:
            result = family(name, doc, labels=list(labels))
            result.add_metric(list(labels.values()), value)
            return result

        yield metric(GaugeMetricFamily, "vllm:num_requests_running", "Sequences in the running batch.", stats.running)
        yield metric(
            GaugeMetricFamily, "vllm:num_requests_waiting", "Sequences waiting to be scheduled.", stats.waiting
        )
        yield metric(
            GaugeMetricFamily, "vllm:kv_cache_usage_perc", "KV-cache usage; 1 means 100 percent.", stats.kv_cache_usage
        )
        yield metric(
            CounterMetricFamily,
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in tokens.",
            stats.prefix_cache_queries,
        )
        yield metric(
            CounterMetricFamily, "vllm:prefix_cache_hits", "Prefix cache hits, in tokens.", stats.prefix_cache_hits
        )
        yield metric(CounterMetricFamily, "vllm:prompt_tokens", "Prefill tokens processed.", stats.prompt_tokens)
        yield metric(
            CounterMetricFamily, "vllm:generation_tokens", "Generation tokens processed.", stats.generation_tokens
        )
        yield metric(CounterMetricFamily, "vllm:num_preemptions", "Cumulative preemptions.", stats.preemptions)
        yield metric(
            CounterMetricFamily, "vllm:request_abort", "Requests aborted (simulator extension).", stats.aborted
        )
        yield metric(
            CounterMetricFamily,
            "sim:loop_lag_seconds",
            "Wall seconds the simulator fell behind its cost model.",
            stats.lag_s,
        )
        yield self._successes(engine, labels)

    @staticmethod
    def _successes(engine: SimEngine, labels: dict[str, str]) -> Metric:
        family = CounterMetricFamily(
            "vllm:request_success", "Finished requests by finish reason.", labels=[*labels, "finished_reason"]
        )
        for reason in ("stop", "length", "abort"):
            # The engine's "tool_calls" is an EOS-terminated "stop" to vLLM.
            count = engine.finish_reasons[reason] + (engine.finish_reasons["tool_calls"] if reason == "stop" else 0)
            family.add_metric([*labels.values(), reason], count)
        return family


def metrics_registry(engine: SimEngine) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_EngineCollector(engine))
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
