"""How a dataflow call reads the gateway's own streamed reply (gateway/internal.py)."""

from __future__ import annotations

import orjson

from gateway.internal import _StreamReader


def _chunk(text: str) -> bytes:
    return orjson.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


async def test_events_with_an_id_line_still_deliver_their_text() -> None:
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    reader = _StreamReader(on_delta)
    await reader.send({"type": "http.response.start", "status": 200, "headers": []})
    body = b"id: 1\ndata: " + _chunk("Par") + b"\n\nevent: message\ndata: " + _chunk("is") + b"\n\ndata: [DONE]\n\n"
    await reader.send({"type": "http.response.body", "body": body, "more_body": False})
    assert reader.result() == "Paris"
    assert deltas == ["Paris"]


async def test_an_event_cut_across_body_messages_is_joined() -> None:
    async def on_delta(text: str) -> None:
        pass

    reader = _StreamReader(on_delta)
    await reader.send({"type": "http.response.start", "status": 200, "headers": []})
    whole = b"data: " + _chunk("Paris") + b"\n\ndata: [DONE]\n\n"
    for cut in (whole[:9], whole[9:40], whole[40:]):
        await reader.send({"type": "http.response.body", "body": cut, "more_body": True})
    assert reader.result() == "Paris"
