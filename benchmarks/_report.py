"""Reporting for benchmarks/overhead.py: derived numbers, targets, the table,
and what machine and software the numbers came from."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

import psutil

from benchmarks._servers import ROOT, litellm_version

Row = dict[str, Any]
MODES = ("plain", "stream")
CONCURRENCIES = ("c1", "c32")

TARGETS = {
    "semgate_plain_c32_rps": (">=", 3000.0, "non-streaming RPS at c=32"),
    "semgate_added_p50_c1_ms": ("<=", 0.5, "added p50 vs direct at c=1 (non-streaming), ms"),
    "semgate_ttft_overhead_ms": ("<=", 1.0, "streaming TTFT p50 overhead vs direct, ms"),
    "semgate_rss_max_mb": ("<=", 150.0, "largest gateway RSS seen, MiB"),
    "semgate_rss_soak_growth_pct": ("<=", 10.0, "RSS growth over the soak (after soak vs after the timed runs), %"),
}


def _get(row: Row, *path: str) -> Any:
    value: Any = row
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def add_overheads(rows: dict[str, Row]) -> None:
    """Fill in added p50 (vs direct) per mode/concurrency, and TTFT overhead."""
    direct = rows.get("direct", {})
    for row in rows.values():
        for mode in MODES:
            for conc in CONCURRENCIES:
                mine, base = _get(row, mode, conc, "p50_ms"), _get(direct, mode, conc, "p50_ms")
                if mine is not None and base is not None:
                    row[mode][conc]["added_p50_ms"] = round(mine - base, 3)
        mine, base = _get(row, "stream", "ttft", "p50_ms"), _get(direct, "stream", "ttft", "p50_ms")
        if mine is not None and base is not None:
            row["stream"]["ttft"]["overhead_ms"] = round(mine - base, 3)
        rss = row.get("rss_mb") or {}
        if rss.get("after") and rss.get("after_soak"):
            rss["soak_growth_pct"] = round(100 * (rss["after_soak"] - rss["after"]) / rss["after"], 1)


def _target_values(semgate: Row) -> dict[str, float | None]:
    rss = semgate.get("rss_mb") or {}
    seen = [v for k, v in rss.items() if k in ("before", "after", "after_soak") and v is not None]
    return {
        "semgate_plain_c32_rps": _get(semgate, "plain", "c32", "rps"),
        "semgate_added_p50_c1_ms": _get(semgate, "plain", "c1", "added_p50_ms"),
        "semgate_ttft_overhead_ms": _get(semgate, "stream", "ttft", "overhead_ms"),
        "semgate_rss_max_mb": max(seen) if seen else None,
        "semgate_rss_soak_growth_pct": rss.get("soak_growth_pct"),
    }


def evaluate_targets(rows: dict[str, Row]) -> dict[str, dict[str, Any]]:
    semgate = rows.get("semgate", {})
    usable = semgate.get("status") == "ok"
    values = _target_values(semgate) if usable else {}
    out: dict[str, dict[str, Any]] = {}
    for key, (op, limit, what) in TARGETS.items():
        value = values.get(key)
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        out[key] = {"what": what, "target": f"{op} {limit:g}", "value": value, "met": met}
    return out


# --- table -----------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _cell_note(cell: dict[str, Any]) -> str:
    notes = []
    if not cell.get("valid", True):
        notes.append(f"INVALID non2xx={cell.get('non_2xx')} errors={cell.get('socket_errors')}")
    if cell.get("upstream_ratio", 1.0) < 0.99:
        notes.append("INVALID: requests did not reach the upstream")
    return "; ".join(notes)


def _lines_for_row(name: str, row: Row) -> list[list[str]]:
    status = row.get("status")
    if status in ("skipped", "failed"):
        return [[name, status.upper(), "", "", "", "", "", "", "", "", "", row.get("reason", "")[:70]]]
    lines = []
    for mode in MODES:
        for conc in CONCURRENCIES:
            cell = _get(row, mode, conc) or {}
            ttft = _get(row, mode, "ttft") if conc == "c1" else None
            lines.append([
                name, mode, conc[1:], _fmt(cell.get("rps"), 0), _fmt(cell.get("p50_ms"), 3),
                _fmt(cell.get("p99_ms"), 3), _fmt(cell.get("added_p50_ms"), 3),
                _fmt(_get(ttft or {}, "p50_ms"), 3), _fmt(_get(ttft or {}, "overhead_ms"), 3),
                _fmt(cell.get("cpu_us_per_request"), 1), _fmt(cell.get("upstream_ratio"), 3), _cell_note(cell),
            ])
    return lines


def _render(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) if i in (0, 1, len(header) - 1) else c.rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in [header, *lines]]
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def format_table(rows: dict[str, Row]) -> str:
    header = ["row", "mode", "c", "RPS", "p50 ms", "p99 ms", "+p50 ms", "TTFT ms", "+TTFT ms", "CPU µs/req", "upstream",
              "note"]
    lines = [line for name, row in rows.items() for line in _lines_for_row(name, row)]
    rss_header = ["row", "RSS MB", "before", "after", "after soak", "soak req", "growth %", "note"]
    rss_lines = []
    for name, row in rows.items():
        rss = row.get("rss_mb")
        if rss:
            soak = rss.get("soak") or {}
            note = "" if soak.get("valid", True) else "INVALID soak (errors)"
            rss_lines.append([name, "", _fmt(rss.get("before"), 1), _fmt(rss.get("after"), 1),
                              _fmt(rss.get("after_soak"), 1), _fmt(soak.get("requests")),
                              _fmt(rss.get("soak_growth_pct"), 1), note])
    text = _render(header, lines)
    if rss_lines:
        text += "\n\n" + _render(rss_header, rss_lines)
    return text


def format_targets(targets: dict[str, dict[str, Any]]) -> str:
    lines = ["targets (semgate):"]
    for item in targets.values():
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[item["met"]]
        lines.append(f"  {verdict:6}  {item['what']}: {_fmt(item['value'], 3)} (target {item['target']})")
    return "\n".join(lines)


# --- machine ---------------------------------------------------------------


def _command_version(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    return {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        # Other work on the box skews every row; the 1-minute load before the run says how busy it was.
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "git_commit": _command_version(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
        "versions": {
            "python": sys.version.split()[0],
            "semgate": _package_version("semgate"),
            "nginx": _command_version(["nginx", "-v"]),
            "wrk": _command_version(["wrk", "-v"]),
            "litellm": litellm_version(),
        },
    }
