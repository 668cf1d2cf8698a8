"""Gateway overhead against an upstream that answers instantly.

    python -m benchmarks.overhead            # full run (10 s per point, 100k soak)
    python -m benchmarks.overhead --quick    # smoke test, about two minutes
    python -m benchmarks.overhead --only semgate --workers 1,2   # + `semgate-2w`: serve --workers 2

Rows: `direct` (wrk straight to the instant nginx upstream), `nginx` (an nginx
proxy_pass in front of it), `semgate` (one gateway process, access log off),
`semgate-default` (the same with the default config: access log on, its lines
counted against wrk's requests), `semgate-tenants`
(the same with authentication on: a tenant key, RPM, TPM and a daily budget
checked and charged on every request, in-memory store) and `litellm` (LiteLLM
proxy, only where .venv-litellm exists). For each: non-streaming and
streaming at concurrency 1 and 32 with wrk, streaming time-to-first-token with
a raw-socket client, and the server's RSS before, after and after a soak.
`--workers 1,2` adds a row `semgate-2w` (`semgate serve --workers 2`; RSS is
the parent and its workers together), pinned to as many server cores as the
largest worker count, leaving at least one core for wrk and the upstream
(`--shared-cores`: no split, everything on every core, the fair comparison of
1 and 2 workers on a 2-core machine); such runs write
results/overhead-workers.json unless --json says otherwise.
See benchmarks/README.md. Exit status: 0 when every selected row ran (targets
missed or not), 1 when a row failed to run or answered errors under load.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _accesslog, _report, _servers
from benchmarks._load import (
    LoadError,
    check_completion,
    measure_ttft,
    run_wrk,
    soak,
    upstream_requests,
)
from benchmarks._procs import CpuPlan, ServiceError, cpu_s, pin_tree, plan_cpus, rss_mb
from benchmarks._servers import Endpoint

ROWS = ("direct", "nginx", "semgate", "semgate-default", "semgate-tenants", "semgate-tenants-redis", "litellm")
ROW_NAMES = {"direct": "direct", "nginx": "nginx proxy_pass", "semgate": "semgate",
             "semgate-default": "semgate, default config (access log on)",
             "semgate-tenants": "semgate + tenant key, limits, budget",
             "semgate-tenants-redis": "semgate + tenants, limits in Redis", "litellm": "litellm"}
TENANT_ROWS = ("semgate-tenants", "semgate-tenants-redis")
SINGLE_ROWS = (*TENANT_ROWS, _accesslog.ROW)  # one gateway process; `semgate-Nw` rows have N
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "overhead.json"
WORKERS_JSON = Path(__file__).resolve().parent / "results" / "overhead-workers.json"


@dataclass(frozen=True)
class Settings:
    duration_s: float
    warmup_s: float
    ttft_requests: int
    soak_requests: int
    soak_max_s: float


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs and a small soak (smoke test)")
    parser.add_argument("--duration", type=float, help="seconds per wrk point (default 10, quick 2)")
    parser.add_argument("--soak", type=int, help="requests in the soak (default 100000, quick 2000; 0: none)")
    parser.add_argument("--soak-max-s", type=float, help="time cap on each row's soak (default 300, quick 60)")
    parser.add_argument("--ttft-requests", type=int, help="streaming requests timed for TTFT (default 2000, quick 200)")
    parser.add_argument("--only", help=f"comma-separated rows out of {','.join(ROWS)} (direct is always run)")
    parser.add_argument("--workers", type=worker_counts, default=[1],
                        help="comma-separated gateway worker counts, e.g. 1,2: a row per count "
                             "(`semgate`, `semgate-2w`, ...; default 1)")
    parser.add_argument("--json", type=Path, help=f"where to write results (default {DEFAULT_JSON}; "
                        f"{WORKERS_JSON} when a worker count is above 1)")
    parser.add_argument("--shared-cores", action="store_true",
                        help="no split: servers, wrk and the upstream share every core (compares worker "
                             "counts on a machine with too few cores to give each its own)")
    parser.add_argument("--note", help="free text stored in the JSON (e.g. why the numbers may be off)")
    args = parser.parse_args(argv)
    if args.json is None:
        args.json = WORKERS_JSON if max(args.workers) > 1 else DEFAULT_JSON
    return args


def worker_counts(text: str) -> list[int]:
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of worker counts: {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be at least 1: {text!r}")
    return counts


def row_key(workers: int) -> str:
    """The semgate row's name for a worker count: `semgate` is the single process."""
    return "semgate" if workers == 1 else f"semgate-{workers}w"


