"""uvicorn's server, telling the app that shutdown began before connections drain.

uvicorn stops in this order: stop accepting, wait for every open request to
finish (up to `timeout_graceful_shutdown`, then cancel what is left, with a
traceback each), and only then run the app's lifespan shutdown. A request
that waits by design (a dataflow long-poll, a variable's event stream) would
so hold every exit for the whole grace period and then be cut off. An app
with an `async def drain()` is told first, and answers such requests at once.

SIGTERM is how process managers (systemd, Kubernetes, `docker stop`) ask a
server to stop, so a graceful stop on SIGTERM exits with status 0; uvicorn
itself re-raises the signal after its shutdown, which ends the process as
"killed by SIGTERM" (-15) and skips the CLI's own clean-up.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("semgate.shutdown")


class DrainingServer(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM and sig in self._captured_signals:
            self._captured_signals.remove(sig)  # a requested stop, not a death: not re-raised after shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        drain = _drain_of(self.config.loaded_app)
        if drain is not None:
            try:
                await drain()
            except Exception:  # stopping goes on regardless
                log.exception("draining before shutdown failed")
        await super().shutdown(sockets)


def _drain_of(app: Any) -> Callable[[], Awaitable[None]] | None:
    """The app's drain(), looking through uvicorn's wrappers (each keeps the app it wraps as `.app`)."""
    for _ in range(8):
        if app is None:
            return None
        drain = getattr(app, "drain", None)
        if callable(drain):
            return drain  # type: ignore[no-any-return]
        app = getattr(app, "app", None)
    return None
