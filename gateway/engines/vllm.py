"""A real vLLM OpenAI server run as a supervised child process.

The gateway starts `<python> -m vllm.entrypoints.openai.api_server` on a free
local port, waits for `GET /health` to answer 200, restarts the server with
backoff when it dies, and stops the whole process tree on shutdown. vLLM pins
its own torch/transformers, so it runs from its own interpreter (a separate
venv, see scripts/setup-vllm.sh) and never from the gateway's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import logging
import math
import os
import re
import shutil
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from gateway.config import VLLMEngineConfig
from gateway.upstream.probe import get_status

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

log = logging.getLogger("semgate.engines.vllm")

HOST = "127.0.0.1"
_OUTPUT_TAIL_LINES = 20
_POLL_INTERVAL_S = 0.5
_PROBE_TIMEOUT_S = 2.0
# A server that stayed up this long before dying counts as a fresh failure,
# not as the next one in a crash loop: its restart budget is refilled.
_STABLE_AFTER_S = 300.0
_MAX_BACKOFF_S = 30.0
# vLLM's errors surface in our log as warnings; the rest of its output stays
# at DEBUG: a CPU start alone logs a dozen advisory warnings (no Triton, no
# tcmalloc, ...), and crashes carry the last lines in their own message.
_ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")


class EngineError(Exception):
    """A managed engine could not be run."""


class EngineStartError(EngineError):
    """A managed engine failed to start or to become ready."""


def _cpu_ranges(cpus: set[int]) -> str:
    """{0, 1, 2, 5} -> "0-2,5", the list syntax VLLM_CPU_OMP_THREADS_BIND takes."""
    parts = []
    for _, run in itertools.groupby(enumerate(sorted(cpus)), lambda pair: pair[1] - pair[0]):
        ids = [cpu for _, cpu in run]
        parts.append(f"{ids[0]}-{ids[-1]}" if len(ids) > 1 else str(ids[0]))
    return ",".join(parts)


def default_env() -> dict[str, str]:
    """Environment defaults for a CPU vLLM; the gateway's own env wins over them."""
    return {
        # Nothing may be downloaded at run time: the model is a local directory.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        # vLLM's "auto" binding keeps one physical core per NUMA node for
        # itself (and uses one SMT sibling per core); on a small box that
        # halves throughput. Bind OpenMP to every CPU we may run on instead.
        "VLLM_CPU_OMP_THREADS_BIND": _cpu_ranges(os.sched_getaffinity(0)),
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
        # KV cache size in GiB; vLLM's default (4 GiB) is much for a laptop.
        "VLLM_CPU_KVCACHE_SPACE": "1",
        # Unbuffered output, so the last lines before a crash reach our log.
        "PYTHONUNBUFFERED": "1",
    }


