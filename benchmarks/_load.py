"""Load generation: wrk runs (throughput, latency), a raw-socket TTFT client,
and a correctness check that a row really returns the completion."""

from __future__ import annotations

import asyncio
import http.client
import re
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
PLAIN_BODY = b'{"model":"bench","messages":[{"role":"user","content":"hi"}]}'
STREAM_BODY = b'{"model":"bench-stream","messages":[{"role":"user","content":"hi"}],"stream":true}'
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}

# The bench tenant's key (row semgate-tenants; wrk/post*.lua send it too); other servers ignore it.
BENCH_AUTH = "Bearer sk-bench-tenant"


class LoadError(RuntimeError):
    """wrk or the TTFT client could not run."""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.requests > 0 and self.non_2xx == 0 and not any(self.socket_errors.values())

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "valid": self.valid}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not match:
        raise LoadError(f"cannot read wrk duration {value!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(text: str) -> WrkResult:
    """Read Requests/sec, the --latency percentiles and error counts."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", text, re.MULTILINE))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in ", text, re.MULTILINE)
    if not (rps and total and "50" in percentiles and "99" in percentiles):
        raise LoadError(f"unexpected wrk output:\n{text}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    names = ("connect", "read", "write", "timeout")
    return WrkResult(
        rps=float(rps[1]),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors={n: int(v) for n, v in zip(names, errors.groups())} if errors else {},
    )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise LoadError("wrk is not installed (apt-get install wrk)")
    return found


def _wrk_argv(url: str, script: str, connections: int, duration_s: float) -> list[str]:
    return [
        wrk_binary(), "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
        "--latency", "--timeout", "10s", "-s", str(HERE / "wrk" / script), url,
    ]


def _finish(proc: subprocess.Popen[str], timeout: float) -> WrkResult:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise LoadError(f"wrk failed ({proc.returncode}): {err.strip() or out}")
    return parse_wrk(out)


def run_wrk(url: str, script: str, connections: int, duration_s: float) -> WrkResult:
    """One wrk thread, `connections` keep-alive connections, for `duration_s`."""
    argv = _wrk_argv(url, script, connections, duration_s)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return _finish(proc, duration_s + 60)


def soak(url: str, stream: bool, requests: int, max_s: float, reached: Callable[[], int]) -> WrkResult:
    """wrk at c=32 until `requests` more requests have reached the upstream
    (`reached()` counts them) or `max_s` runs out. wrk itself cannot stop
    after a count (its main thread sleeps out -d), but on SIGINT it stops
    early and still prints its summary."""
    script = "post-stream.lua" if stream else "post.lua"
    start, polls = reached(), 1
    proc = subprocess.Popen(
        _wrk_argv(url, script, 32, max_s), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    while proc.poll() is None:
        time.sleep(0.05)
        done = reached() - start - polls  # less the counter's own requests
        polls += 1
        if done >= requests:
            proc.send_signal(signal.SIGINT)
            break
    return _finish(proc, 60)


def upstream_requests(port: int) -> int:
    """nginx's stub_status request counter on the instant upstream."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/status")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    match = re.search(r"^\s*\d+\s+\d+\s+(\d+)\s*$", text, re.MULTILINE)
    if not match:
        raise LoadError(f"unexpected stub_status reply: {text!r}")
    return int(match[1])


def check_completion(url: str, stream: bool) -> str | None:
    """None when `url` answers a real chat completion, else what is wrong."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        body = STREAM_BODY if stream else PLAIN_BODY
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json", "Authorization": BENCH_AUTH})
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        ctype = resp.getheader("Content-Type", "")
    except OSError as exc:
        return f"request failed: {exc}"
    finally:
        conn.close()
    if resp.status != 200 or '"choices"' not in text:
        return f"HTTP {resp.status}: {text[:300]!r}"
    if stream and ("text/event-stream" not in ctype or "data: [DONE]" not in text):
        return f"not an SSE stream ending in [DONE] (Content-Type {ctype!r}): {text[:300]!r}"
    return None


# --- time to first token -------------------------------------------------


async def _read_body(reader: asyncio.StreamReader, headers: bytes, started: float) -> tuple[float, bytes]:
    """Read one response body; return (seconds to the first `data:`, body)."""
    lower = headers.lower()
    first: float | None = None
    body = b""
    if b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += (await reader.readexactly(size + 2))[:-2]
            if first is None and b"data:" in body:
                first = time.perf_counter() - started
    else:
        match = re.search(rb"content-length:\s*(\d+)", lower)
        if not match:
            raise LoadError("response has neither Content-Length nor chunked encoding")
        remaining = int(match[1])
        while remaining:
            data = await reader.read(remaining)
            if not data:
                raise LoadError("connection closed mid-body")
            body += data
            remaining -= len(data)
            if first is None and b"data:" in body:
                first = time.perf_counter() - started
    if first is None:
        raise LoadError(f"no SSE event in the stream: {body[:200]!r}")
    return first, body


async def _ttft_run(url: str, count: int, warmup: int) -> list[float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: {BENCH_AUTH}\r\n"
        f"Accept: text/event-stream\r\nContent-Length: {len(STREAM_BODY)}\r\n\r\n"
    ).encode() + STREAM_BODY
    samples: list[float] = []
    try:
        for i in range(warmup + count):
            started = time.perf_counter()
            writer.write(request)
            headers = await reader.readuntil(b"\r\n\r\n")
            if not headers.startswith(b"HTTP/1.1 200"):
                raise LoadError(f"TTFT request got {headers.splitlines()[0]!r}")
            first, body = await _read_body(reader, headers, started)
            if b"data: [DONE]" not in body:
                raise LoadError("stream did not end with data: [DONE]")
            if i >= warmup:
                samples.append(first * 1000)
            if b"connection: close" in headers.lower():
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()
    return samples


def measure_ttft(url: str, count: int, warmup: int = 50) -> dict[str, float]:
    """Concurrency-1 streaming requests on one keep-alive connection:
    milliseconds from sending the request to the first `data:` byte."""
    try:
        samples = asyncio.run(_ttft_run(url, count, warmup))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise LoadError(f"TTFT client failed on {url}: {exc!r}") from exc
    ordered = sorted(samples)
    return {
        "samples": len(samples),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }
