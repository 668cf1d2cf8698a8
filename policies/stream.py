"""Output policies over a server-sent-event stream.

Events arrive whole and `\n`-framed (gateway/sse.py frames the upstream's
stream before anything reads it). Each SSE chunk's choices are passed through
their `StreamFilter` (one per choice index): released text replaces the
delta's content, and a block ends the stream with `finish_reason:
"content_filter"` and `[DONE]`.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway import sse
from policies import refusal
from policies.decisions import Blocked
from policies.outbound import OutputPolicies, StreamFilter


class StreamPolicies:
    """Output policies over SSE events: each choice's text through its StreamFilter."""

    def __init__(self, output: OutputPolicies, chat: bool) -> None:
        self.output = output
        self.chat = chat
        self.filters: dict[int, StreamFilter] = {}
        self.last: dict[str, Any] = {}

    async def process(self, events: bytes) -> tuple[bytes, bool]:
        """(bytes to send, stop?) for complete events; stop after a block."""
        out: list[bytes] = []
        for event in sse.events(events):
            data = sse.data_of(event)
            if data == b"[DONE]":
                out.append(await self.close())
                out.append(b"data: [DONE]\n\n")
                continue
            try:
                chunk = orjson.loads(data) if data is not None else None
            except orjson.JSONDecodeError:
                chunk = None
            if not isinstance(chunk, dict) or not chunk.get("choices"):
                out.append(event + sse.SEPARATOR)
                continue
            try:
                await self._filter(chunk)
            except Blocked as blocked:
                out.append(refusal.stream_cut(self.last, self.chat, blocked))
                self._report()
                return b"".join(out), True
            out.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
        return b"".join(out), False

    async def _filter(self, chunk: dict[str, Any]) -> None:
        self.last = chunk
        for choice in chunk["choices"]:
            index = choice.get("index", 0)
            holder, key = (choice.setdefault("delta", {}), "content") if self.chat else (choice, "text")
            if holder is None:  # "delta": null
                holder = choice["delta"] = {}
            flt = self.filters.get(index)
            if flt is None:
                flt = self.filters[index] = self.output.stream()
            released = await flt.feed(holder.get(key) or "") if holder.get(key) else ""
            if choice.get("finish_reason"):
                released += await flt.finish()
                flt.report()
            if key in holder or released:
                holder[key] = released

    async def close(self) -> bytes:
        """Release what is still held (the stream ended without finish_reason)."""
        out = []
        for index, flt in self.filters.items():
            if not flt.pending and flt.judged_any:
                continue
            try:
                text = await flt.finish()
            except Blocked as blocked:
                return refusal.stream_cut(self.last, self.chat, blocked)
            flt.report()
            if text:
                out.append(refusal.text_chunk(self.last, self.chat, index, text))
        self.filters.clear()
        return b"".join(out)

    def _report(self) -> None:
        for flt in self.filters.values():
            flt.report()