def row_name(key: str) -> str:
    if key in ROW_NAMES:
        return ROW_NAMES[key]
    return f"semgate ({key.removeprefix('semgate-').removesuffix('w')} workers)"


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    return Settings(
        duration_s=args.duration or (2.0 if quick else 10.0),
        warmup_s=1.0 if quick else 2.0,
        ttft_requests=args.ttft_requests or (200 if quick else 2000),
        soak_requests=args.soak if args.soak is not None else (2000 if quick else 100_000),
        soak_max_s=args.soak_max_s or (60.0 if quick else 300.0),
    )


def selected_rows(only: str | None, workers: list[int] | None = None) -> list[str]:
    """The rows to run in order; `semgate` becomes one row per worker count."""
    if not only:
        rows = list(ROWS)
    else:
        wanted = {name.strip() for name in only.split(",") if name.strip()}
        unknown = wanted - set(ROWS)
        if unknown:
            raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))} (choose from {', '.join(ROWS)})")
        rows = ["direct", *[row for row in ROWS if row in wanted and row != "direct"]]
    out: list[str] = []
    for row in rows:
        out += [row_key(n) for n in (workers or [1])] if row == "semgate" else [row]
    return out


def log(message: str) -> None:
    print(f"[overhead] {message}", file=sys.stderr, flush=True)


# --- one row -------------------------------------------------------------


def _check(endpoint: Endpoint) -> None:
    for stream in (False, True):
        problem = check_completion(endpoint.url(stream), stream)
        if problem:
            raise ServiceError(f"{endpoint.row} does not return the completion ({'stream' if stream else 'plain'}): {problem}")


def _counted_run(url: str, script: str, conc: int, settings: Settings, status_port: int) -> dict[str, Any]:
    """One timed wrk point, plus how many requests reached the upstream."""
    before = upstream_requests(status_port)
    result = run_wrk(url, script, conc, settings.duration_s)
    reached = upstream_requests(status_port) - before - 1  # less the /status call itself
    ratio = round(reached / max(1, result.requests), 3)
    return {**result.as_dict(), "upstream_requests": reached, "upstream_ratio": ratio}


def _wrk_points(
    endpoint: Endpoint, settings: Settings, status_port: int, lines: _accesslog.LineCounter | None = None,
) -> dict[str, Any]:
    """The four timed points; with `lines`, each also counts its access-log lines."""
    out: dict[str, Any] = {}
    for stream in (False, True):
        mode, script, url = ("stream" if stream else "plain"), ("post-stream.lua" if stream else "post.lua"), endpoint.url(stream)
        run_wrk(url, script, 32, settings.warmup_s)  # warm-up, not recorded
        out[mode] = {}
        for conc in (1, 32):
            log(f"{endpoint.row}: {mode} c={conc} for {settings.duration_s:g}s")
            before = lines.settled() if lines else 0
            cpu_before = cpu_s(endpoint.service.pid) if endpoint.service else 0.0
            cell = out[mode][f"c{conc}"] = _counted_run(url, script, conc, settings, status_port)
            if endpoint.service:  # the server's own CPU per request (wrk's requests; a few in flight at the end)
                cell["cpu_us_per_request"] = round(1e6 * (cpu_s(endpoint.service.pid) - cpu_before)
                                                   / max(1, cell["requests"]), 1)
            if lines:
                cell["access_log_lines"] = lines.settled() - before
            if endpoint.service:
                endpoint.service.check_alive()
    return out


def _access_log_check(endpoint: Endpoint, row: dict[str, Any]) -> dict[str, Any]:
    """Lines vs requests over the timed points, and the gateway's own count of dropped lines."""
    cells = [row[m][c] for m in _report.MODES for c in _report.CONCURRENCIES]
    check = _accesslog.completeness(sum(c["requests"] for c in cells), sum(c["access_log_lines"] for c in cells),
                                    _accesslog.dropped_lines(endpoint.plain_port))
    log(f"{endpoint.row}: access log {check['lines']} lines for {check['wrk_requests']} requests, "
        f"{check['dropped']} dropped")
    return check


