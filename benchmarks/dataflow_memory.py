"""Memory and event-loop cost of large dataflow graphs (issue #11, item 3).

One gateway process (`semgate serve`, in-memory store) per scenario, with
the `instant` sim engine in a process of its own (as vLLM would be); one
session holding `--graphs` chains of `--calls` calls each (call i reads call
i-1's output). Scenarios:

- `failing_root`: the first call of every chain uses a model whose upstream
  refuses connections, so it fails and the failure propagates down the chain;
- `all_succeed`: every call runs on the sim engine.

Per scenario: the gateway's RSS after start (`rss_before_mb`), the largest
RSS seen while the chains ran and the session was described (`rss_peak_mb`),
RSS one second after `DELETE` (`rss_after_delete_mb`); the size of the first
page of `GET /dataflow/v1/sessions/{sid}` and of all its pages together; the
largest error text on a variable; and the event-loop stall as a client sees
it: a thread GETs `/health` every 10 ms; its slowest answer minus the slowest
one while the gateway was idle, per phase (`stall_ms_by_phase`: submitting
the graphs, running them, describing, deleting); `max_stall_ms` is the one
while the chains run and fail.

    python -m benchmarks.dataflow_memory            # 8 graphs x 1,024 calls
    python -m benchmarks.dataflow_memory --quick    # 2 graphs x 128 calls, seconds
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from benchmarks._procs import Service, free_port

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "dataflow_memory.json"
API = "/dataflow/v1"
SCENARIOS = ("failing_root", "all_succeed")
PROBE_EVERY_S = 0.01


def gateway_config(sim_url: str) -> dict[str, Any]:
    return {
        "server": {"health_interval_s": 60, "access_log": False},
        "models": [
            {"name": "sim", "upstreams": [sim_url]},
            {"name": "down", "upstreams": ["http://127.0.0.1:1/v1"], "retry": {"attempts": 1}},
        ],
    }


def ident(kind: str, graph: int, index: int, chars: int) -> str:
    """A variable or call id padded to `chars` (ids may have up to 128): long ids are the worst case."""
    return f"g{graph}-{kind}{index:04d}".rjust(chars, "x")


def chain(graph: int, calls: int, first_model: str, id_chars: int) -> dict[str, Any]:
    """`calls` calls, each reading the previous one's output; the first on `first_model`."""
    body: list[dict[str, Any]] = []
    for i in range(calls):
        call = {"id": ident("c", graph, i, id_chars), "model": "sim", "template": "{{x}}\nnext {{o}}",
                "inputs": {"x": ident("v", graph, i - 1, id_chars)},
                "outputs": {"o": {"id": ident("v", graph, i, id_chars), "max_tokens": 2}}}
        if i == 0:
            call.update(model=first_model, template="start {{o}}", inputs={})
        body.append(call)
    return {"calls": body}


