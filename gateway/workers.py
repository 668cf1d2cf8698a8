"""`semgate serve --workers N`: N gateway processes sharing one port.

One Python process proxies on one core; N workers use N. The parent process
does not serve requests. It

  * starts the engines the gateway runs itself (`engine: sim`, `engine: vllm`)
    once, on an event loop in a background thread, and writes their URLs to a
    file the workers read: every worker talks to the same engines over HTTP,
    as a single-process gateway does;
  * creates a fresh PROMETHEUS_MULTIPROC_DIR before any worker starts (each
    worker is a new interpreter, so prometheus_client sees it at import) and
    removes it at exit: /metrics, whichever worker answers, adds up all
    workers (gateway/metrics.py);
  * binds the port and supervises the workers with uvicorn's Multiprocess: a
    worker that dies is replaced (its live gauges are dropped), SIGINT or
    SIGTERM stops them all gracefully, then the engines.

A worker exits on its own when its parent goes away, however the parent
ended. Workers share nothing but the engines, the metrics files and the
store: with `store.backend: memory` each worker has its own limits, budgets,
dataflow sessions and response cache, so use the redis store with N > 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from gateway.config import GatewayConfig
from gateway.server import uvicorn_config
from gateway.shutdown import DrainingServer

log = logging.getLogger("semgate.workers")

SPEC_ENV = "SEMGATE_WORKER_SPEC"  # path of the JSON the parent writes for its workers
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
URL_REREAD_S = 1.0  # how often a worker re-reads a managed engine's URL (it moves if vLLM restarts elsewhere)
PARENT_POLL_S = 0.5


# --- the parent ----------------------------------------------------------


class EngineHost:
    """The config's sim and vLLM engines, run once on a background event loop."""

    def __init__(self, config: GatewayConfig, base_dir: Path, urls_file: Path) -> None:
        from gateway.engines.manager import EngineSet

        self.engines = EngineSet(config.models, base_dir)
        self.urls_file = urls_file
        self._wanted = any(m.engine != "http" for m in config.models)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._watch: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the engines and write their URLs; raises if one fails (all stopped)."""
        if not self._wanted:
            self.urls_file.write_text("{}")
            return
        self._loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="semgate-engines")
        self._thread.start()
        sources = self._run(self.engines.start(), timeout=None)
        self._run(self._publish(sources))

    async def _publish(self, sources: dict[str, Any]) -> None:
        moving = {model: src[0] for model, src in sources.items() if callable(src[0])}
        fixed = {model: src[0] for model, src in sources.items() if not callable(src[0])}

        def snapshot() -> dict[str, dict[str, Any]]:
            urls = {model: {"url": url, "moves": False} for model, url in fixed.items()}
            urls.update({model: {"url": read(), "moves": True} for model, read in moving.items()})
            return urls

        last = snapshot()
        _write_atomic(self.urls_file, last)
        if moving:
            self._watch = asyncio.create_task(self._watch_moves(snapshot, last))

    async def _watch_moves(self, snapshot: Any, last: dict[str, Any]) -> None:
        """A restarted vLLM may come back on another port: republish its URL."""
        while True:
            await asyncio.sleep(URL_REREAD_S / 2)
            now = snapshot()
            if now != last:
                _write_atomic(self.urls_file, now)
                last = now

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            self._run(self._stop(), timeout=60)
        except Exception as exc:  # stopping must go on: the loop and the thread still end
            log.warning("engine stop failed: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    async def _stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        await self.engines.stop()

    def _run(self, coro: Any, timeout: float | None = 60) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


class DrainingProcess(Process):
    """A worker process whose server drains the gateway before it stops (gateway/shutdown.py)."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server