def _soak(endpoint: Endpoint, settings: Settings, status_port: int) -> dict[str, Any]:
    """Half the soak requests non-streaming, half streaming, at c=32."""
    half = max(1, settings.soak_requests // 2)
    log(f"{endpoint.row}: soak {settings.soak_requests} requests (cap {settings.soak_max_s:g}s)")
    counter = functools.partial(upstream_requests, status_port)
    runs = [soak(endpoint.url(stream), stream, half, settings.soak_max_s / 2, counter) for stream in (False, True)]
    return {
        "requests": sum(r.requests for r in runs),
        "valid": all(r.valid for r in runs),
        "runs": [r.as_dict() for r in runs],
    }


def measure(
    endpoint: Endpoint, upstream: Endpoint, settings: Settings, with_rss: bool, count_lines: bool = False,
) -> dict[str, Any]:
    _check(endpoint)
    service = endpoint.service if with_rss else None
    rss: dict[str, Any] = {"before": rss_mb(service.pid)} if service else {}
    row: dict[str, Any] = {"status": "ok", "url": endpoint.url(False), "stream_url": endpoint.url(True)}
    lines = _accesslog.LineCounter(endpoint.service.log_path) if count_lines and endpoint.service else None
    row.update(_wrk_points(endpoint, settings, upstream.plain_port, lines))
    if lines:
        row["access_log"] = _access_log_check(endpoint, row)
    log(f"{endpoint.row}: TTFT over {settings.ttft_requests} streaming requests")
    row["stream"]["ttft"] = measure_ttft(endpoint.url(True), settings.ttft_requests)
    if service:
        rss["after"] = rss_mb(service.pid)
        if settings.soak_requests > 0:
            rss["soak"] = _soak(endpoint, settings, upstream.plain_port)
            rss["after_soak"] = rss_mb(service.pid)
        row["rss_mb"] = rss
        service.check_alive()
    _check(endpoint)  # still correct after the load
    if not _all_valid(row):
        row["status"] = "invalid"
        row["reason"] = ("errors (non-2xx or socket errors) under load, requests that never reached the upstream, "
                         "or requests without an access-log line")
    return row


def _all_valid(row: dict[str, Any]) -> bool:
    cells = [row[m][c] for m in _report.MODES for c in _report.CONCURRENCIES]
    soak_ok = (row.get("rss_mb") or {}).get("soak", {}).get("valid", True)
    # Each timed request must reach the upstream (no cache, no short-circuit);
    # a few extra are requests still in flight when wrk stopped counting.
    reached = all(cell["upstream_ratio"] >= 0.99 for cell in cells)
    logged = (row.get("access_log") or {}).get("accounted", True)  # a missing line the drop counter does not explain
    return all(cell["valid"] for cell in cells) and soak_ok and reached and logged


def run_direct(upstream: Endpoint, settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    """The upstream itself is the server under test: give it the server cores."""
    assert upstream.service is not None
    pin_tree(upstream.service.pid, cpus.server)
    try:
        return measure(upstream, upstream, settings, with_rss=False)
    finally:
        pin_tree(upstream.service.pid, cpus.load)


Starter = Callable[[Path, CpuPlan, Endpoint], Endpoint]
STARTERS: dict[str, tuple[Callable[[], str | None], Starter]] = {
    "nginx": (lambda: None, _servers.start_nginx_proxy),
    "semgate": (_servers.semgate_available, _servers.start_semgate),
    "litellm": (_servers.litellm_available, _servers.start_litellm),
}


def run_proxy(name: str, tmp: Path, cpus: CpuPlan, upstream: Endpoint, settings: Settings) -> dict[str, Any]:
    workers, tenants = 1, name in TENANT_ROWS
    if name.startswith("semgate-") and name not in SINGLE_ROWS:
        workers = int(name.removeprefix("semgate-").removesuffix("w"))
    available, start = STARTERS["semgate" if name.startswith("semgate") else name]
    why_not = available()
    if why_not:
        return {"status": "failed" if name.startswith("semgate") else "skipped", "reason": why_not}
    log(f"starting {row_name(name)}")
    with contextlib.ExitStack() as stack:
        redis_url = None
        if name == "semgate-tenants-redis":
            redis, redis_url = _servers.start_redis(tmp, cpus)
            stack.enter_context(redis)
        if name.startswith("semgate"):
            endpoint = _servers.start_semgate(tmp, cpus, upstream, workers, tenants, redis_url,
                                              access_log=name == _accesslog.ROW)
        else:
            endpoint = start(tmp, cpus, upstream)
        assert endpoint.service is not None
        return _measure_proxy(name, endpoint, upstream, settings, cpus, workers)


def _measure_proxy(
    name: str, endpoint: Endpoint, upstream: Endpoint, settings: Settings, cpus: CpuPlan, workers: int,
) -> dict[str, Any]:
    assert endpoint.service is not None
    with endpoint.service:
        row = measure(endpoint, upstream, settings, with_rss=True, count_lines=name == _accesslog.ROW)
        row["pid_cores"] = sorted(cpus.server)
        if name.startswith("semgate"):
            row["workers"] = workers
        row["log_tail"] = endpoint.service.log_tail(10)
    return row


def run_row(name: str, tmp: Path, cpus: CpuPlan, upstream: Endpoint, settings: Settings) -> dict[str, Any]:
    started = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        if name == "direct":
            row = run_direct(upstream, settings, cpus)
        else:
            row = run_proxy(name, tmp, cpus, upstream, settings)
    except (ServiceError, LoadError, OSError, subprocess.SubprocessError) as exc:
        log(f"{name} failed: {exc}")
        row = {"status": "failed", "reason": str(exc)}
    row["seconds"] = round(time.monotonic() - started, 1)
    # Other work on the machine skews the numbers: keep what the load was.
    row["loadavg"] = {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]}
    return row


# --- main ----------------------------------------------------------------


def run_all(rows: list[str], settings: Settings, cpus: CpuPlan) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="semgate-overhead-") as tmpdir:
        tmp = Path(tmpdir)
        upstream = _servers.start_upstream(tmp, cpus)
        assert upstream.service is not None
        with upstream.service:
            for name in rows:
                results[name] = run_row(name, tmp, cpus, upstream, settings)
    return results


