"""/metrics as operators use it: scraped by a real Prometheus, and added up
over `semgate serve --workers 2`.

The Prometheus test needs the `prometheus` binary (Debian package
`prometheus`, installed by scripts/setup-system.sh): it fails without it when
CI is set, and is skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_socket

SIM_CONFIG = """\
server: {access_log: false, health_interval_s: 1}
models:
  - name: sim-a
    engine: sim
    sim: {profile: llama3-8b-h100, speedup: 50}
"""


def free_port() -> int:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


def wait_ready(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gateway exited with {proc.returncode}:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("gateway did not become ready")


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []
    config = tmp_path / "sim.yaml"
    config.write_text(SIM_CONFIG)

    def start(*extra: str) -> tuple[subprocess.Popen[str], int]:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(config), "--port", str(port), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        started.append(proc)
        wait_ready(port, proc)
        return proc, port

    yield start
    for proc in started:
        stop(proc)


def chat(port: int, n: int, connections: int = 1) -> None:
    """n chat completions with the official SDK, over `connections` clients at once."""
    def run(count: int) -> None:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        with client:
            for _ in range(count):
                reply = client.chat.completions.create(
                    model="sim-a", messages=[{"role": "user", "content": "hello"}], max_tokens=4,
                )
                assert reply.choices[0].message.content

    shares = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(run, shares))


def scrape(port: int) -> dict[str, float]:
    """Sample name + sorted labels -> value, from the gateway's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f",{k}={v}" for k, v in sorted(sample.labels.items()))
            out[key] = sample.value
    return out


def total(samples: dict[str, float], name: str) -> float:
    return sum(value for key, value in samples.items() if key.split(",")[0] == name)


# --- a real Prometheus -------------------------------------------------------


@pytest.fixture
def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        message = "prometheus is not installed (scripts/setup-system.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def start_prometheus(binary: str, tmp: Path, target_port: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: semgate\n"
        "    scrape_interval: 1s\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
    )
    log = open(tmp / "prometheus.log", "wb")  # noqa: SIM115 - closed with the process below
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    return proc, port


def query(port: int, promql: str) -> list[dict[str, object]]:
    reply = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert reply["status"] == "success", reply
    return list(reply["data"]["result"])


