"""What the workflow benchmark runs against: sim replicas, a gateway, a slow network.

- `SimCluster`: simulated replicas in one child process (benchmarks/_sim_cluster.py),
  every replica with the same engine seed: replicas of one model are the same
  weights, so a greedy answer must not depend on where it ran (the sim seeds its
  text from the engine seed too). `python -m benchmarks._workflow_env SPEC` is that
  child.
- `Gateway`: a real `semgate serve` subprocess (benchmarks/_procs.Service) with a
  generated config, in front of the cluster or of a managed real vLLM.
- `RttTransport`: an httpx transport that adds a client<->gateway round trip to
  every HTTP request: RTT/2 before sending, RTT/2 after the response headers. Both
  the openai SDK (`http_client=`) and the dataflow SDK (`transport=`) use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Self

import httpx
import psutil
import yaml

from benchmarks import _sim_cluster
from benchmarks._procs import ChildServers, Service, free_port
from benchmarks._routing_cluster import engine_counters
from gateway.engines.sim import SimServer
from gateway.upstream import UpstreamClient

ROOT = Path(__file__).resolve().parent.parent
MODEL = "bench"


class RttTransport(httpx.AsyncBaseTransport):
    """Adds `rtt_s` of network round trip to every request; counts the requests."""

    def __init__(self, rtt_s: float) -> None:
        self.half = rtt_s / 2
        self.requests = 0
        limits = httpx.Limits(max_connections=1024, max_keepalive_connections=1024)
        self._inner = httpx.AsyncHTTPTransport(limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        await asyncio.sleep(self.half)
        response = await self._inner.handle_async_request(request)
        await asyncio.sleep(self.half)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


# ---- the sim replicas ---------------------------------------------------------------


class _SameSeedServer(SimServer):
    def __init__(self, model_name: str, profile: Any, seed: int = 0, speedup: float = 1.0) -> None:
        super().__init__(model_name, profile, seed=0, speedup=speedup)


async def counters(urls: list[str]) -> dict[str, float]:
    """Prefix-cache queries/hits (tokens) and sim loop lag (s), summed over the engines at `urls`."""
    client = UpstreamClient(limit_per_origin=8, read_timeout=30)
    try:
        return await engine_counters(client, urls)
    finally:
        client.close()


class SimCluster(ChildServers):
    """The replicas' child process (this module's `serve`)."""

    def __init__(self, replicas: int, profile: str, speedup: float = 1.0) -> None:
        super().__init__("benchmarks._workflow_env", {"profile": profile, "replicas": replicas, "speedup": speedup},
                         ROOT)


# ---- the gateway --------------------------------------------------------------------


def sim_model(urls: list[str]) -> dict[str, Any]:
    return {"name": MODEL, "upstreams": urls, "upstream_model": _sim_cluster.MODEL}


def vllm_model(model_dir: str, python: str) -> dict[str, Any]:
    """SmolLM2 on this CPU, as deploy/config/quickstart.yaml runs it (absolute paths: the config is in /tmp)."""
    return {"name": MODEL, "engine": "vllm",
            "vllm": {"model": model_dir, "python": python, "args": ["--enforce-eager", "--max-model-len", "2048"]}}


class Gateway:
    """`semgate serve` on a free port with one model; a context manager that stops it."""

    def __init__(self, model: dict[str, Any], ready_timeout: float = 60.0) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="semgate-workflows-")
        tmp = Path(self._tmp.name)
        self.port = free_port()
        config = {"server": {"host": "127.0.0.1", "port": self.port, "access_log": False}, "models": [model]}
        (tmp / "gateway.yaml").write_text(yaml.safe_dump(config))
        argv = [sys.executable, "-m", "gateway", "serve", "--config", str(tmp / "gateway.yaml"),
                "--log-level", "warning"]
        cores = frozenset(os.sched_getaffinity(0))  # not pinned: a managed vLLM inherits this set
        self.service = Service("semgate", argv, tmp / "gateway.log", cores, cwd=ROOT).start()
        try:
            self.service.wait_http(self.port, "/ready", timeout=ready_timeout)
        except BaseException:
            self._tmp.cleanup()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_s(self) -> float:
        """CPU seconds the gateway process itself has used (not a managed vLLM's)."""
        times = psutil.Process(self.service.pid).cpu_times()
        return times.user + times.system

    def engine_urls(self) -> list[str]:
        """Where the vLLM servers the gateway runs itself listen (their `--port`), for their /metrics."""
        urls = []
        for child in psutil.Process(self.service.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error, ValueError, IndexError):
                argv = child.cmdline()
                if "vllm.entrypoints.openai.api_server" in argv:
                    urls.append(f"http://127.0.0.1:{int(argv[argv.index('--port') + 1])}")
        return urls

    def stop(self) -> None:
        self.service.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    """The cluster child: _sim_cluster's replicas, all with engine seed 0."""
    _sim_cluster.SimServer = _SameSeedServer  # type: ignore[misc]
    return _sim_cluster.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