class Sampler:
    """RSS of the gateway (a background thread) and /health latency (a probe process).

    The probe runs in a process of its own: in a thread of this one it would
    wait for the GIL while this process builds graphs or parses megabytes of
    description, and count that as the gateway's stall."""

    def __init__(self, pid: int, port: int) -> None:
        self.proc = psutil.Process(pid)
        self.port = port
        self.peak_rss = 0
        self.phases: list[tuple[float, str]] = [(0.0, "start")]  # (monotonic start, phase)
        self.max_probe_s: dict[str, float] = {}  # phase -> slowest /health answer in it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._rss, daemon=True)
        self._probe: subprocess.Popen[str] | None = None

    @property
    def phase(self) -> str:
        return self.phases[-1][1]

    @phase.setter
    def phase(self, name: str) -> None:
        self.phases.append((time.monotonic(), name))

    def rss_mb(self) -> float:
        return round(self.proc.memory_info().rss / 2**20, 1)

    def _rss(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        self._thread.start()
        self._probe = subprocess.Popen([sys.executable, "-m", "benchmarks.dataflow_memory", "--probe", str(self.port)],
                                       cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(5)
            out, _ = self._probe.communicate("stop\n", timeout=30)  # it answers with its samples
            self._attribute(out)

    def _attribute(self, samples: str) -> None:
        """Each probe's latency to the phase it began in (CLOCK_MONOTONIC is one clock for all processes)."""
        for line in samples.splitlines():
            began, took = (float(part) for part in line.split())
            phase = next(name for start, name in reversed(self.phases) if start <= began)
            self.max_probe_s[phase] = max(self.max_probe_s.get(phase, 0.0), took)


def probe(port: int) -> None:
    """The probe process: GET /health every PROBE_EVERY_S until stdin says stop, then print
    `monotonic-start latency` per probe."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    samples: list[str] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while not stop.wait(PROBE_EVERY_S):
            began = time.monotonic()
            client.get("/health")
            samples.append(f"{began} {time.monotonic() - began}")
    print("\n".join(samples))


def idle_probe_ms(port: int, seconds: float = 0.5) -> float:
    """The slowest /health answer while nothing else happens: the probe's own noise."""
    worst = 0.0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            client.get("/health")
            worst = max(worst, time.perf_counter() - began)
            time.sleep(PROBE_EVERY_S)
    return worst * 1000


def describe_all(client: httpx.Client, sid: str) -> tuple[int, int, int]:
    """(first page bytes, all pages bytes, pages), following `next_after` when the API pages."""
    first = total = pages = 0
    params: dict[str, str] = {}
    while True:
        reply = client.get(f"/sessions/{sid}", params=params)
        reply.raise_for_status()
        pages += 1
        total += len(reply.content)
        first = first or len(reply.content)
        data = reply.json()
        if not data.get("has_more"):
            return first, total, pages
        params = {"after": data["next_after"]}


def run_scenario(name: str, graphs: int, calls: int, id_chars: int, workdir: Path) -> dict[str, Any]:
    port, sim_port = free_port(), free_port()
    config = workdir / f"{name}.yaml"
    config.write_text(yaml.safe_dump(gateway_config(f"http://127.0.0.1:{sim_port}/v1")))
    argv = [sys.executable, "-m", "gateway", "serve", "--config", str(config), "--port", str(port),
            "--log-level", "warning"]
    sim_argv = [sys.executable, "-m", "gateway", "engine", "sim", "--port", str(sim_port), "--profile", "instant"]
    cores = frozenset(psutil.Process().cpu_affinity() or [0])
    # The engine runs in a process of its own, as vLLM would: the gateway's RSS and stalls are its own.
    with Service("sim engine", sim_argv, workdir / f"{name}-sim.log", cores, cwd=ROOT).start() as sim, \
            Service(f"gateway ({name})", argv, workdir / f"{name}.log", cores, cwd=ROOT).start() as gw:
        sim.wait_http(sim_port, "/health")
        gw.wait_http(port, "/health")
        sampler = Sampler(gw.pid, port)
        noise_ms = idle_probe_ms(port)
        row: dict[str, Any] = {"graphs": graphs, "calls_per_graph": calls, "id_chars": id_chars,
                               "rss_before_mb": sampler.rss_mb()}
        first_model = "down" if name == "failing_root" else "sim"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}{API}", timeout=300) as client, sampler.running():
            sid = client.post("/sessions", json={}).raise_for_status().json()["id"]
            sampler.phase = "submit"
            for g in range(graphs):
                graph = chain(g, calls, first_model, id_chars)
                client.post(f"/sessions/{sid}/graphs", json=graph).raise_for_status()
            sampler.phase = "run"
            began = time.perf_counter()
            finals = [_fetch_last(client, sid, ident("v", g, calls - 1, id_chars)) for g in range(graphs)]
            row["run_s"] = round(time.perf_counter() - began, 2)
            row["final_statuses"] = sorted({status for status, _ in finals})
            row["max_error_chars"] = max(len(error) for _, error in finals)
            sampler.phase = "describe"
            row["describe_first_page_bytes"], row["describe_all_bytes"], row["describe_pages"] = describe_all(
                client, sid)
            sampler.phase = "delete"
            client.delete(f"/sessions/{sid}").raise_for_status()
            time.sleep(1.0)
        row["rss_peak_mb"] = round(sampler.peak_rss / 2**20, 1)
        row["rss_after_delete_mb"] = sampler.rss_mb()
        row["probe_noise_ms"] = round(noise_ms, 1)
        stalls = {phase: round(max(0.0, worst * 1000 - noise_ms), 1) for phase, worst in sampler.max_probe_s.items()}
        row["stall_ms_by_phase"] = stalls
        row["max_stall_ms"] = stalls.get("run", 0.0)  # while the chains run (and fail): issue #11's measure
        return row


def _fetch_last(client: httpx.Client, sid: str, var_id: str) -> tuple[str, str]:
    """(final status, error text) of a chain's last variable."""
    reply = client.get(f"/sessions/{sid}/variables/{var_id}", params={"timeout": 280})
    data = reply.json()
    if reply.status_code == 200:
        return data["status"], ""
    return str(data["error"].get("code")), str(data["error"]["message"])


# Issue #11's expectations, per scenario; a verdict, not an exit status (this is a measurement).
TARGETS = {
    "max_stall_ms": 50.0,
    "describe_first_page_bytes": 2 * 2**20,
    "max_error_chars": 1500,
    "rss_retained_after_delete_mb": 64.0,
}


def verdicts(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, row in rows.items():
        row["rss_retained_after_delete_mb"] = round(row["rss_after_delete_mb"] - row["rss_before_mb"], 1)
        for key, bound in TARGETS.items():
            out[f"{name}.{key}"] = {"value": row[key], "max": bound, "met": row[key] <= bound}
    return out


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    cols = [("rss_before_mb", "RSS before"), ("rss_peak_mb", "RSS peak"), ("rss_after_delete_mb", "after DELETE"),
            ("describe_first_page_bytes", "describe p1 B"), ("describe_all_bytes", "describe all B"),
            ("max_error_chars", "max error"), ("max_stall_ms", "stall ms"), ("run_s", "run s")]
    print(f"{'scenario':<14}" + "".join(f"{title:>16}" for _, title in cols))
    for name, row in rows.items():
        print(f"{name:<14}" + "".join(f"{row[key]:>16}" for key, _ in cols))
    for name, row in rows.items():
        print(f"{name}: loop stall by phase (ms) " + ", ".join(f"{k} {v}" for k, v in row["stall_ms_by_phase"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dataflow_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 graphs x 128 calls (smoke test)")
    parser.add_argument("--probe", type=int, default=None, help=argparse.SUPPRESS)  # the probe process (internal)
    parser.add_argument("--graphs", type=int, default=None, help="chains in the session (default 8)")
    parser.add_argument("--calls", type=int, default=None, help="calls per chain (default 1024)")
    parser.add_argument("--id-chars", type=int, default=128, help="length of every id (default 128, the most allowed)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated: {', '.join(SCENARIOS)}")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    args = parser.parse_args(argv)
    if args.probe is not None:
        probe(args.probe)
        return 0
    graphs = args.graphs or (2 if args.quick else 8)
    calls = args.calls or (128 if args.quick else 1024)
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="semgate-dfmem-") as tmp:
        for name in args.only.split(","):
            if name not in SCENARIOS:
                parser.error(f"unknown scenario {name!r}")
            rows[name] = run_scenario(name, graphs, calls, args.id_chars, Path(tmp))
    targets = verdicts(rows)
    print_table(rows)
    for key, verdict in targets.items():
        print(f"  {key:<48} {verdict['value']:>12} <= {verdict['max']:<10} {'met' if verdict['met'] else 'NOT MET'}")
    result = {"settings": {"graphs": graphs, "calls_per_graph": calls, "id_chars": args.id_chars, "quick": args.quick,
                           "probe_every_ms": PROBE_EVERY_S * 1000}, "scenarios": rows, "targets": targets}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
