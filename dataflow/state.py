"""A session's shared state in the store: what any gateway replica can read.

The replica that accepted a graph runs it and keeps its structure in memory;
what other replicas need in order to answer for the session goes through the
store: the session record (ownership by tenant, the owner replica's id), one
record per variable (status, value, error), an event stream per variable
(token deltas, then the final record), and the owner's inbox: a stream of
fetch requests ("demands", since fetching is what starts lazy work) and of
changes forwarded by other replicas (dataflow/remote.py), each answered on a
reply stream of its own (`:r:{rid}`), claimed first (`:c:{rid}`), with a
large body kept beside it (`:q:{rid}`).

Keys are `df:{tenant}:{session}...`: a tenant's keys can only be named by a
request authenticated as that tenant, which is what isolates tenants.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from dataflow.graph import FINAL, Perf, Variable, VarStatus
from gateway.store import Store

INLINE_ARGS = 8192  # a forwarded change's body up to this many bytes travels in the inbox itself
# A failure or a cancellation may end thousands of variables at once; their
# records are written (and a deleted session's keys removed) this many at a
# time, letting the event loop run in between, so other requests never wait
# for the whole batch (an in-process store never yields by itself).
PUT_SLICE = 64
DROP_SLICE = 512


def variable_record(var: Variable) -> dict[str, Any]:
    record: dict[str, Any] = {"id": var.id, "status": var.status.value}
    if var.status is VarStatus.READY:
        record["value"] = var.value
    elif var.error is not None:
        record["error"] = var.error
    return record


def is_final(record: dict[str, Any]) -> bool:
    return record.get("status") in FINAL


def inbox_item(raw: bytes) -> tuple[str, Perf] | dict[str, Any]:
    """An inbox entry: (var_id, perf) for a demand, {"rid", "op", "args"?} for a change."""
    data = orjson.loads(raw)
    return data if isinstance(data, dict) else (data[0], Perf(data[1]))


class SessionState:
    __slots__ = ("store", "prefix", "ttl_s")

    def __init__(self, store: Store, tenant: str, session_id: str, ttl_s: float) -> None:
        self.store = store
        self.prefix = f"df:{tenant}:{session_id}"
        self.ttl_s = ttl_s

    def _var(self, var_id: str) -> str:
        return f"{self.prefix}:v:{var_id}"

    def _events(self, var_id: str) -> str:
        return f"{self.prefix}:e:{var_id}"

    def _final(self, var_id: str) -> str:
        # The final record alone, for fetches: they should not wake for every token.
        return f"{self.prefix}:f:{var_id}"

    @property
    def _inbox(self) -> str:
        return f"{self.prefix}:demand"  # named when it carried demands only; kept for mixed-version fleets

    @property
    def inbox_key(self) -> str:
        """The inbox stream, for a reader of many sessions' inboxes at once (`Store.read_many`)."""
        return self._inbox

    # ---- the session ---------------------------------------------------------

    async def create(self, record: dict[str, Any]) -> None:
        await self.store.set(self.prefix, orjson.dumps(record), ttl_s=self.ttl_s)

    async def record(self) -> dict[str, Any] | None:
        raw = await self.store.get(self.prefix)
        return None if raw is None else orjson.loads(raw)

    async def touch(self) -> None:
        await self.store.expire(self.prefix, self.ttl_s)

    async def drop(self, var_ids: list[str]) -> None:
        await self.store.delete(self.prefix, self._inbox)
        for start in range(0, len(var_ids), DROP_SLICE // 3):
            keys = []
            for var_id in var_ids[start:start + DROP_SLICE // 3]:
                keys += [self._var(var_id), self._events(var_id), self._final(var_id)]
            await self.store.delete(*keys)
            await asyncio.sleep(0)

    # ---- variables -------------------------------------------------------------

    async def put(self, variables: list[Variable]) -> None:
        if len(variables) <= PUT_SLICE:
            await self._put(variables)
            return
        for start in range(0, len(variables), PUT_SLICE):
            await self._put(variables[start:start + PUT_SLICE])
            await asyncio.sleep(0)

    async def _put(self, variables: list[Variable]) -> None:
        records = {self._var(var.id): orjson.dumps(variable_record(var)) for var in variables}
        await self.store.set_many(records, ttl_s=self.ttl_s)
        for var in variables:
            if var.status in FINAL:
                record = records[self._var(var.id)]
                await self.store.append(self._events(var.id), record, ttl_s=self.ttl_s)
                await self.store.append(self._final(var.id), record, ttl_s=self.ttl_s)

    async def variable(self, var_id: str) -> dict[str, Any] | None:
        raw = await self.store.get(self._var(var_id))
        return None if raw is None else orjson.loads(raw)

    async def delta(self, var_id: str, text: str) -> None:
        await self.store.append(self._events(var_id), orjson.dumps({"delta": text}), ttl_s=self.ttl_s)

    async def events(
        self, var_id: str, after: str | None, wait_s: float, *, final_only: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        """Token deltas then the final record; with final_only, just the final record."""
        key = self._final(var_id) if final_only else self._events(var_id)
        items = await self.store.read(key, after, wait_s=wait_s)
        return [(cursor, orjson.loads(item)) for cursor, item in items]

    # ---- the owner's inbox: fetch requests and forwarded changes -------------------

    async def demand(self, var_id: str, perf: Perf) -> None:
        await self.store.append(self._inbox, orjson.dumps([var_id, perf.value]), ttl_s=self.ttl_s)

    async def command(self, rid: str, op: str, args: bytes, *, ttl_s: float) -> None:
        """Queue a change for the owner; a large body waits beside the inbox, which nothing trims."""
        if len(args) <= INLINE_ARGS:
            item = b'{"rid":%s,"op":%s,"args":%s}' % (orjson.dumps(rid), orjson.dumps(op), args)
        else:
            await self.store.set(f"{self.prefix}:q:{rid}", args, ttl_s=ttl_s)
            item = orjson.dumps({"rid": rid, "op": op})
        await self.store.append(self._inbox, item, ttl_s=self.ttl_s)

    async def command_args(self, rid: str) -> bytes | None:
        key = f"{self.prefix}:q:{rid}"
        raw = await self.store.get(key)
        if raw is not None:
            await self.store.delete(key)
        return raw

    async def claim(self, rid: str, who: bytes, *, ttl_s: float) -> bool:
        """Owner (to apply) and forwarder (to give up) race for a change; exactly one wins."""
        return await self.store.set(f"{self.prefix}:c:{rid}", who, ttl_s=ttl_s, only_new=True)

    async def answer(self, rid: str, reply: bytes, *, ttl_s: float) -> None:
        await self.store.append(f"{self.prefix}:r:{rid}", reply, ttl_s=ttl_s)

    async def answered(self, rid: str, wait_s: float) -> bytes | None:
        items = await self.store.read(f"{self.prefix}:r:{rid}", None, wait_s=wait_s)
        return items[0][1] if items else None
