"""The `semgate-default` row's access-log checks for benchmarks/overhead.py.

The default config writes one access-log line per request to stderr, which
the benchmark sends to the row's log file. Around each timed wrk point the
lines are counted and compared with the requests wrk reported: a fast log
that loses lines would be no fix. Lines may exceed wrk's count (requests
still in flight when wrk stopped are answered and logged, but wrk does not
count them); fewer lines must be explained by the dropped counter.
"""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path
from typing import Any

ACCESS_MARK = b" INFO semgate.access: "
DROPPED = re.compile(rb"^semgate_access_log_dropped_total ([0-9.e+]+)$", re.MULTILINE)
SETTLE_S = 0.3  # the writer flushes every 50 ms: a count unchanged this long is final
SETTLE_MAX_S = 10.0
ROW = "semgate-default"
BASELINE = "semgate"  # the same gateway with `access_log: false`
COST_TARGET_PCT = 10.0


class LineCounter:
    """Access-log lines in a growing log file, read incrementally (whole lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self) -> int:
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            data = log.read()
        end = data.rfind(b"\n") + 1
        self.lines += data.count(ACCESS_MARK, 0, end)
        self.offset += end
        return self.lines

    def settled(self) -> int:
        """The count once the gateway has written what it holds: unchanged for SETTLE_S."""
        last, deadline = self.count(), time.monotonic() + SETTLE_MAX_S
        while time.monotonic() < deadline:
            time.sleep(SETTLE_S)
            now = self.count()
            if now == last:
                break
            last = now
        return last


def dropped_lines(port: int) -> float | None:
    """semgate_access_log_dropped_total from the gateway's /metrics; None if unreadable."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            found = DROPPED.search(reply.read())
    except OSError:
        return None
    return float(found.group(1)) if found else None


def completeness(requests: int, lines: int, dropped: float | None) -> dict[str, Any]:
    """Lines vs requests over the timed points. `complete`: a line for every request wrk counted."""
    return {
        "wrk_requests": requests,
        "lines": lines,
        "dropped": dropped,
        "missing": max(0, requests - lines),
        "complete": lines >= requests,
        "accounted": dropped is not None and lines + dropped >= requests,
    }


def _rps(row: dict[str, Any]) -> float | None:
    cell = (row.get("plain") or {}).get("c32") or {}
    return cell.get("rps") if row.get("status") == "ok" else None


def _cpu(row: dict[str, Any]) -> float | None:
    cell = (row.get("plain") or {}).get("c32") or {}
    return cell.get("cpu_us_per_request") if row.get("status") == "ok" else None


def targets(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The default access log's cost in RPS vs the log-off row, and whether it kept every line;
    none when the default-config row was not run (`--only semgate`)."""
    if ROW not in rows:
        return {}
    on, off = _rps(rows.get(ROW, {})), _rps(rows.get(BASELINE, {}))
    cost = None if on is None or not off else round(100 * (off - on) / off, 1)
    cpu_on, cpu_off = _cpu(rows.get(ROW, {})), _cpu(rows.get(BASELINE, {}))
    cpu_cost = None if cpu_on is None or not cpu_off else round(100 * (cpu_on - cpu_off) / cpu_off, 1)
    check = rows.get(ROW, {}).get("access_log") or {}
    missing = check.get("missing") if rows.get(ROW, {}).get("status") == "ok" else None
    return {
        "semgate_access_log_cost_pct": {
            "what": "RPS lost to the default access log, non-streaming c=32 (semgate-default vs semgate), %",
            "target": f"<= {COST_TARGET_PCT:g}", "value": cost, "met": None if cost is None else cost <= COST_TARGET_PCT,
            # The same cost as the gateway's CPU per request: steadier than RPS on a shared machine.
            "cpu_per_request_pct": cpu_cost,
        },
        "semgate_access_log_missing_lines": {
            "what": "requests wrk counted without an access-log line (timed points of semgate-default)",
            "target": "<= 0", "value": missing, "met": None if missing is None else missing <= 0,
        },
    }