def free_port(preferred: int | None = None) -> int:
    """`preferred` if it can be bound right now, else a port the OS picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # As uvicorn does: the last server's TIME_WAIT connections must
            # not make its own port look taken.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise EngineError("no free TCP port")  # pragma: no cover - bind(0) fails only when out of ports


async def http_status(port: int, path: str = "/health", timeout: float = _PROBE_TIMEOUT_S) -> int | None:
    """Status code of `GET path` on the local port, or None if nothing answers."""
    return await get_status(HOST, port, path, timeout=timeout)


class ManagedVLLM:
    """One vLLM server for one served model name, kept alive until `stop()`."""

    def __init__(
        self,
        served_name: str,
        cfg: VLLMEngineConfig,
        *,
        cwd: Path | None = None,
        restart_backoff_s: float = 1.0,
        stop_grace_s: float = 15.0,
    ) -> None:
        self.served_name = served_name
        self.cfg = cfg
        self.cwd = (cwd or Path.cwd()).resolve()
        self.restart_backoff_s = restart_backoff_s
        self.stop_grace_s = stop_grace_s
        self.restarts = 0
        self._port: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._tail: deque[str] = deque(maxlen=_OUTPUT_TAIL_LINES)
        self._ready = False
        self._ready_at = 0.0
        self._stopping = False
        self._log = log.getChild(re.sub(r"[^\w-]", "_", served_name))

    # -- public API ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise EngineError(f"vLLM for {self.served_name!r} is not started")
        return f"http://{HOST}:{self._port}/v1"

    @property
    def healthy(self) -> bool:
        """Ready and still running (the gateway's health probes do the rest)."""
        return self._ready and self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:  # of the API server; its process group has the same id
        return self._proc.pid if self._proc is not None else None

    def command(self) -> list[str]:
        """The command line, with paths resolved; raises EngineStartError if one is missing."""
        return [
            *(self._python(), "-m", "vllm.entrypoints.openai.api_server"),
            *("--model", self._model(), "--served-model-name", self.served_name),
            *("--host", HOST, "--port", str(self._port or 0)),
            *self.cfg.args,
        ]

    async def start(self) -> str:
        """Launch vLLM and return its base URL once `/health` answers 200."""
        if self._watch is not None:
            return self.base_url
        self._stopping = False
        self.restarts = 0
        self.command()  # fail fast on a missing python or model, before any port is taken
        t0 = time.monotonic()
        try:
            await self._launch()
        except BaseException:
            await self._kill_tree()
            raise
        self._log.info("vLLM %r ready at %s in %.1f s", self.served_name, self.base_url, time.monotonic() - t0)
        self._watch = asyncio.create_task(self._supervise(), name=f"vllm-watch-{self.served_name}")
        return self.base_url

    async def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL whatever outlives the grace period."""
        self._stopping = True
        self._ready = False
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._kill_tree()

    # -- paths and environment ----------------------------------------------

    def _python(self) -> str:
        python = self.cfg.python
        if os.sep not in python:  # a bare name such as "python3" is looked up on PATH
            found = shutil.which(python)
            if found is None:
                raise EngineStartError(f"vLLM python {python!r} is not on PATH")
            return found
        path = self.cwd / Path(python).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise EngineStartError(f"vLLM python {str(path)!r} does not exist or is not executable; "
                                   "run scripts/setup-vllm.sh or set vllm.python")
        # Not resolve(): a venv's bin/python is a symlink whose location matters.
        return str(path)

    def _model(self) -> str:
        model = self.cfg.model
        path = self.cwd / Path(model).expanduser()
        if path.exists():
            return str(path.resolve())
        # "org/name" is a Hugging Face repo id, served from the local HF cache
        # (downloads are off by default); anything else was meant as a path.
        if re.fullmatch(r"[\w.-]+/[\w.-]+", model) and not model.startswith("."):
            return model
        raise EngineStartError(f"vLLM model path {str(path)!r} does not exist; run scripts/setup-vllm.sh")

    def _env(self) -> dict[str, str]:
        return {**default_env(), **os.environ, **self.cfg.env}

    # -- process lifecycle --------------------------------------------------

    async def _launch(self) -> None:
        """Start the process and wait until it is ready (or fails, or times out)."""
        self._ready = False
        self._port = free_port(self._port)
        argv = self.command()
        self._tail.clear()
        self._log.info("starting: %s", " ".join(argv))
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.cwd,
                env=self._env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # Own session and process group: vLLM forks an engine-core and
                # worker processes, and stop() must reach all of them.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise EngineStartError(f"cannot run {argv[0]!r}: {exc}") from exc
        self._pump = asyncio.create_task(self._pump_output(self._proc), name=f"vllm-log-{self.served_name}")
        await self._wait_ready(self._proc, self._port)
        self._ready = True
        self._ready_at = time.monotonic()

    async def _wait_ready(self, proc: asyncio.subprocess.Process, port: int) -> None:
        deadline = time.monotonic() + self.cfg.startup_timeout_s
        # Waiting on the exit as well as sleeping reports a crash at once.
        exited = asyncio.ensure_future(_exit_code(proc))
        try:
            while True:
                if exited.done():
                    await self._drain_output()
                    raise EngineStartError(
                        f"vLLM for {self.served_name!r} exited with code {proc.returncode} during start-up; "
                        f"last output:\n{self._tail_text()}"
                    )
                if await http_status(port) == 200:
                    return
                if time.monotonic() >= deadline:
                    raise EngineStartError(
                        f"vLLM for {self.served_name!r} was not ready after {self.cfg.startup_timeout_s:g} s "
                        f"(vllm.startup_timeout_s); last output:\n{self._tail_text()}"
                    )
                await asyncio.wait({exited}, timeout=_POLL_INTERVAL_S)
        finally:
            exited.cancel()

    async def _supervise(self) -> None:
        """Restart the server whenever it dies, until stop() or max_restarts."""
        while True:
            # None: a failed restart already cleaned up; go straight to the next.
            code = await _exit_code(self._proc) if self._proc is not None else None
            self._ready = False
            if self._stopping:
                return
            if self._ready_at and time.monotonic() - self._ready_at > _STABLE_AFTER_S:
                self.restarts = 0
            self._ready_at = 0.0
            await self._kill_tree()  # engine-core and workers may outlive the API server
            self._log.warning("vLLM for %r exited with code %s; last output:\n%s", self.served_name, code, self._tail_text())
            if self.restarts >= self.cfg.max_restarts:
                self._log.error("vLLM for %r: giving up after %d restarts", self.served_name, self.restarts)
                return
            self.restarts += 1
            delay = min(self.restart_backoff_s * 2 ** (self.restarts - 1), _MAX_BACKOFF_S)
            self._log.warning("restarting in %.1f s (restart %d of %d)", delay, self.restarts, self.cfg.max_restarts)
            await asyncio.sleep(delay)
            try:
                await self._launch()
            except EngineError as exc:
                self._log.error("%s", exc)
                await self._kill_tree()  # then the loop sees the exit and tries again
            else:
                self._log.info("vLLM for %r is back at %s", self.served_name, self.base_url)

    async def _kill_tree(self) -> None:
        proc = self._proc
        if proc is None:
            return
        pgid = proc.pid  # start_new_session made the child its group's leader
        deadline = time.monotonic() + self.stop_grace_s
        if proc.returncode is None:
            # The API server first: it shuts its engine core down in order,
            # while a group-wide SIGTERM kills the core under it (a traceback).
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            await _wait_until(lambda: proc.returncode is not None, deadline)
        # Then whatever is left: a crashed server's children, or a server that ignored SIGTERM.
        if _signal_group(pgid, signal.SIGTERM):
            await _wait_until(lambda: not _signal_group(pgid, 0), max(deadline, time.monotonic() + 1.0))
            if _signal_group(pgid, signal.SIGKILL):
                self._log.warning("vLLM for %r outlived SIGTERM; killed", self.served_name)
        try:
            # Reap the leader (no zombie) and let the pipe close; a process that
            # left our group could hold the pipe: don't hang on it.
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            self._log.warning("vLLM for %r: a process outside its group still holds its output", self.served_name)
        await self._drain_output()
        # The group is gone and its id may be reused: never signal it again.
        self._proc = None

    # -- output -------------------------------------------------------------

    async def _pump_output(self, proc: asyncio.subprocess.Process) -> None:
        """Forward the child's output to our log, keeping the last lines for errors.

        Reads chunks rather than lines: vLLM's progress bars use bare CR and a
        "line" can be longer than StreamReader's limit.
        """
        assert proc.stdout is not None
        pending = b""
        while chunk := await proc.stdout.read(65536):
            *lines, pending = re.split(rb"\r\n|\r|\n", pending + chunk)
            for raw in lines:
                self._emit(raw)
        if pending:
            self._emit(pending)

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip()
        if not line:
            return
        self._tail.append(line)
        # While we stop it, vLLM reports its own shutdown as errors
        # (EngineDeadError from the output handler): not news, keep them quiet.
        loud = not self._stopping and _ERROR_LINE.search(line)
        self._log.log(logging.WARNING if loud else logging.DEBUG, "%s", line)

    async def _drain_output(self) -> None:
        # EOF comes once all holders of the pipe are gone: don't wait forever.
        if self._pump is not None:
            await asyncio.wait({self._pump}, timeout=2.0)

    def _tail_text(self) -> str:
        return "\n".join(f"  | {line}" for line in self._tail) or "  (no output)"


async def _wait_until(condition: Callable[[], bool], deadline: float = math.inf) -> None:
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the gateway dies.

    The child has its own session, so a gateway killed with SIGKILL would
    otherwise leave vLLM running, holding its port and memory. On SIGTERM
    vLLM shuts its engine-core down itself. Linux only; a no-op elsewhere.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def _exit_code(proc: asyncio.subprocess.Process) -> int | None:
    # Not proc.wait(): that also waits for EOF on the output pipe, which vLLM's
    # engine-core (a grandchild that inherits it) holds open after a crash.
    await _wait_until(lambda: proc.returncode is not None)
    return proc.returncode


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc.

    killpg(pgid, 0) would count zombies too: an orphaned engine-core that
    died on SIGTERM stays one until init reaps it, which can take seconds.
    """
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "(comm)"
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members.append(int(stat.parent.name))
    return members


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the process group; False once it has no live member."""
    if os.path.isdir("/proc") and not group_members(pgid):
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):  # EPERM: only zombies left (macOS)
        return False
    return True
