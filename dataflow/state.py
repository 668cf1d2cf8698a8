"""A session's shared state in the store: what any gateway replica can read.

The replica that accepted a graph runs it and keeps its structure in memory;
what other replicas need in order to answer for the session goes through the
store: the session record (ownership by tenant), one record per variable
(status, value, error), an event stream per variable (token deltas, then the
final record), and a stream of fetch requests ("demands") for the owner,
since fetching is what starts lazy work.

Keys are `df:{tenant}:{session}...`: a tenant's keys can only be named by a
request authenticated as that tenant, which is what isolates tenants.
"""

from __future__ import annotations

from typing import Any

import orjson

from dataflow.graph import FINAL, Perf, Variable, VarStatus
from gateway.store import Store


def variable_record(var: Variable) -> dict[str, Any]:
    record: dict[str, Any] = {"id": var.id, "status": var.status.value}
    if var.status is VarStatus.READY:
        record["value"] = var.value
    elif var.error is not None:
        record["error"] = var.error
    return record


def is_final(record: dict[str, Any]) -> bool:
    return record.get("status") in FINAL


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
    def _demands(self) -> str:
        return f"{self.prefix}:demand"

    # ---- the session ---------------------------------------------------------

    async def create(self, record: dict[str, Any]) -> None:
        await self.store.set(self.prefix, orjson.dumps(record), ttl_s=self.ttl_s)

    async def record(self) -> dict[str, Any] | None:
        raw = await self.store.get(self.prefix)
        return None if raw is None else orjson.loads(raw)

    async def touch(self) -> None:
        await self.store.expire(self.prefix, self.ttl_s)

    async def drop(self, var_ids: list[str]) -> None:
        keys = [self.prefix, self._demands]
        for var_id in var_ids:
            keys += [self._var(var_id), self._events(var_id), self._final(var_id)]
        await self.store.delete(*keys)

    # ---- variables -------------------------------------------------------------

    async def put(self, variables: list[Variable]) -> None:
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

    # ---- fetch requests for the owner --------------------------------------------

    async def demand(self, var_id: str, perf: Perf) -> None:
        await self.store.append(self._demands, orjson.dumps([var_id, perf.value]), ttl_s=self.ttl_s)

    async def demands(self, after: str | None, wait_s: float) -> list[tuple[str, tuple[str, Perf]]]:
        items = await self.store.read(self._demands, after, wait_s=wait_s)
        out = []
        for cursor, item in items:
            var_id, perf = orjson.loads(item)
            out.append((cursor, (var_id, Perf(perf))))
        return out
