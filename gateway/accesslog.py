"""The access log: one line per proxied request, written off the event loop.

`logging` cost 38 % of the throughput here: per request it built a
LogRecord, QueueHandler.prepare formatted and copied it, and each record
woke the listener thread, which then took the GIL and the core from the
event loop to format the time and write one line. This module does the
least the request path can do: format one line (bytes, the timestamp's
second cached) and append it to a deque. A writer thread wakes every
FLUSH_INTERVAL_S, takes everything pending and writes it with os.write in
chunks of whole lines, so there is no per-line hand-off and no I/O on the
loop.

Line format (stable; fields separated by one space, values never contain
spaces, `-` when unknown):

    2026-12-08T03:10:02.123Z INFO semgate.access: rid=5f0c2e endpoint=chat model=fast served=fast status=200 ms=1.2 tenant=- client=127.0.0.1

`rid` is the request's x-request-id, `model` the public name the client
asked for (`-` if it named none that exists), `served` the model that
answered (another one after a fallback or a route's choice), `ms` the time
from the request to the reply's last byte, which is also when the line is
stamped (UTC). Nothing the client sent besides these appears: no keys, no
prompts.

Bounded: at most `max_pending` lines wait for the writer. When the
destination does not keep up (a blocked stderr pipe), further lines are
dropped, counted (`semgate_access_log_dropped_total`), and the log itself
says how many once it can write again. Drops are never silent.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import select
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gateway.exchange import Exchange

log = logging.getLogger("semgate.access")

FLUSH_INTERVAL_S = 0.05
JOIN_TIMEOUT_S = 5.0
REOPEN_RETRY_S = 1.0
# A regular file opened with O_APPEND keeps each write() whole; a pipe or
# terminal only keeps writes of up to PIPE_BUF bytes whole, so with
# `--workers N` sharing one stderr pipe, chunks stay below that.
FILE_CHUNK = 64 * 1024
PIPE_CHUNK = getattr(select, "PIPE_BUF", 4096)
# Shared with the stderr handler of `logging` (gateway/cli.py setup_logging):
# an access-log chunk and a log record never interleave mid-line.
STDERR_LOCK = threading.RLock()

Destination = bool | str


class AccessLog:
    """Formats lines on the request path; a daemon thread writes them in batches."""

    def __init__(self, path: str | None, max_pending: int, on_drop: Callable[[int], None]) -> None:
        self.path = path  # None: stderr
        self.max_pending = max_pending
        self._on_drop = on_drop
        self._pending: collections.deque[bytes] = collections.deque()
        self.dropped = 0  # lines not kept: written by the event loop's thread only
        self.lost = 0  # lines the destination refused (an error writing): the writer thread's
        self._reported = 0
        self._second = -1
        self._stamp = b""
        self._fd = -1
        self._chunk = PIPE_CHUNK
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._flushing = threading.Lock()
        self._retry_at = 0.0
        if path is not None:  # a path that cannot be opened fails at start, not at the first request
            try:
                os.close(_open_append(path))
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # a FIFO whose reader is not there yet may come later
                    raise

    @classmethod
    def configured(cls, destination: Destination, max_pending: int, on_drop: Callable[[int], None]) -> AccessLog | None:
        """`server.access_log`: true (stderr), false (none), or a file path."""
        if destination is False:
            return None
        return cls(None if destination is True else destination, max_pending, on_drop)

    # --- the request path ---------------------------------------------------

    def request(self, exchange: Exchange, endpoint: str, model: str, status: int, seconds: float) -> None:
        """Queue one request's line; never blocks, never raises."""
        pending = self._pending
        if len(pending) >= self.max_pending:
            self.dropped += 1
            self._on_drop(1)
            return
        if self._thread is None and not self.start():
            self.dropped += 1
            self._on_drop(1)
            return
        now = time.time()
        second = int(now)
        if second != self._second:  # one strftime per second, not per line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
        scope = exchange.scope
        client = scope.get("client")
        pending.append(b"%s.%03dZ INFO semgate.access: rid=%s endpoint=%s model=%s served=%s status=%d ms=%.1f "
                       b"tenant=%s client=%s\n" % (
                           self._stamp, int((now - second) * 1000), exchange.request_id, endpoint.encode(),
                           model.encode(), _served(exchange), status, seconds * 1000,
                           (scope.get("semgate.tenant") or "-").encode(), client[0].encode() if client else b"-",
                       ))

    # --- the writer -----------------------------------------------------------

    def start(self) -> bool:
        """Open the destination and start the writer (the first line does this by itself).

        False if the file cannot be opened (removed folder, permissions): lines are dropped and counted.
        """
        if self._thread is not None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            self._fd = _open_append(self.path) if self.path is not None else _stderr_fd()
        except OSError as exc:
            self._retry_at = time.monotonic() + REOPEN_RETRY_S  # not an open() and an error line per request
            log.error("cannot open the access log %s: %s; lines are dropped and counted", self.path, exc)
            return False
        self._chunk = FILE_CHUNK if _is_file(self._fd) else PIPE_CHUNK
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="semgate-access-log")
        self._thread.start()
        return True

    def close(self) -> None:
        """Write everything pending and stop the writer. A line after this starts it again.

        Blocks (up to JOIN_TIMEOUT_S if the destination is stuck): call it off the event loop.
        """
        thread, fd = self._thread, self._fd
        if thread is None:
            return
        self._stop.set()
        thread.join(JOIN_TIMEOUT_S)  # the thread is a daemon: a stuck destination cannot hold the exit
        if thread.is_alive():
            self._thread = None
            return
        self._flush()  # lines of requests that ended while the writer was stopping
        self._thread = None
        if self.path is not None:
            os.close(fd)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_S):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        with self._flushing:  # close() may flush while a restarted writer does
            if self.path is not None:
                self._follow_rotation(self.path)
            self._flush_pending()

    def _follow_rotation(self, path: str) -> None:
        """logrotate (or a person) moved or removed the file: write to a new one at the path, as configured."""
        try:
            now, ours = os.stat(path), os.fstat(self._fd)
            if (now.st_dev, now.st_ino) == (ours.st_dev, ours.st_ino):
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            fd = _open_append(path)
        except OSError:
            return  # keep writing to the old file rather than lose lines
        os.close(self._fd)
        self._fd = fd

    def _flush_pending(self) -> None:
        pending = self._pending
        count = len(pending)
        if count:
            popleft = pending.popleft
            self._write(b"".join([popleft() for _ in range(count)]))
        missing = self.dropped + self.lost
        if missing != self._reported:  # said once the destination takes lines again
            self._reported = missing
            self._write(b"%s WARNING semgate.access: %d lines dropped so far: the access log's destination did "
                        b"not keep up (max %d pending)\n" % (_utc(time.time()), missing, self.max_pending),
                        count_lost=False)  # not a request's line: losing it must not change the count it reports

    def _write(self, data: bytes, count_lost: bool = True) -> None:
        """Write whole lines, each write() at most one chunk."""
        view, start, size = memoryview(data), 0, len(data)
        while start < size:
            end = size if size - start <= self._chunk else data.rfind(b"\n", start, start + self._chunk) + 1
            if end <= start:  # one line longer than a chunk: it goes alone
                end = data.find(b"\n", start) + 1 or size
            if not self._write_all(view[start:end]):
                if count_lost:
                    lines = data.count(b"\n", start)
                    self.lost += lines
                    self._on_drop(lines)
                return
            start = end

    def _write_all(self, chunk: memoryview) -> bool:
        """False when the destination fails (closed, full disk): those lines are lost, and counted."""
        lock = STDERR_LOCK if self.path is None else None
        while chunk:
            try:
                if lock is None:
                    written = os.write(self._fd, chunk)
                else:
                    with lock:
                        written = os.write(self._fd, chunk)
            except BlockingIOError:  # someone made the fd non-blocking: wait until it takes more
                select.select([], [self._fd], [], 1.0)
                continue
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return False
            chunk = chunk[written:]
        return True


def _utc(now: float) -> bytes:
    return b"%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)).encode(), int(now % 1 * 1000))


def _served(exchange: Exchange) -> bytes:
    for name, value in exchange.reply_headers:
        if name == b"x-semgate-model":
            return value
    return b"-"


def _open_append(path: str) -> int:
    """Opened without blocking: a FIFO with no reader raises (ENXIO) instead of holding the event loop."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    os.set_blocking(fd, True)  # the writer thread may block; the event loop never writes
    return fd


def _stderr_fd() -> int:
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):  # replaced by an object without a descriptor (a test's capture)
        return 2


def _is_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False
