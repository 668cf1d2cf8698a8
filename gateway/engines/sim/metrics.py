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


# (kind, name without the _total suffix, help, EngineStats field)
_FAMILIES: list[tuple[type[GaugeMetricFamily] | type[CounterMetricFamily], str, str, str]] = [
    (GaugeMetricFamily, "vllm:num_requests_running", "Sequences in the running batch.", "running"),
    (GaugeMetricFamily, "vllm:num_requests_waiting", "Sequences waiting to be scheduled.", "waiting"),
    (GaugeMetricFamily, "vllm:kv_cache_usage_perc", "KV-cache usage; 1 means 100 percent.", "kv_cache_usage"),
    (CounterMetricFamily, "vllm:prefix_cache_queries", "Prefix cache queries, in tokens.", "prefix_cache_queries"),
    (CounterMetricFamily, "vllm:prefix_cache_hits", "Prefix cache hits, in tokens.", "prefix_cache_hits"),
    (CounterMetricFamily, "vllm:prompt_tokens", "Prefill tokens processed.", "prompt_tokens"),
    (CounterMetricFamily, "vllm:generation_tokens", "Generation tokens processed.", "generation_tokens"),
    (CounterMetricFamily, "vllm:num_preemptions", "Cumulative preemptions.", "preemptions"),
    (CounterMetricFamily, "vllm:request_abort", "Requests aborted (simulator extension).", "aborted"),
    (CounterMetricFamily, "sim:loop_lag_seconds", "Wall seconds the simulator fell behind its cost model.", "lag_s"),
]


class _EngineCollector(Collector):
    def __init__(self, engine: SimEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self._engine
        stats = engine.stats()
        labels = {"model_name": engine.model_name}
        for family, name, doc, field in _FAMILIES:
            metric = family(name, doc, labels=list(labels))
            metric.add_metric(list(labels.values()), getattr(stats, field))
            yield metric
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