def all_targets(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {**_report.evaluate_targets(rows), **_accesslog.targets(rows)}


def write_json(
    path: Path, machine: dict[str, Any], rows: dict[str, dict[str, Any]], settings: Settings, cpus: CpuPlan,
    note: str | None = None,
) -> None:
    machine = {**machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]}
    document = {
        "benchmark": "overhead",
        "machine": machine,
        "settings": {**settings.__dict__, "wrk_threads": 1, "concurrency": [1, 32]},
        "cpu_pinning": cpus.describe(),
        "rows": {row_name(name): row for name, row in rows.items()},
        "targets": all_targets(rows),
    }
    if note:
        document["note"] = note
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every started server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings, rows = settings_from(args), selected_rows(args.only, args.workers)
    cpus = pin_self(max(args.workers), shared=args.shared_cores)
    machine = _report.machine_info()  # before the run: timestamp, load average
    try:
        results = run_all(rows, settings, cpus)
    except (ServiceError, LoadError, OSError, subprocess.SubprocessError) as exc:
        log(f"could not run: {exc}")
        return 1
    _report.add_overheads(results)
    print(_report.format_table({row_name(n): r for n, r in results.items()}))
    print()
    print(_report.format_targets(all_targets(results)))
    write_json(args.json, machine, results, settings, cpus, args.note)
    print(f"\nwrote {args.json}")
    bad = [n for n, r in results.items() if r["status"] in ("failed", "invalid")]
    if bad:
        log(f"rows that failed or answered errors: {', '.join(bad)}")
    return 1 if bad else 0


def pin_self(server_cores: int = 1, shared: bool = False) -> CpuPlan:
    """Pin this script (and so wrk) to the load cores; say what was pinned."""
    cpus = plan_cpus(server_cores)
    if shared:
        cpus = CpuPlan(cpus.server | cpus.load, cpus.server | cpus.load)
    os.sched_setaffinity(0, cpus.load)
    busy = os.getloadavg()[0]
    if busy > 0.5:
        log(f"warning: load average {busy:.2f} before the run: other work will skew the numbers")
    log(f"server under test on cores {sorted(cpus.server)}; wrk, upstream and clients on {sorted(cpus.load)}")
    return cpus


if __name__ == "__main__":
    sys.exit(main())
