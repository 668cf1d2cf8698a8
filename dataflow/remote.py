"""Changes to a session made on a replica that does not run it (shared store only).

Behind a load balancer any replica may receive any request. A session is run
by the replica that created it (its graph lives in that process's memory);
reads are answered from the store anywhere, and a change made elsewhere is
forwarded to the owner through the store:

1. the forwarder appends `{"rid", "op", "args"}` to the session's inbox
   (the stream the owner already watches for fetches) and waits on the reply
   stream `:r:{rid}`;
2. the owner claims the change (`:c:{rid}`, set only if new), applies it
   exactly as a local write (dataflow/writes.py) and appends its answer — the
   result, or the error as status, type, code, message and param;
3. the forwarder returns that answer, or raises the same error.

If no answer comes within `timeout_s`, the forwarder tries to claim the
change itself: winning means the owner never took it and never will, so the
client gets a clean 503 (`session_owner_unavailable`) and nothing was
changed; losing means the owner is applying it right now, so the forwarder
waits a little longer for the answer. A change is thus acknowledged only
after the owner applied it, and never applied after its client was told it
failed.

The owner reads the inboxes of all its sessions with ONE task and one blocking
read (`Store.read_many`: a single XREAD BLOCK over every inbox), woken at once
when a session is added; each session's items are then handled in order by a
short-lived task of its own, so a slow change in one session never holds up
another's. A replica's blocking reads are thus this reader plus the fetches
and forwarded changes waiting for an answer, however many sessions it runs.

Each replica also refreshes a heartbeat key while it runs; the session record
names its owner, so a change (or a fetch of an unfinished variable) for a
session whose replica stopped beating is answered with the 503 at once,
without waiting for the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections import deque
from typing import TYPE_CHECKING, Any

import orjson

from dataflow.errors import NotFound, OwnerUnavailable, Relayed
from dataflow.graph import Perf
from dataflow.state import SessionState, inbox_item
from dataflow.writes import OPERATIONS, Body, Params, apply, decode_body, encode_body
from gateway.errors import GatewayError
from gateway.store import Store, StoreError

if TYPE_CHECKING:
    from dataflow.executor import Executor, Session

log = logging.getLogger("semgate.dataflow")

_RID = re.compile(r"[0-9a-f]{24}")


def _beat_key(replica_id: str) -> str:
    return f"df:replica:{replica_id}"


async def owner_alive(store: Store, replica_id: str | None) -> bool:
    """Whether the replica still beats (True for records written before owners were named)."""
    return replica_id is None or await store.get(_beat_key(replica_id)) is not None


def owner_gone(sid: str) -> OwnerUnavailable:
    return OwnerUnavailable(
        f"the gateway replica that ran session {sid!r} is gone (stopped or unreachable), and the session's "
        "graph with it; values already computed can still be fetched, but the session must be recreated"
    )


class Remote:
    """A session run by another replica, as seen by this one."""

    __slots__ = ("id", "state", "owner")

    def __init__(self, sid: str, state: SessionState, owner: str | None) -> None:
        self.id = sid
        self.state = state
        self.owner = owner


class Forwarding:
    # A live owner applies a change in milliseconds; past this it is taken to be gone.
    timeout_s: float = 5.0
    # After the owner claimed a change: how much longer its answer may take.
    grace_s: float = 10.0
    heartbeat_s: float = 2.0
    heartbeat_ttl_s: float = 10.0  # a few missed beats (a busy event loop) are not a death
    # The inbox reader's one blocking read waits this long before it is sent again
    # (a session added meanwhile interrupts it at once).
    read_wait_s: float = 30.0

    def __init__(self, executor: Executor, store: Store) -> None:
        self.executor = executor
        self.store = store
        self.replica_id = os.urandom(8).hex()
        self._beat: asyncio.Task[None] | None = None
        # The owner's side: one reader for the inboxes of every session run here.
        self.reader: asyncio.Task[None] | None = None
        self._inboxes: dict[str, Session] = {}  # inbox stream -> its session
        self._cursors: dict[str, str | None] = {}  # inbox stream -> the last item read (None: none yet)
        self._joined = asyncio.Event()  # a session was added: read again, with its inbox
        self._queues: dict[str, deque[tuple[str, Perf] | dict[str, Any]]] = {}  # items a session's worker has yet to do
        self._workers: dict[str, asyncio.Task[None]] = {}

    # ---- this replica's heartbeat ------------------------------------------------------

    async def start(self) -> None:
        if self._beat is None:
            await self.store.set(_beat_key(self.replica_id), b"1", ttl_s=self.heartbeat_ttl_s)
            self._beat = asyncio.create_task(self._beat_forever())
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._read_forever())

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.wait({self.reader})
            self.reader = None
        for worker in self._workers.values():
            worker.cancel()
        self._workers.clear()
        self._queues.clear()
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
            with contextlib.suppress(StoreError):
                await self.store.delete(_beat_key(self.replica_id))

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.store.set(_beat_key(self.replica_id), b"1", ttl_s=self.heartbeat_ttl_s)
            except StoreError as exc:
                log.warning("dataflow heartbeat failed: %s", exc)

    # ---- the forwarding side -------------------------------------------------------------

    async def forward(self, remote: Remote, op: str, body: Body | None, params: Params) -> dict[str, Any]:
        """Have the owner apply the change; its answer, or its error raised here."""
        outcome = "error"  # also the session ended meanwhile (404), or the store failed
        try:
            reply = await self._exchange(remote, op, body, params)
            error = reply.get("error")
            outcome = "ok" if error is None else "error"
        except OwnerUnavailable:
            outcome = "unavailable"
            raise
        finally:
            if self.executor.dataflow_metrics is not None:
                self.executor.dataflow_metrics.forwarded(outcome)
        if error is not None:
            raise Relayed(int(error["status"]), str(error["type"]), error.get("code"), str(error["message"]),
                          error.get("param"))
        result: dict[str, Any] = reply["ok"]
        return result

    async def _exchange(self, remote: Remote, op: str, body: Body | None, params: Params) -> dict[str, Any]:
        state, sid = remote.state, remote.id
        if not await owner_alive(self.store, remote.owner):
            raise owner_gone(sid)
        rid = os.urandom(12).hex()
        keep_s = self.timeout_s + self.grace_s + 60
        await state.command(rid, op, orjson.dumps({"body": encode_body(body), "params": params}), ttl_s=keep_s)
        raw = await state.answered(rid, self.timeout_s)
        if raw is None:
            if await state.claim(rid, b"gone", ttl_s=keep_s):
                # The owner never took it and now never will: nothing changed.
                if await state.record() is None:
                    raise NotFound(f"session {sid!r} does not exist")
                raise owner_gone(sid)
            raw = await state.answered(rid, self.grace_s)  # the owner took it: it is being applied
            if raw is None:
                raise OwnerUnavailable(
                    f"the gateway replica running session {sid!r} took the change but did not answer within "
                    f"{self.timeout_s + self.grace_s:g} s; whether it was applied is unknown"
                )
        reply: dict[str, Any] = orjson.loads(raw)
        return reply

    # ---- the owner's side ------------------------------------------------------------------

    def watch(self, session: Session) -> None:
        """Read the session's inbox from now on: fetches and changes made on other replicas."""
        inbox = session.state.inbox_key
        self._inboxes[inbox] = session
        self._cursors[inbox] = None
        self._joined.set()

    def unwatch(self, session: Session) -> None:
        """The session ended: forget its inbox and what was still to do from it."""
        inbox = session.state.inbox_key
        self._inboxes.pop(inbox, None)
        self._cursors.pop(inbox, None)
        self._queues.pop(inbox, None)
        worker = self._workers.pop(inbox, None)
        if worker is not None and worker is not asyncio.current_task():
            worker.cancel()  # (a forwarded delete runs in the worker: it ends by itself)

    async def _read_forever(self) -> None:
        """Every session's inbox, with one blocking read at a time (one store connection)."""
        while True:
            if not self._cursors:
                self._joined.clear()
                await self._joined.wait()
                continue
            self._joined.clear()
            try:
                found = await self._read(dict(self._cursors))
            except StoreError as exc:
                log.warning("reading the sessions' inboxes failed (%s); retrying", exc)
                await asyncio.sleep(1.0)
                continue
            except Exception:  # never let one bad answer stop every session's inbox
                log.exception("reading the sessions' inboxes failed; retrying")
                await asyncio.sleep(1.0)
                continue
            for inbox, items in (found or {}).items():
                session = self._inboxes.get(inbox)
                if session is None or not items:
                    continue  # ended meanwhile
                self._cursors[inbox] = items[-1][0]
                for _, raw in items:
                    try:
                        item = inbox_item(raw)
                    except Exception:
                        log.warning("session %s: ignored a malformed inbox item", session.id)
                        continue
                    try:
                        self._deliver(inbox, session, item)
                    except Exception:  # one session's trouble is not every session's
                        log.exception("session %s: handling an inbox item failed", session.id)

    async def _read(self, cursors: dict[str, str | None]) -> dict[str, list[tuple[str, bytes]]] | None:
        """What the inboxes got; None when a session was added meanwhile (read again, with it)."""
        reading = asyncio.ensure_future(self.store.read_many(cursors, wait_s=self.read_wait_s))
        joined = asyncio.ensure_future(self._joined.wait())
        try:
            await asyncio.wait({reading, joined}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            joined.cancel()
            if not reading.done():
                reading.cancel()  # items it may have had stay unread: the cursors did not move
                await asyncio.wait({reading})  # its connection is back in the pool
            elif not reading.cancelled():
                reading.exception()  # (retrieved: a failure met by our own cancellation is not logged as lost)
        return None if reading.cancelled() else reading.result()

    def _deliver(self, inbox: str, session: Session, item: tuple[str, Perf] | dict[str, Any]) -> None:
        """In inbox order per session: a demand with nothing before it at once, else after the rest."""
        queue = self._queues.get(inbox)
        if queue is None:
            if not isinstance(item, dict):
                self._want(session, item)
                return
            queue = self._queues[inbox] = deque()
            self._workers[inbox] = asyncio.create_task(self._work(inbox, session, queue))
        queue.append(item)

    def _want(self, session: Session, demand: tuple[str, Perf]) -> None:
        if demand[0] in session.graph.variables:
            self.executor.want(session, *demand)

    async def _work(self, inbox: str, session: Session,
                    queue: deque[tuple[str, Perf] | dict[str, Any]]) -> None:
        """One session's forwarded changes (and the demands behind them), one at a time."""
        try:
            while queue and session.key in self.executor.sessions:
                item = queue.popleft()
                if not isinstance(item, dict):
                    self._want(session, item)
                    continue
                try:
                    await self.serve(session, item)
                except StoreError as exc:  # its forwarder will answer 503 (unanswered)
                    log.warning("session %s: a forwarded change failed in the store: %s", session.id, exc)
                except Exception:
                    log.exception("session %s: a forwarded change failed", session.id)
        finally:
            if self._workers.get(inbox) is asyncio.current_task():
                del self._workers[inbox]
                self._queues.pop(inbox, None)

    async def serve(self, session: Session, command: dict[str, Any]) -> None:
        """Apply one forwarded change to a session this replica runs, and answer it."""
        rid, op = command.get("rid"), command.get("op")
        if not isinstance(rid, str) or not _RID.fullmatch(rid) or op not in OPERATIONS:
            log.warning("session %s: ignored a malformed forwarded change", session.id)
            return
        state = session.state
        keep_s = self.timeout_s + self.grace_s + 60
        if not await state.claim(rid, b"owner", ttl_s=keep_s):
            return  # its forwarder gave up on it (and told its client so)
        try:
            args = command.get("args")
            if args is None:
                raw = await state.command_args(rid)
                if raw is None:
                    raise GatewayError("the forwarded change expired before the session's replica read it")
                args = orjson.loads(raw)
            params = args.get("params") or {}
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
                raise GatewayError("a forwarded change carried malformed parameters")
            reply: dict[str, Any] = {"ok": await apply(self.executor, session, op, decode_body(op, args.get("body")),
                                                       params)}
        except GatewayError as exc:
            reply = {"error": {"status": exc.status, "type": exc.type, "code": exc.code, "message": exc.message,
                               "param": exc.param}}
        except Exception:
            log.exception("session %s: forwarded %s failed", session.id, op)
            reply = {"error": {"status": 500, "type": "internal_error", "code": "internal_error",
                               "message": "internal gateway error; see the gateway log", "param": None}}
        await state.answer(rid, orjson.dumps(reply), ttl_s=keep_s)
