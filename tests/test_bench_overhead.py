"""Unit tests for benchmarks/overhead.py's pure parts: wrk output parsing,
nginx quoting, the SSE payload, overheads and targets. No nginx, wrk or
gateway is started here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks._load import LoadError, parse_wrk

WRK_OUTPUT = """\
Running 2s test @ http://127.0.0.1:5000/v1/chat/completions
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.31ms    1.02ms  14.20ms   80.12%
    Req/Sec    13.9k   512.33    14.60k    70.00%
  Latency Distribution
     50%    2.17ms
     75%    2.60ms
     90%    3.10ms
     99%  650.00us
  27712 requests in 2.00s, 14.27MB read
  Socket errors: connect 0, read 2, write 0, timeout 0
  Non-2xx or 3xx responses: 5
Requests/sec:  13856.04
Transfer/sec:      7.13MB
"""


def test_parse_wrk_reads_rate_percentiles_and_errors() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.rps == pytest.approx(13856.04)
    assert result.p50_ms == pytest.approx(2.17)
    assert result.p99_ms == pytest.approx(0.65)
    assert result.requests == 27712
    assert result.non_2xx == 5
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 0}
    assert not result.valid


def test_parse_wrk_clean_run_is_valid_and_units_convert() -> None:
    text = WRK_OUTPUT.replace("  Socket errors: connect 0, read 2, write 0, timeout 0\n", "")
    text = text.replace("  Non-2xx or 3xx responses: 5\n", "").replace("650.00us", "1.50s")
    result = parse_wrk(text)
    assert result.valid
    assert result.p99_ms == pytest.approx(1500.0)


def test_parse_wrk_rejects_output_without_latency() -> None:
    with pytest.raises(LoadError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_nginx_quote_and_sse_payload() -> None:
    pytest.importorskip("psutil")
    from benchmarks import _servers

    quoted = _servers._nginx_quote("it's\n\\")
    assert quoted == "it\\'s\\n\\\\"
    with pytest.raises(ValueError):
        _servers._nginx_quote("$host")
    events = _servers.sse_body().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def _cell(rps: float, p50: float) -> dict[str, object]:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p50 * 2, "valid": True}


def test_overheads_and_targets() -> None:
    pytest.importorskip("psutil")
    from benchmarks import _report

    def row(p50: float, ttft: float, rps: float) -> dict[str, Any]:
        return {
            "status": "ok",
            "plain": {"c1": _cell(rps, p50), "c32": _cell(rps, p50)},
            "stream": {"c1": _cell(rps, p50), "c32": _cell(rps, p50), "ttft": {"p50_ms": ttft}},
        }

    rows = {"direct": row(0.05, 0.06, 20000), "semgate": row(0.25, 0.5, 4000)}
    rows["semgate"]["rss_mb"] = {"before": 50.0, "after": 60.0, "after_soak": 70.0}
    _report.add_overheads(rows)
    assert rows["semgate"]["plain"]["c1"]["added_p50_ms"] == pytest.approx(0.2)
    assert rows["semgate"]["stream"]["ttft"]["overhead_ms"] == pytest.approx(0.44)
    targets = _report.evaluate_targets(rows)
    assert targets["semgate_plain_c32_rps"]["met"] is True
    assert targets["semgate_added_p50_c1_ms"]["met"] is True
    assert targets["semgate_rss_max_mb"]["value"] == 70.0
    assert targets["semgate_rss_soak_growth_pct"]["met"] is False  # +16.7%
    assert "semgate" in _report.format_table(rows)


def test_targets_unmeasured_when_semgate_did_not_run() -> None:
    pytest.importorskip("psutil")
    from benchmarks import _report

    targets = _report.evaluate_targets({"semgate": {"status": "failed", "reason": "no gateway"}})
    assert all(item["met"] is None for item in targets.values())


def test_only_always_keeps_the_direct_baseline() -> None:
    pytest.importorskip("psutil")
    from benchmarks.overhead import selected_rows

    assert selected_rows("semgate") == ["direct", "semgate"]
    assert selected_rows(None) == [
        "direct", "nginx", "semgate", "semgate-default", "semgate-tenants", "semgate-tenants-redis", "litellm",
    ]
    assert selected_rows("semgate,semgate-default", [1, 2]) == ["direct", "semgate", "semgate-2w", "semgate-default"]
    assert selected_rows("semgate-tenants") == ["direct", "semgate-tenants"]
    with pytest.raises(SystemExit):
        selected_rows("haproxy")


def test_workers_add_a_semgate_row_per_count_and_their_own_json() -> None:
    pytest.importorskip("psutil")
    from benchmarks.overhead import WORKERS_JSON, parse_args, row_name, selected_rows

    assert selected_rows("semgate", [1, 2]) == ["direct", "semgate", "semgate-2w"]
    assert selected_rows("nginx", [2]) == ["direct", "nginx"]
    assert row_name("semgate-2w") == "semgate (2 workers)" and row_name("semgate") == "semgate"
    args = parse_args(["--workers", "2,1"])
    assert args.workers == [1, 2] and args.json == WORKERS_JSON  # a multi-worker run never overwrites overhead.json
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0"])


def test_cpu_plan_gives_workers_cores_but_keeps_one_for_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psutil")
    from benchmarks import _procs

    monkeypatch.setattr(_procs.os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    assert _procs.plan_cpus().describe() == {"pinned": True, "server_cores": [0], "load_cores": [1, 2, 3]}
    assert _procs.plan_cpus(2).server == {0, 1}
    assert _procs.plan_cpus(8).load == {3}
    monkeypatch.setattr(_procs.os, "sched_getaffinity", lambda _: {0, 1})
    assert _procs.plan_cpus(2).server == {0}


def test_default_row_runs_the_shipped_config_and_the_baseline_turns_the_log_off() -> None:
    pytest.importorskip("psutil")
    from benchmarks import _servers
    from benchmarks._servers import Endpoint

    upstream = Endpoint("direct", 1, 2, None)
    assert "server" not in _servers._semgate_yaml(upstream, log_off=False)  # the default config: access log on
    assert _servers._semgate_yaml(upstream, log_off=True).startswith("server: {access_log: false}")


def test_access_log_lines_are_counted_incrementally_and_only_when_whole(tmp_path: Path) -> None:
    from benchmarks._accesslog import LineCounter

    log = tmp_path / "semgate.log"
    line = b"2026-12-08T03:10:02.123Z INFO semgate.access: rid=a endpoint=chat model=m served=m status=200 ms=0.1\n"
    log.write_bytes(b"2026-12-08T03:10:02.000Z INFO uvicorn.error: Started server process [1]\n" + line * 3)
    counter = LineCounter(log)
    assert counter.count() == 3
    with open(log, "ab") as out:
        out.write(line + line[:20])  # a line the writer has not finished yet
    assert counter.count() == 4
    with open(log, "ab") as out:
        out.write(line[20:])
    assert counter.count() == 5
    assert counter.settled() == 5


def test_completeness_needs_a_line_per_request_or_a_counted_drop() -> None:
    from benchmarks._accesslog import completeness

    assert completeness(1000, 1012, 0.0) == {  # requests still in flight when wrk stopped add lines
        "wrk_requests": 1000, "lines": 1012, "dropped": 0.0, "missing": 0, "complete": True, "accounted": True,
    }
    lost = completeness(1000, 990, 0.0)
    assert (lost["missing"], lost["complete"], lost["accounted"]) == (10, False, False)
    dropped = completeness(1000, 990, 10.0)
    assert (dropped["complete"], dropped["accounted"]) == (False, True)


def test_access_log_cost_target_compares_the_default_row_with_the_log_off_row() -> None:
    pytest.importorskip("psutil")
    from benchmarks.overhead import all_targets

    def row(rps: float, **extra: Any) -> dict[str, Any]:
        return {"status": "ok", "plain": {"c32": _cell(rps, 1.0)}, **extra}

    check = {"missing": 0}
    targets = all_targets({"semgate": row(9000), "semgate-default": row(8300, access_log=check)})
    assert targets["semgate_access_log_cost_pct"]["value"] == pytest.approx(7.8)
    assert targets["semgate_access_log_cost_pct"]["met"] is True
    assert targets["semgate_access_log_missing_lines"]["met"] is True
    targets = all_targets({"semgate": row(9100), "semgate-default": row(5600, access_log={"missing": 3})})
    assert targets["semgate_access_log_cost_pct"]["met"] is False  # today's 38 %
    assert targets["semgate_access_log_missing_lines"]["met"] is False
    assert "semgate_access_log_cost_pct" not in all_targets({"semgate": row(9000)})  # the row did not run
    failed = all_targets({"semgate": row(9000), "semgate-default": {"status": "failed"}})
    assert failed["semgate_access_log_cost_pct"]["met"] is None
