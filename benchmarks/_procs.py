"""Child processes for benchmarks: start pinned, wait for health, measure, stop.

Every server a benchmark starts is a `Service`: a child in its own process
group (so stopping it also stops its workers), pinned to a CPU set, with its
output in a log file whose tail is shown when it fails.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import psutil


class ServiceError(RuntimeError):
    """A service did not start, or died."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class CpuPlan:
    """Which cores the server under test and the load side run on.

    On 2 cores: core 0 for the server under test alone; core 1 for wrk, the
    instant upstream and this script. With 1 core nothing is pinned.
    """

    server: frozenset[int]
    load: frozenset[int]

    @property
    def pinned(self) -> bool:
        return self.server != self.load

    def describe(self) -> dict[str, object]:
        return {"pinned": self.pinned, "server_cores": sorted(self.server), "load_cores": sorted(self.load)}


def plan_cpus(server_cores: int = 1) -> CpuPlan:
    """`server_cores` for the server under test (a multi-worker gateway wants
    one per worker), as many as leave at least one core for the load side."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return CpuPlan(frozenset(cores), frozenset(cores))
    split = max(1, min(server_cores, len(cores) - 1))
    return CpuPlan(frozenset(cores[:split]), frozenset(cores[split:]))


def pin_tree(pid: int, cores: frozenset[int]) -> None:
    """Move a running process and all its descendants onto `cores`."""
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            proc.cpu_affinity(sorted(cores))
    except psutil.Error:
        pass


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MiB."""
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return round(total / (1024 * 1024), 1)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its descendants have used so far.

    Per request, this is the measure that a busy or shared machine disturbs
    least: time the process waited for a core (another job, a neighbour's
    steal) is in wall-clock RPS but not in its CPU time."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def http_get(port: int, path: str, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


@dataclass
class Service:
    """A started child process; use as a context manager to stop it."""

    name: str
    argv: Sequence[str]
    log_path: Path
    cores: frozenset[int]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> Self:
        """Start pinned: `taskset -c CORES argv` execs argv, so the pid is argv's."""
        taskset = shutil.which("taskset")
        if not taskset:
            raise ServiceError("taskset (util-linux) is not installed")
        cores = ",".join(str(core) for core in sorted(self.cores))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [taskset, "-c", cores, *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ServiceError(f"{self.name} was not started")
        return self.proc.pid

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ServiceError(
                f"{self.name} exited with {self.proc.returncode}; last lines of {self.log_path}:\n{self.log_tail()}"
            )

    def wait_http(self, port: int, path: str, timeout: float = 60.0) -> None:
        """Wait until GET `path` on `port` answers 200; stop the service if not."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        try:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    status = http_get(port, path)
                    if status == 200:
                        return
                    last = f"HTTP {status}"
                except OSError as exc:
                    last = str(exc) or type(exc).__name__
                time.sleep(0.1)
        except ServiceError:
            self.stop()
            raise
        self.stop()
        raise ServiceError(
            f"{self.name}: GET {path} on port {port} not 200 after {timeout:.0f}s ({last}); "
            f"last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout)

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)  # the group this child leads
        except ProcessLookupError:
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ChildServers:
    """Servers in a child process: `python -m MODULE SPEC_JSON` prints one JSON line
    {"urls": [...]} once they serve, and runs until its stdin closes."""

    def __init__(self, module: str, spec: dict[str, Any], cwd: str | os.PathLike[str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", module, json.dumps(spec)],
                                     cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise RuntimeError(f"{module} exited ({self.proc.returncode}) before serving")
        self.urls: list[str] = json.loads(line)["urls"]

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ChildServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