def wait_for_value(port: int, promql: str, want: float, proc: subprocess.Popen[bytes], log: Path,
                   timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen: object = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"prometheus exited:\n{log.read_text(errors='replace')[-2000:]}"
        try:
            result = query(port, promql)
        except (httpx.TransportError, ValueError):  # not listening yet, or "Service Unavailable" while starting
            result = []
        if result:
            seen = float(result[0]["value"][1])  # type: ignore[index]
            if seen == want:
                return
        time.sleep(0.5)
    raise AssertionError(f"{promql}: wanted {want}, last saw {seen}\n{log.read_text(errors='replace')[-2000:]}")


def test_real_prometheus_scrapes_the_gateway(gateway_factory, prometheus_binary: str, tmp_path: Path) -> None:
    _, port = gateway_factory()
    chat(port, 5)
    prom, prom_port = start_prometheus(prometheus_binary, tmp_path, port)
    log = tmp_path / "prometheus.log"
    try:
        wait_for_value(prom_port, "sum(semgate_requests_total)", 5, prom, log)
        wait_for_value(prom_port, 'up{job="semgate"}', 1, prom, log)
        chat(port, 3)  # a counter that moves is scraped again
        wait_for_value(prom_port, 'sum(semgate_requests_total{model="sim-a",status="200"})', 8, prom, log)
        wait_for_value(prom_port, 'sum(semgate_upstream_healthy{model="sim-a"})', 1, prom, log)
        wait_for_value(prom_port, "sum(semgate_request_duration_seconds_count)", 8, prom, log)
        assert float(query(prom_port, 'sum(semgate_tokens_total{direction="out"})')[0]["value"][1]) > 0  # type: ignore[index]
    finally:
        prom.terminate()
        try:
            prom.wait(15)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()


# --- several workers -----------------------------------------------------------


def running(pid: int) -> bool:
    psutil = pytest.importorskip("psutil")
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def worker_pids(parent: int) -> list[int]:
    """The parent's worker processes (not multiprocessing's resource tracker)."""
    psutil = pytest.importorskip("psutil")
    pids = []
    for child in psutil.Process(parent).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:  # a worker that just died (a zombie until its parent reaps it)
            continue
    return pids


def requests_by_worker(pids: list[int]) -> dict[int, float]:
    """Each worker's own semgate_requests_total, read from its multiprocess file."""
    psutil = pytest.importorskip("psutil")
    folder = Path(psutil.Process(pids[0]).environ()["PROMETHEUS_MULTIPROC_DIR"])
    counts: dict[int, float] = {}
    for pid in pids:
        entries = MmapedDict.read_all_values_from_file(str(folder / f"counter_{pid}.db"))
        counts[pid] = sum(value for key, value, _, _ in entries if '"semgate_requests_total"' in key)
    return counts


def test_two_workers_share_the_port_the_engine_and_the_metrics(gateway_factory) -> None:
    proc, port = gateway_factory("--workers", "2")
    pids = worker_pids(proc.pid)
    assert len(pids) == 2
    # The kernel decides which worker accepts a connection, with no promise of
    # fairness: send batches over fresh connections until both have served some.
    n = 0
    while n < 1200:
        chat(port, 60, connections=12)
        n += 60
        if all(count > 0 for count in requests_by_worker(pids).values()):
            break
    samples = scrape(port)
    assert total(samples, "semgate_requests_total") == n  # whichever worker answered /metrics
    assert total(samples, "semgate_request_duration_seconds_count") == n
    assert total(samples, "semgate_requests_in_flight") == 0  # livesum: one series, not one per worker
    assert samples["semgate_dataflow_sessions"] == 0  # refreshed per worker, summed: no pid label
    # One engine, started by the parent: both workers probe the same replica URL.
    healthy = [key for key in samples if key.startswith("semgate_upstream_healthy,")]
    assert len(healthy) == 1 and samples[healthy[0]] == 1
    counts = requests_by_worker(pids)
    assert sum(counts.values()) == n
    assert all(count > 0 for count in counts.values()), f"one worker served everything: {counts}"
    # Ctrl-C stops the workers and the parent, which removes the metrics folder.
    psutil = pytest.importorskip("psutil")
    folder = Path(psutil.Process(pids[0]).environ()["PROMETHEUS_MULTIPROC_DIR"])
    output = stop(proc)
    assert proc.returncode == 0, output
    assert "in-memory store" in output  # the warning: limits and sessions are per worker
    assert not folder.exists()
    assert not any(running(pid) for pid in pids)


def test_a_dead_worker_is_replaced_and_its_live_gauges_dropped(gateway_factory) -> None:
    psutil = pytest.importorskip("psutil")
    proc, port = gateway_factory("--workers", "2")
    pids = worker_pids(proc.pid)
    folder = Path(psutil.Process(pids[0]).environ()["PROMETHEUS_MULTIPROC_DIR"])
    chat(port, 4, connections=2)
    # The kernel promises no fairness between accepting workers: kill one that served some.
    pids.sort(key=lambda pid: not (folder / f"counter_{pid}.db").exists())
    os.kill(pids[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = worker_pids(proc.pid)
        if len(now) == 2 and pids[0] not in now:
            break
        time.sleep(0.2)
    assert pids[0] not in worker_pids(proc.pid) and len(worker_pids(proc.pid)) == 2
    wait_ready(port, proc)
    assert not list(folder.glob(f"gauge_live*_{pids[0]}.db"))  # a dead worker's in-flight count is gone
    assert (folder / f"counter_{pids[0]}.db").exists()  # its requests still count
    chat(port, 2)
    assert total(scrape(port), "semgate_requests_total") == 6


def test_workers_exit_when_the_parent_is_killed(gateway_factory) -> None:
    psutil = pytest.importorskip("psutil")
    proc, _ = gateway_factory("--workers", "2")
    pids = worker_pids(proc.pid)
    folder = Path(psutil.Process(pids[0]).environ()["PROMETHEUS_MULTIPROC_DIR"]).parent
    proc.kill()  # no chance to clean up: the workers notice on their own
    proc.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(running(pid) for pid in pids):
        time.sleep(0.2)
    alive = [pid for pid in pids if running(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)  # a killed parent leaves its temp folder behind
    assert not alive, "workers outlived their parent"


# --- the replica gauges --------------------------------------------------------


async def test_health_checks_set_the_replica_gauges() -> None:
    from gateway.config import ModelConfig
    from gateway.health import HealthMonitor
    from gateway.metrics import GatewayMetrics
    from gateway.routes import ModelRoute

    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    route = ModelRoute.build(ModelConfig(name="m", upstreams=[dead]), [dead])
    metrics = GatewayMetrics()
    monitor = HealthMonitor({"m": route}, 60, metrics)
    replica = route.replicas.replicas[0]

    def value(name: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"model": "m", "replica": dead})

    await monitor.check_all()
    assert value("semgate_upstream_healthy") == 0 and value("semgate_upstream_breaker_open") == 0
    for _ in range(route.config.balancer.failure_threshold):
        replica.record_failure("status_5xx")
    await monitor.check_all()
    assert value("semgate_upstream_breaker_open") == 1
