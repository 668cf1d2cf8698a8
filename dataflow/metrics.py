"""Prometheus metrics of semantic-variable workflows, on the gateway's registry.

- `semgate_dataflow_graph_calls`: calls per submitted graph (the size of the
  work the gateway took over from the client);
- `semgate_dataflow_call_duration_seconds{status}`: one call from launch to
  its end (done, failed, cancelled);
- `semgate_dataflow_call_queue_seconds`: from ready (inputs there, wanted) to
  launched: near zero while slots are free; under load it shows the
  scheduler at work (latency-critical and earlier applications wait least);
- `semgate_dataflow_forwarded_writes{outcome}`: changes this replica
  forwarded to the replica running their session (dataflow/remote.py): ok,
  error (the owner refused it, e.g. a 400 graph), unavailable (the owner is
  gone, answered 503).

The gauges (sessions, calls running and queued) and the per-status call
counter stay in gateway/metrics.py.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

GRAPH_CALLS_BUCKETS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
QUEUE_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
STATUSES = ("done", "failed", "cancelled")
OUTCOMES = ("ok", "error", "unavailable")


class DataflowMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.graph_calls = Histogram(
            "semgate_dataflow_graph_calls", "Calls per submitted dataflow graph.",
            buckets=GRAPH_CALLS_BUCKETS, registry=registry,
        )
        self.call_duration = Histogram(
            "semgate_dataflow_call_duration_seconds", "One dataflow call, from launch to its end, by status.",
            ["status"], buckets=CALL_BUCKETS, registry=registry,
        )
        self.call_queue = Histogram(
            "semgate_dataflow_call_queue_seconds", "Dataflow calls: time from ready to launched (priority queue).",
            buckets=QUEUE_BUCKETS, registry=registry,
        )
        self.forwarded_writes = Counter(
            "semgate_dataflow_forwarded_writes", "Session changes forwarded to the replica running the session, "
            "by outcome (ok, error: refused by the owner, unavailable: the owner is gone).",
            ["outcome"], registry=registry,
        )
        # Labelled children made once: every status and outcome shows (as 0) before it first happens.
        self._durations: dict[str, Any] = {status: self.call_duration.labels(status) for status in STATUSES}
        self._outcomes: dict[str, Any] = {outcome: self.forwarded_writes.labels(outcome) for outcome in OUTCOMES}

    def graph(self, calls: int) -> None:
        self.graph_calls.observe(calls)

    def call_ended(self, status: str, seconds: float) -> None:
        child = self._durations.get(status)
        if child is None:
            child = self._durations[status] = self.call_duration.labels(status)
        child.observe(seconds)

    def call_launched(self, queued_s: float) -> None:
        self.call_queue.observe(queued_s)

    def forwarded(self, outcome: str) -> None:
        child = self._outcomes.get(outcome)
        if child is None:
            child = self._outcomes[outcome] = self.forwarded_writes.labels(outcome)
        child.inc()
