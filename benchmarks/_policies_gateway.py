"""Gateways for benchmarks/policies.py: `semgate serve` with a policy profile,
pinned like benchmarks/overhead.py's semgate row, plus the small things the
parts share (waiting for a quiet machine, reading the gateway's metrics).
"""

from __future__ import annotations

import http.client
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks import _servers
from benchmarks._procs import Service, free_port
from benchmarks._servers import Endpoint

# Input policies per gateway variant of the RPS part.
GUARD_POLICY: dict[str, Any] = {"kind": "guard", "guard": "local"}
PII_POLICY: dict[str, Any] = {"kind": "pii", "action": "redact"}
EMBEDDED_GUARDS: dict[str, Any] = {"local": {"type": "embedded"}}


def log(message: str) -> None:
    print(f"[policies] {message}", file=sys.stderr, flush=True)


def policies_section(inputs: list[dict[str, Any]], guards: dict[str, Any] | None = None) -> dict[str, Any]:
    """`policies:` with one profile `bench` holding `inputs`, applied to every request."""
    return {"guards": guards or {}, "profiles": {"bench": {"input": inputs}}, "default": "bench"}


def instant_upstream_config(upstream: Endpoint, policies: dict[str, Any] | None) -> dict[str, Any]:
    """overhead.py's semgate config (models `bench`, `bench-stream` on the instant nginx), plus `policies`."""
    config = yaml.safe_load(_servers._semgate_yaml(upstream, log_off=True))
    if policies is not None:
        config["policies"] = policies
    return config


def start_gateway(tmp: Path, name: str, config: dict[str, Any], cores: frozenset[int],
                  ready_path: str = "/ready", timeout: float = 180.0) -> Endpoint:
    """`semgate serve` with `config` on `cores` (taskset), once `ready_path` answers 200.

    The caller stops it (`endpoint.service`, a context manager). The embedded
    guard loads its model at start-up, hence the generous timeout.
    """
    path = tmp / f"semgate-{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    argv = [*_servers.semgate_command(), "serve", "--config", str(path), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning"]
    service = Service(f"semgate-{name}", argv, tmp / f"semgate-{name}.log", cores, cwd=_servers.ROOT).start()
    service.wait_http(port, ready_path, timeout=timeout)
    return Endpoint(name, port, port, service)


def metrics_text(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` (0 when none)."""
    total = 0.0
    for match in re.finditer(rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? ([0-9.eE+-]+|NaN)$", text, re.MULTILINE):
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[1] or ""))
        if all(found.get(k) == v for k, v in labels.items()) and match[2] != "NaN":
            total += float(match[2])
    return total


def guard_stats(port: int, guard: str) -> dict[str, Any]:
    """How often `guard` judged in this gateway and its mean time (semgate_guard_duration_seconds)."""
    text = metrics_text(port)
    count = metric_sum(text, "semgate_guard_duration_seconds_count", guard=guard)
    seconds = metric_sum(text, "semgate_guard_duration_seconds_sum", guard=guard)
    decisions = {action: int(metric_sum(text, "semgate_policy_decisions_total", policy=f"guard.{guard}",
                                        action=action)) for action in ("allow", "block", "error")}
    return {"judged": int(count), "mean_ms": round(1000 * seconds / count, 3) if count else None,
            "decisions": decisions,
            "errors": int(metric_sum(text, "semgate_guard_errors_total", guard=guard))}


def wait_for_quiet(max_wait_s: float, poll_s: float = 30.0, below: float = 1.0) -> dict[str, Any]:
    """Wait (at most `max_wait_s`) for the 1-minute load average to drop below `below`; say how it went."""
    started = time.monotonic()
    load = os.getloadavg()[0]
    while load >= below and time.monotonic() - started < max_wait_s:
        log(f"load average {load:.2f} >= {below:g}: waiting for a quiet machine "
            f"({time.monotonic() - started:.0f}/{max_wait_s:.0f} s)")
        time.sleep(min(poll_s, max(0.0, max_wait_s - (time.monotonic() - started))))
        load = os.getloadavg()[0]
    return {"loadavg_at_start": [round(x, 2) for x in os.getloadavg()], "waited_s": round(time.monotonic() - started, 1),
            "quiet": load < below, "quiet_below": below}