class Supervisor(Multiprocess):
    """uvicorn's supervisor; a worker that died has its live gauges dropped."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], metrics_dir: Path) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir

    def run(self) -> None:
        # Multiprocess creates its workers as `Process(...)` in four places and offers no
        # hook for the class; swapping the module's name for the run is the smallest
        # change (uvicorn is pinned to 0.55.x in pyproject.toml for such internals).
        original, multiprocess.Process = multiprocess.Process, DrainingProcess  # type: ignore[misc]
        try:
            super().run()
        finally:
            multiprocess.Process = original  # type: ignore[misc]

    def keep_subprocess_alive(self) -> None:
        before = {p.pid for p in self.processes}
        super().keep_subprocess_alive()
        for pid in before - {p.pid for p in self.processes}:
            self.mark_dead(pid)

    def mark_dead(self, pid: int | None) -> None:
        from prometheus_client.multiprocess import mark_process_dead

        if pid is not None:
            mark_process_dead(pid, str(self.metrics_dir))

    @property
    def failed_to_start(self) -> bool:
        return any(p.exitcode == STARTUP_FAILURE for p in self.processes)


def serve_workers(config: GatewayConfig, config_path: str | None, base_dir: Path, host: str, port: int,
                  log_level: str, workers: int) -> int:
    """Run `workers` gateway processes on host:port until SIGINT/SIGTERM; the exit status."""
    if config.store.backend == "memory":
        log.warning(
            "%d workers with the in-memory store: tenant limits, budgets, dataflow sessions and the response "
            "cache are per worker, not shared (a client may land on any worker); use `store: {backend: redis}`",
            workers,
        )
    work = Path(tempfile.mkdtemp(prefix="semgate-workers-"))
    metrics_dir = work / "metrics"
    metrics_dir.mkdir()
    os.environ[METRICS_ENV] = str(metrics_dir)  # inherited by the spawned workers
    spec = {
        "config": str(Path(config_path).resolve()) if config_path else None,
        "base_dir": str(base_dir),
        "log_level": log_level,
        "parent": os.getpid(),
        "urls_file": str(work / "urls.json"),
    }
    (work / "spec.json").write_text(json.dumps(spec))
    os.environ[SPEC_ENV] = str(work / "spec.json")
    engines = EngineHost(config, base_dir, work / "urls.json")
    try:
        try:
            engines.start()
        except Exception as exc:  # an engine that cannot start: one clear line, no traceback
            log.error("start-up failed: %s", exc)
            return 1
        server_config = uvicorn_config(
            "gateway.workers:worker_app", config, host=host, port=port, log_level=log_level,
            factory=True, workers=workers,
        )
        try:
            sock = server_config.bind_socket()
        except SystemExit:  # uvicorn logged why (port taken, say)
            return 1
        log.info("%d workers on %s:%d; engines and metrics in the parent (pid %d)", workers, host, port, os.getpid())
        supervisor = Supervisor(server_config, [sock], metrics_dir)
        try:
            supervisor.run()
        finally:
            sock.close()
            for process in supervisor.processes:
                supervisor.mark_dead(process.pid)
        if supervisor.failed_to_start:
            log.error("a worker failed to start; see its log above")
            return 1
        return 0
    except KeyboardInterrupt:  # Ctrl-C while the engines were starting
        return 0
    finally:
        engines.stop()
        shutil.rmtree(work, ignore_errors=True)


def _write_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


# --- a worker ------------------------------------------------------------


class SharedUrl:
    """A managed engine's URL as the parent last published it, re-read at most
    every URL_REREAD_S (the request path calls this per request)."""

    def __init__(self, path: str, model: str, url: str) -> None:
        self._path, self._model, self._url = path, model, url
        self._next = time.monotonic() + URL_REREAD_S

    def __call__(self) -> str:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + URL_REREAD_S
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                self._url = json.loads(Path(self._path).read_text())[self._model]["url"]
        return self._url


class ParentEngines:
    """Stands in for a worker's EngineSet: the parent runs the engines."""

    def __init__(self, urls_file: str) -> None:
        published = json.loads(Path(urls_file).read_text())
        self._urls: dict[str, list[Any]] = {
            model: [SharedUrl(urls_file, model, item["url"]) if item["moves"] else item["url"]]
            for model, item in published.items()
        }

    def get(self, model: str) -> None:
        return None

    async def start(self) -> dict[str, list[Any]]:
        return self._urls

    async def stop(self) -> None:
        return None


def worker_app() -> Any:
    """uvicorn's app factory in each worker: the gateway, engines attached by URL."""
    from gateway.app import Gateway
    from gateway.cli import setup_logging
    from gateway.config import ConfigError, default_config, load_config
    from gateway.store import StoreError

    spec = json.loads(Path(os.environ[SPEC_ENV]).read_text())
    setup_logging(spec["log_level"])
    _exit_with_parent(spec["parent"])
    try:
        config = load_config(spec["config"]) if spec["config"] else default_config()
        gateway = Gateway(config, base_dir=Path(spec["base_dir"]))
    except (ConfigError, StoreError, OSError, ValueError) as exc:
        logging.getLogger("semgate").error("worker start-up failed: %s", exc)
        sys.exit(STARTUP_FAILURE)  # the parent stops instead of restarting it in a loop
    gateway.engines = ParentEngines(spec["urls_file"])  # type: ignore[assignment]
    return gateway


def _exit_with_parent(parent: int) -> None:
    """SIGTERM this worker (a graceful stop) once its parent is gone, even if killed."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="semgate-parent-watch").start()
