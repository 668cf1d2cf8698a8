"""Prometheus metrics for the request path.

Each gateway owns its registry (tests run several gateways in one process).
Labelled children are cached: `labels()` takes a lock and hashes its label
tuple, which is measurable at thousands of requests per second.

With `semgate serve --workers N` (N > 1) prometheus_client runs in its
multiprocess mode (gateway/workers.py sets PROMETHEUS_MULTIPROC_DIR before a
worker imports it): every worker writes its values to files there, and
/metrics, whichever worker answers it, aggregates all of them. Gauges say
how: `livesum` for counts of things in flight, `livemostrecent` for a
replica's health, `livemax` for an open breaker. `Gauge.set_function` cannot
work across processes, so there the dataflow gauges are plain values that
each worker refreshes from its executor (see `observe_dataflow`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
TTFT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
ITL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5)
CONFIDENCE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))  # 0.1 .. 1.0
# Multiprocess mode: how often each worker copies its dataflow gauges to the shared files.
DATAFLOW_REFRESH_S = 1.0


def multiprocess() -> bool:
    """Whether prometheus_client writes to PROMETHEUS_MULTIPROC_DIR in this process.

    Decided when prometheus_client was imported, so the value class is the
    truth, not the environment variable (which the serving parent sets later).
    """
    return values.ValueClass is not values.MutexValue


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "semgate_requests", "Requests answered, by model, endpoint and HTTP status.",
            ["model", "endpoint", "status"], registry=r,
        )
        self.latency = Histogram(
            "semgate_request_duration_seconds", "Time from request to last byte of the reply.",
            ["model", "status"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.ttft = Histogram(
            "semgate_time_to_first_token_seconds", "Streaming: time from request to the first chunk.",
            ["model"], buckets=TTFT_BUCKETS, registry=r,
        )
        self.tokens = Counter(
            "semgate_tokens", "Tokens reported by upstream usage, by direction (in = prompt, out = completion).",
            ["model", "direction"], registry=r,
        )
        self.upstream_errors = Counter(
            "semgate_upstream_errors", "Failed upstream attempts, by kind (unavailable, timeout, bad_gateway, status_5xx).",
            ["model", "kind"], registry=r,
        )
        self.in_flight = Gauge(
            "semgate_requests_in_flight", "Requests being served now.", ["model"], registry=r,
            multiprocess_mode="livesum",
        )
        self.client_disconnects = Counter(
            "semgate_client_disconnects", "Requests abandoned by their client; the upstream request was cancelled.",
            ["model"], registry=r,
        )
        self.decisions = Counter(
            "semgate_route_decisions", "Routing decisions, by route, chosen model and kind of reason.",
            ["route", "model", "kind"], registry=r,
        )
        self.cost = Counter(
            "semgate_cost_usd", "Spend in USD from upstream usage and the catalog's per-token prices.",
            ["model"], registry=r,
        )
        self.dataflow_calls = Counter(
            "semgate_dataflow_calls", "Dataflow calls ended, by status (done, failed, cancelled).",
            ["status"], registry=r,
        )
        self.policy_decisions = Counter(
            "semgate_policy_decisions", "Policy decisions, by stage (input, output, uncertainty), policy and action.",
            ["stage", "policy", "action"], registry=r,
        )
        self.guard_errors = Counter(
            "semgate_guard_errors", "Guards that could not judge (error, timeout, garbage), by guard.",
            ["guard", "kind"], registry=r,
        )
        self.guard_latency = Histogram(
            "semgate_guard_duration_seconds", "Time a guard took to judge one text.",
            ["guard"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.inter_token = Histogram(
            "semgate_inter_token_latency_seconds", "Streaming: time between consecutive chunks sent to the client.",
            ["model"], buckets=ITL_BUCKETS, registry=r,
        )
        self.cache_lookups = Counter(
            "semgate_cache_lookups", "Response-cache look-ups on routes that opted in, by result (hit, miss).",
            ["model", "result"], registry=r,
        )
        self.limit_rejections = Counter(
            "semgate_limit_rejections", "Requests refused by a tenant limit (rpm, tpm, budget, model).",
            ["tenant", "limit"], registry=r,
        )
        self.tenant_tokens = Counter(
            "semgate_tenant_tokens", "Tokens by tenant and direction (in = prompt, out = completion).",
            ["tenant", "direction"], registry=r,
        )
        self.tenant_cost = Counter(
            "semgate_tenant_cost_usd", "Spend in USD by tenant.", ["tenant"], registry=r,
        )
        self.store_errors = Counter(
            "semgate_store_errors", "Store operations that failed or were skipped while it was down, by "
            "operation and how the request went on (open: without it, closed: refused).",
            ["op", "outcome"], registry=r,
        )
        self.confidence = Histogram(
            "semgate_confidence", "Uncertainty policy: the answer's estimated confidence (0-1), by answering model.",
            ["model"], buckets=CONFIDENCE_BUCKETS, registry=r,
        )
        self.upstream_healthy = Gauge(
            "semgate_upstream_healthy", "1 when the replica's last health probe answered, else 0.",
            ["model", "replica"], registry=r, multiprocess_mode="livemostrecent",
        )
        self.breaker_open = Gauge(
            "semgate_upstream_breaker_open", "1 while the replica's circuit breaker is open or half-open "
            "(updated with each health check).", ["model", "replica"], registry=r, multiprocess_mode="livemax",
        )
        self.access_log_dropped = Counter(
            "semgate_access_log_dropped", "Access-log lines dropped because the log's destination did not keep up "
            "(or failed); the log itself says how many.", registry=r,
        )
        self.connections_refused = Counter(
            "semgate_client_connections_refused", "Client connections the HTTP server answered and closed itself, by "
            "reason (the error code: invalid_http, request_timeout, request_header_fields_too_large, "
            "too_many_connections, ...; reclaimed: an idle one closed to make room at the connection cap).",
            ["reason"], registry=r,
        )
        self._children: dict[tuple[Any, ...], Any] = {}
        self._multiprocess = multiprocess()
        self._refreshers: list[Callable[[], None]] = []
        self._refresher: threading.Thread | None = None

    def confidence_estimated(self, model: str, confidence: float) -> None:
        self._child(self.confidence, model).observe(confidence)

    def replica_state(self, model: str, replica: str, healthy: bool, breaker_open: bool) -> None:
        """A health check's view of one replica (called per probe, not per request)."""
        self._child(self.upstream_healthy, model, replica).set(1 if healthy else 0)
        self._child(self.breaker_open, model, replica).set(1 if breaker_open else 0)

    def inter_token_gap(self, model: str, seconds: float) -> None:
        self._child(self.inter_token, model).observe(seconds)

    def cache_lookup(self, model: str, hit: bool) -> None:
        self._child(self.cache_lookups, model, "hit" if hit else "miss").inc()

    def limit_rejected(self, tenant: str, limit: str) -> None:
        self._child(self.limit_rejections, tenant, limit).inc()

    def tenant_usage(self, tenant: str, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        if prompt_tokens:
            self._child(self.tenant_tokens, tenant, "in").inc(prompt_tokens)
        if completion_tokens:
            self._child(self.tenant_tokens, tenant, "out").inc(completion_tokens)
        if cost_usd:
            self._child(self.tenant_cost, tenant).inc(cost_usd)

    def store_error(self, op: str, outcome: str) -> None:
        self._child(self.store_errors, op, outcome).inc()

    def policy_decision(self, stage: str, policy: str, action: str) -> None:
        self._child(self.policy_decisions, stage, policy, action).inc()

    def guard_judged(self, guard: str, seconds: float) -> None:
        self._child(self.guard_latency, guard).observe(seconds)

    def guard_error(self, guard: str, kind: str) -> None:
        self._child(self.guard_errors, guard, kind).inc()

    def observe_dataflow(self, *, sessions: Callable[[], float], running: Callable[[], float],
                         queued: Callable[[], float]) -> None:
        """Gauges read from the executor: nothing to update per call.

        One process: read at scrape time (`set_function`). Multiprocess mode
        (several workers): each worker copies its own values into the shared
        files when it renders /metrics and every DATAFLOW_REFRESH_S from a
        daemon thread, and the scrape sums the live workers' values; another
        worker's part may be up to DATAFLOW_REFRESH_S old.
        """
        for name, doc, read in (
            ("semgate_dataflow_sessions", "Dataflow sessions held by this replica.", sessions),
            ("semgate_dataflow_calls_running", "Dataflow calls in flight.", running),
            ("semgate_dataflow_calls_queued", "Dataflow calls ready but waiting for a slot.", queued),
        ):
            gauge = Gauge(name, doc, registry=self.registry, multiprocess_mode="livesum")
            if not self._multiprocess:
                gauge.set_function(read)
                continue
            self._refreshers.append(lambda gauge=gauge, read=read: gauge.set(read()))
        if self._multiprocess and self._refresher is None:
            self._refresher = threading.Thread(target=self._refresh_forever, daemon=True, name="semgate-metrics")
            self._refresher.start()

    def _refresh(self) -> None:
        for refresh in self._refreshers:
            try:
                refresh()
            except Exception:  # an executor mid-change: the next round reads it again
                continue

    def _refresh_forever(self) -> None:
        while True:  # a daemon thread: it ends with its worker
            time.sleep(DATAFLOW_REFRESH_S)
            self._refresh()

    def dataflow_call(self, status: str) -> None:
        self._child(self.dataflow_calls, status).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def started(self, model: str) -> None:
        self._child(self.in_flight, model).inc()

    def finished(self, model: str, endpoint: str, status: int, seconds: float) -> None:
        code = str(status)
        self._child(self.in_flight, model).dec()
        self._child(self.requests, model, endpoint, code).inc()
        self._child(self.latency, model, code).observe(seconds)

    def first_token(self, model: str, seconds: float) -> None:
        self._child(self.ttft, model).observe(seconds)

    def usage(self, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float = 0.0) -> None:
        if prompt_tokens:
            self._child(self.tokens, model, "in").inc(prompt_tokens)
        if completion_tokens:
            self._child(self.tokens, model, "out").inc(completion_tokens)
        if cost_usd:
            self._child(self.cost, model).inc(cost_usd)

    def decision(self, route: str, model: str, kind: str) -> None:
        self._child(self.decisions, route, model, kind).inc()

    def upstream_error(self, model: str, kind: str) -> None:
        self._child(self.upstream_errors, model, kind).inc()

    def client_disconnect(self, model: str) -> None:
        self._child(self.client_disconnects, model).inc()

    def connection_refused(self, reason: str) -> None:
        self._child(self.connections_refused, reason).inc()

    def render(self) -> bytes:
        if not self._multiprocess:
            return generate_latest(self.registry)
        self._refresh()
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # every worker's files, live and dead (counters keep their counts)
        return generate_latest(registry)
