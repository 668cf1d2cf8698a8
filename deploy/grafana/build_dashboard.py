"""Writes deploy/grafana/dashboards/semgate.json, the Semgate Grafana dashboard.

    python deploy/grafana/build_dashboard.py

The panels are listed here rather than edited as JSON: a query changes in one
place and the layout (grid positions, ids) is computed. tests/test_deploy.py
checks the result against the metrics the gateway exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards" / "semgate.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
# Series selectors: every gateway query is limited to the chosen jobs and instances.
SEL = 'job=~"$job", instance=~"$instance"'
MSEL = SEL + ', model=~"$model"'
RI = "$__rate_interval"


def rate(metric: str, by: str, sel: str = MSEL, extra: str = "") -> str:
    inner = f"{sel}, {extra}" if extra else sel
    return f"sum by ({by}) (rate({metric}{{{inner}}}[{RI}]))"


def quantile(q: float, histogram: str, by: str = "", sel: str = MSEL) -> str:
    labels = f"le, {by}" if by else "le"
    return f"histogram_quantile({q}, sum by ({labels}) (rate({histogram}_bucket{{{sel}}}[{RI}])))"


def target(expr: str, legend: str = "", ref: str = "A", **extra: Any) -> dict[str, Any]:
    out = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref, "range": True}
    out.update(extra)
    return out


def targets(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def timeseries(title: str, tgts: list[dict[str, Any]], unit: str = "short", *, w: int = 8, h: int = 8,
               description: str = "", stack: bool = False, min0: bool = True) -> dict[str, Any]:
    custom: dict[str, Any] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                              "spanNulls": False}
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    defaults: dict[str, Any] = {"unit": unit, "custom": custom}
    if min0:
        defaults["min"] = 0
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": DS, "targets": tgts,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                               "calcs": ["mean", "max", "lastNotNull"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "_size": (w, h),
    }


def stat(title: str, expr: str, unit: str = "short", *, description: str = "", decimals: int | None = None,
         thresholds: list[tuple[float | None, str]] | None = None) -> dict[str, Any]:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    defaults: dict[str, Any] = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps},
                                "color": {"mode": "thresholds"}}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat", "title": title, "description": description, "datasource": DS,
        "targets": [target(expr, instant=False)],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "justifyMode": "auto", "textMode": "auto"},
        "_size": (4, 4),
    }


def heatmap(title: str, expr: str, *, description: str = "", w: int = 8, h: int = 8) -> dict[str, Any]:
    return {
        "type": "heatmap", "title": title, "description": description, "datasource": DS,
        "targets": [target(expr, "{{le}}", format="heatmap")],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {"calculate": False, "yAxis": {"axisPlacement": "left"}, "cellGap": 1,
                    "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
                    "tooltip": {"mode": "single", "yHistogram": True}, "legend": {"show": True}},
        "_size": (w, h),
    }


def row(title: str) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


def p50_95_99(histogram: str, sel: str = MSEL) -> list[dict[str, Any]]:
    return targets(*((quantile(q, histogram, sel=sel), f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)))


PANELS: list[dict[str, Any]] = [
    row("Overview"),
    stat("Requests / s", f"sum(rate(semgate_requests_total{{{MSEL}}}[{RI}]))", "reqps"),
    stat("Errors (5xx)", f'sum(rate(semgate_requests_total{{{MSEL}, status=~"5.."}}[{RI}])) / '
         f"sum(rate(semgate_requests_total{{{MSEL}}}[{RI}]))", "percentunit",
         thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")]),
    stat("Latency p95", quantile(0.95, "semgate_request_duration_seconds"), "s"),
    stat("In flight", f"sum(semgate_requests_in_flight{{{MSEL}}})"),
    stat("Spend / hour", f"sum(rate(semgate_cost_usd_total{{{MSEL}}}[{RI}])) * 3600", "currencyUSD", decimals=2),
    stat("Healthy upstream replicas",
         f"sum(min by (model, replica) (semgate_upstream_healthy{{{MSEL}}}))",
         description="Replicas whose last health probe answered, as every gateway replica sees them.",
         thresholds=[(None, "red"), (1, "green")]),

    row("Traffic"),
    timeseries("Requests / s by model", targets((rate("semgate_requests_total", "model"), "{{model}}")), "reqps",
               stack=True),
    timeseries("Requests / s by status", targets((rate("semgate_requests_total", "status"), "{{status}}")),
               "reqps", stack=True, description="499: the client went away before the answer."),
    timeseries("Requests / s by endpoint", targets((rate("semgate_requests_total", "endpoint"), "{{endpoint}}")),
               "reqps", stack=True),
    timeseries("In flight by model", targets((f"sum by (model) (semgate_requests_in_flight{{{MSEL}}})",
                                              "{{model}}")), w=12),
    timeseries("Client disconnects / s", targets((rate("semgate_client_disconnects_total", "model"), "{{model}}")),
               "reqps", w=12, description="Requests abandoned by their client; the upstream request was cancelled."),

    row("Latency"),
    timeseries("Request duration", p50_95_99("semgate_request_duration_seconds"), "s",
               description="Request to last byte of the reply, all models."),
    timeseries("Request duration p95 by model",
               targets((quantile(0.95, "semgate_request_duration_seconds", "model"), "{{model}}")), "s"),
    timeseries("Request duration p95 by status",
               targets((quantile(0.95, "semgate_request_duration_seconds", "status"), "{{status}}")), "s"),
    timeseries("Time to first token", p50_95_99("semgate_time_to_first_token_seconds"), "s",
               description="Streaming requests: request to the first chunk.", w=12),
    timeseries("Inter-token latency", p50_95_99("semgate_inter_token_latency_seconds"), "s",
               description="Streaming: time between consecutive chunks sent to the client.", w=12),

    row("Tokens and cost"),
    timeseries("Tokens / s by model", targets((rate("semgate_tokens_total", "model, direction"),
                                               "{{model}} {{direction}}")), stack=True, w=12,
               description="From the engines' usage: in = prompt, out = completion."),
    timeseries("Spend (USD / hour) by model",
               targets((f"sum by (model) (rate(semgate_cost_usd_total{{{MSEL}}}[{RI}])) * 3600", "{{model}}")),
               "currencyUSD", stack=True, w=12),
    timeseries("Spend (USD / hour) by tenant",
               targets((f"sum by (tenant) (rate(semgate_tenant_cost_usd_total{{{SEL}}}[{RI}])) * 3600",
                        "{{tenant}}")), "currencyUSD", stack=True, w=12),
    timeseries("Tokens / s by tenant", targets((rate("semgate_tenant_tokens_total", "tenant, direction", SEL),
                                                "{{tenant}} {{direction}}")), stack=True, w=12),

    row("Routing and policies"),
    timeseries("Route decisions / s", targets((rate("semgate_route_decisions_total", "route, model, kind", SEL),
                                               "{{route}} → {{model}} ({{kind}})")), "reqps", stack=True),
    timeseries("Policy decisions / s", targets((rate("semgate_policy_decisions_total", "stage, policy, action", SEL),
                                                "{{stage}} {{policy}}: {{action}}")), "reqps", stack=True),
    timeseries("Confidence p10 / p50 by model",
               targets((quantile(0.1, "semgate_confidence", "model"), "p10 {{model}}"),
                       (quantile(0.5, "semgate_confidence", "model"), "p50 {{model}}")), "percentunit",
               description="Uncertainty policy: the answers' estimated confidence (0–1)."),
    timeseries("Guard latency p50 / p95",
               targets((quantile(0.5, "semgate_guard_duration_seconds", "guard", SEL), "p50 {{guard}}"),
                       (quantile(0.95, "semgate_guard_duration_seconds", "guard", SEL), "p95 {{guard}}")), "s"),
    timeseries("Guard errors / s", targets((rate("semgate_guard_errors_total", "guard, kind", SEL),
                                            "{{guard}} {{kind}}")), stack=True,
               description="Guards that could not judge (error, timeout, garbage)."),
    heatmap("Confidence distribution",
            f"sum by (le) (increase(semgate_confidence_bucket{{{MSEL}}}[{RI}]))"),

    row("Upstreams"),
    timeseries("Healthy replicas by model",
               targets((f"sum by (model) (min by (model, replica) (semgate_upstream_healthy{{{MSEL}}}))",
                        "{{model}}")),
               description="A replica counts when every gateway replica's last probe of it answered."),
    timeseries("Open circuit breakers",
               targets((f"max by (model, replica) (semgate_upstream_breaker_open{{{MSEL}}})",
                        "{{model}} {{replica}}")),
               description="1 while a replica's breaker is open or half-open on some gateway replica."),
    timeseries("Upstream errors / s", targets((rate("semgate_upstream_errors_total", "model, kind"),
                                               "{{model}} {{kind}}")), stack=True,
               description="Failed upstream attempts (retried on another replica when there is one)."),
    timeseries("Engines: requests running and waiting",
               targets(('sum by (engine, instance) (vllm:num_requests_running{job="vllm"})',
                        "running {{engine}} {{instance}}"),
                       ('sum by (engine, instance) (vllm:num_requests_waiting{job="vllm"})',
                        "waiting {{engine}} {{instance}}")), w=12,
               description="The vLLM engines' own metrics (job vllm)."),
    timeseries("Engines: KV-cache use",
               targets(('max by (engine, instance) (vllm:kv_cache_usage_perc{job="vllm"} '
                        'or vllm:gpu_cache_usage_perc{job="vllm"})', "{{engine}} {{instance}}")),
               "percentunit", w=12, description="vLLM < 0.8 calls it vllm:gpu_cache_usage_perc."),

    row("Tenants, limits, cache and store"),
    timeseries("Limit rejections / s", targets((rate("semgate_limit_rejections_total", "tenant, limit", SEL),
                                                "{{tenant}} {{limit}}")), stack=True,
               description="Requests refused by a tenant limit (rpm, tpm, budget, model)."),
    timeseries("Response cache hit ratio",
               targets((f'sum by (model) (rate(semgate_cache_lookups_total{{{MSEL}, result="hit"}}[{RI}])) / '
                        f"sum by (model) (rate(semgate_cache_lookups_total{{{MSEL}}}[{RI}]))", "{{model}}")),
               "percentunit", description="Routes and models that opted in to the exact-match cache."),
    timeseries("Store errors / s", targets((rate("semgate_store_errors_total", "op, outcome", SEL),
                                            "{{op}} ({{outcome}})")), stack=True,
               description="Store (Redis) operations that failed or were skipped; open: the request went on "
                           "without it, closed: it was refused."),
    timeseries("Client connections refused / s",
               targets((f"sum by (reason) (rate(semgate_client_connections_refused_total{{{SEL}}}[{RI}]))",
                        "{{reason}}")), stack=True,
               description="Connections the HTTP server answered and closed itself: malformed HTTP, slow heads or "
                           "bodies (408), oversized heads (431), the connection cap (503); reclaimed: idle ones "
                           "closed to make room at the cap."),
    timeseries("Access-log lines dropped / s",
               targets((f"sum by (instance) (rate(semgate_access_log_dropped_total{{{SEL}}}[{RI}]))", "{{instance}}")),
               description="Lines the log's destination could not take in time (a blocked stderr, a full disk); "
                           "the log says how many too. Should be 0."),

    row("Dataflow"),
    timeseries("Dataflow calls ended / s", targets((rate("semgate_dataflow_calls_total", "status", SEL),
                                                    "{{status}}")), stack=True),
    timeseries("Sessions, calls running and queued",
               targets((f"sum(semgate_dataflow_sessions{{{SEL}}})", "sessions"),
                       (f"sum(semgate_dataflow_calls_running{{{SEL}}})", "running"),
                       (f"sum(semgate_dataflow_calls_queued{{{SEL}}})", "queued"))),
    timeseries("Graph size (calls per graph)",
               targets((quantile(0.5, "semgate_dataflow_graph_calls", sel=SEL), "p50"),
                       (quantile(0.95, "semgate_dataflow_graph_calls", sel=SEL), "p95"),
                       (f"sum(rate(semgate_dataflow_graph_calls_count{{{SEL}}}[{RI}]))", "graphs / s")),
               description="Calls per submitted graph: the work the gateway took over from the client."),
    timeseries("Dataflow call duration p50 / p95",
               targets((quantile(0.5, "semgate_dataflow_call_duration_seconds", "status", SEL), "p50 {{status}}"),
                       (quantile(0.95, "semgate_dataflow_call_duration_seconds", "status", SEL), "p95 {{status}}")),
               "s"),
    timeseries("Dataflow queueing p50 / p95",
               targets((quantile(0.5, "semgate_dataflow_call_queue_seconds", sel=SEL), "p50"),
                       (quantile(0.95, "semgate_dataflow_call_queue_seconds", sel=SEL), "p95")), "s",
               description="From ready (inputs there, wanted) to launched: the scheduler under load."),
    timeseries("Forwarded session changes / s",
               targets((rate("semgate_dataflow_forwarded_writes_total", "outcome", SEL), "{{outcome}}")), stack=True,
               description="Changes a replica forwarded to the replica running their session "
                           "(unavailable: that replica is gone)."),
]


def layout(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Left to right, wrapping at 24 columns; a row starts a new line."""
    out, x, y, line_h = [], 0, 0, 0
    for number, panel in enumerate(panels, start=1):
        w, h = panel.pop("_size")
        if panel["type"] == "row" or x + w > 24:
            x, y, line_h = 0, y + line_h, 0
        panel["id"] = number
        panel["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        out.append(panel)
        x, line_h = x + w, max(line_h, h)
        if panel["type"] == "row":
            x, y, line_h = 0, y + h, 0
    return out


def query_variable(name: str, label: str, query: str, *, include_all: bool = True) -> dict[str, Any]:
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "query": {"query": query, "refId": f"{name}-variable"}, "definition": query,
        "refresh": 2, "sort": 1, "multi": include_all, "includeAll": include_all,
        "allValue": ".*" if include_all else None,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if include_all else {},
        "hide": 0, "regex": "", "skipUrlSync": False, "options": [],
    }


def dashboard() -> dict[str, Any]:
    variables = [
        {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": "", "skipUrlSync": False, "options": []},
        query_variable("job", "Job", "label_values(semgate_dataflow_sessions, job)"),
        query_variable("instance", "Replica", 'label_values(semgate_dataflow_sessions{job=~"$job"}, instance)'),
        query_variable("model", "Model", 'label_values(semgate_requests_total{job=~"$job"}, model)'),
    ]
    return {
        "uid": "semgate",
        "title": "Semgate",
        "description": "Semgate gateway: traffic, latency, tokens and cost, routing, policies, upstreams, "
                       "tenants, store and dataflow. Generated by deploy/grafana/build_dashboard.py.",
        "tags": ["semgate", "llm", "gateway"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "templating": {"list": variables},
        "panels": layout([json.loads(json.dumps(p)) for p in PANELS]),
    }


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
