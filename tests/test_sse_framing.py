"""SSE framing: events end with any of the spec's line endings (`\\n`, `\\r\\n`, bare `\\r`), go to
the client one by one, and are bounded by `server.max_event_bytes`; a JSON answer to a stream
request is replayed as the stream the client asked for."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from gateway.assemble import StreamAssembler
from gateway.errors import UpstreamEventTooLarge
from gateway.sse import EventFramer, data_of, events
from gateway.streaming import SSEUsageTap
from tests import support
from tests.support import BackgroundLoop, PeerRequest, RunningGateway, ScriptedUpstream

MiB = 1 << 20
ENDINGS = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}


def chunk(**choice: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "logprobs": None, "finish_reason": None, **choice}]}


EVENTS = [
    chunk(delta={"role": "assistant", "content": ""}),
    chunk(delta={"content": "Hel"}),
    chunk(delta={"content": "lo, "}),
    chunk(delta={"content": "world"}),
    chunk(delta={}, finish_reason="stop"),
    {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [],
     "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
]


def framed(nl: bytes) -> list[bytes]:
    """The stream's events, each with an id line, framed with `nl` line endings."""
    out = [b"id: %d%sdata: %s%s%s" % (i, nl, orjson.dumps(e), nl, nl) for i, e in enumerate(EVENTS)]
    return [*out, b"data: [DONE]" + nl + nl]


# --- the framer itself ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_line_ending_frames_the_same_events_however_the_bytes_are_cut(ending: str) -> None:
    stream = b"".join(framed(ENDINGS[ending]))
    want = b"".join(framed(b"\n"))
    rng = random.Random(ending)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(1, 30)))
        framer, out, start = EventFramer(MiB), [], 0
        for end in [*cuts, len(stream)]:
            out.append(framer.feed(stream[start:end]))
            start = end
            # Everything whose empty line has arrived is out, nothing more.
            assert b"".join(out) == _complete_events(stream[:end])
        assert b"".join(out) == want and framer.flush() == b""


def _complete_events(prefix: bytes) -> bytes:
    """The events a spec parser has dispatched after `prefix` (a reference implementation)."""
    text = prefix.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    end = text.rfind(b"\n\n")
    return text[: end + 2] if end >= 0 else b""


def test_mixed_line_endings_in_one_stream_are_framed() -> None:
    framer = EventFramer(MiB)
    assert framer.feed(b"data: 1\r\n\ndata: 2\n\r\ndata: 3\r\r") == b"data: 1\n\ndata: 2\n\ndata: 3\n\n"
    assert framer.feed(b"\ndata: 4\n\n") == b"data: 4\n\n"  # that \n finished the \r before it


def test_a_common_stream_passes_through_as_the_same_bytes() -> None:
    framer = EventFramer(MiB)
    chunk_ = b"data: {}\n\n"
    assert framer.feed(chunk_) is chunk_  # no copy on the hot path


def test_an_event_that_never_ends_is_refused_once_it_exceeds_the_limit() -> None:
    framer = EventFramer(64 * 1024)
    with pytest.raises(UpstreamEventTooLarge):
        for _ in range(100):  # garbage without separators, 4 KiB at a time
            framer.feed(b"x" * 4096)
    assert framer.flush() == b""  # nothing kept


def test_an_event_over_the_limit_is_refused_even_when_it_ends() -> None:
    framer = EventFramer(64 * 1024)
    framer.feed(b"data: " + b"x" * 60_000)
    with pytest.raises(UpstreamEventTooLarge):
        framer.feed(b"x" * 10_000 + b"\n\ndata: small\n\n")


def test_events_split_only_complete_events() -> None:
    assert events(b"data: 1\n\n\n\ndata: 2\n\n") == [b"data: 1", b"data: 2"]


def test_the_usage_tap_reads_and_strips_usage_from_a_crlf_stream() -> None:
    tap = SSEUsageTap(strip_usage=True)
    out = b"".join(tap.feed(part) for part in framed(b"\r\n")) + tap.flush()
    assert tap.usage == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert b'"usage"' not in out and out.endswith(b"data: [DONE]\n\n") and b"\r" not in out


def test_the_assembler_puts_a_cr_framed_stream_back_together() -> None:
    tap = SSEUsageTap(strip_usage=False)
    assembler = StreamAssembler(MiB)
    for part in framed(b"\r"):
        assembler.feed(tap.feed(part))
    answer = assembler.answer(True, tap.usage)
    assert answer is not None and answer["choices"][0]["message"]["content"] == "Hello, world"


# --- through the gateway ------------------------------------------------------------------------------

GATE = threading.Event()  # set by the test once the client holds the first event
HELD: list[bool] = []  # per stream: did the client see the first event while the upstream held the rest?


async def stream_framed(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    nl = ENDINGS[request.json()["messages"][0]["content"]]
    parts = framed(nl)
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    first = parts[0] + parts[1]  # the role event and "Hel"
    writer.write(b"%x\r\n%s\r\n" % (len(first), first))
    await writer.drain()
    HELD.append(await asyncio.to_thread(GATE.wait, 10))
    rest = b"".join(parts[2:])
    for start in range(0, len(rest), 7):  # small pieces: line endings cut in half
        piece = rest[start:start + 7]
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def no_separator(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    """A stream that never ends an event: 64 MiB of one line, unless the gateway hangs up."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    piece = b"data: " + b"x" * 65536
    for _ in range(1024):
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
    writer.write(b"0\r\n\r\n")


async def json_for_stream(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    """An upstream that ignores `stream` and answers whole."""
    await support.respond(writer, 200, support.completion("m", "whole answer"))


async def json_not_an_answer(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    await support.respond(writer, 200, b'{"status": "ok"}')


@pytest.fixture(scope="module")
def peer(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    upstream = bg.run(ScriptedUpstream(behaviours={
        "framed": stream_framed, "no_separator": no_separator, "json": json_for_stream,
        "json_not_an_answer": json_not_an_answer}).start())
    yield upstream
    bg.run(upstream.stop())


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    def model(name: str, upstream_model: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "upstreams": [peer.base_url], "upstream_model": upstream_model, **extra}

    config = {
        "server": {"read_timeout_s": 10, "max_event_bytes": MiB, "health_interval_s": 60},
        "models": [model("framed", "framed"), model("cached", "framed", cache={"ttl_s": 60}),
                   model("guarded", "framed"), model("no_separator", "no_separator"), model("json", "json"),
                   model("json_not_an_answer", "json_not_an_answer")],
        "policies": {"guards": {"local": {"type": "embedded"}},
                     "profiles": {"checked": {"output": [{"kind": "guard", "guard": "local"}]}},
                     "models": {"guarded": "checked"}},
    }
    running = bg.run(support.start_gateway(config))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture
def client(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key="k", max_retries=0, timeout=30)


def stream_text(client: openai.OpenAI, model: str, ending: str, *, hold: bool = True,
                **extra: Any) -> tuple[str, list[Any]]:
    """The streamed text and chunks; with `hold`, the upstream waits after the first text until the client has it."""
    if hold:
        GATE.clear()
    else:
        GATE.set()
    with client.chat.completions.create(model=model, messages=[{"role": "user", "content": ending}],
                                        stream=True, **extra) as stream:
        chunks = []
        for part in stream:
            chunks.append(part)
            if part.choices and part.choices[0].delta.content:
                GATE.set()  # the first text is here: let the upstream send the rest
        GATE.set()
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


@pytest.mark.parametrize("ending", ENDINGS)
def test_events_reach_the_client_one_by_one_whatever_the_line_ending(client: openai.OpenAI, ending: str) -> None:
    text, chunks = stream_text(client, "framed", ending, stream_options={"include_usage": True})
    assert HELD[-1] is True  # the first event arrived while the upstream still held the rest
    assert text == "Hello, world"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 7


@pytest.mark.parametrize("ending", ["crlf", "cr"])
def test_usage_of_a_crlf_stream_is_counted_and_hidden_unless_asked(client: openai.OpenAI, gw: RunningGateway,
                                                                   ending: str) -> None:
    before = completion_tokens(gw)
    _, chunks = stream_text(client, "framed", ending)
    assert all(c.usage is None for c in chunks)
    assert completion_tokens(gw) == before + 4


def completion_tokens(gw: RunningGateway) -> float:
    line = 'semgate_tokens_total{direction="out",model="framed"} '
    for row in httpx.get(gw.url + "/metrics").text.splitlines():
        if row.startswith(line):
            return float(row.removeprefix(line))
    return 0.0


@pytest.mark.parametrize("ending", ["crlf", "cr"])
def test_a_crlf_stream_is_cached_as_its_whole_answer(client: openai.OpenAI, ending: str) -> None:
    text, _ = stream_text(client, "cached", ending, temperature=0.25)
    raw = client.chat.completions.with_raw_response.create(
        model="cached", messages=[{"role": "user", "content": ending}], temperature=0.25)
    assert raw.headers["x-semgate-cache"] == "hit"
    assert raw.parse().choices[0].message.content == text == "Hello, world"


@pytest.mark.parametrize("ending", ["crlf", "cr"])
def test_output_guards_read_a_crlf_stream(client: openai.OpenAI, gw: RunningGateway, ending: str) -> None:
    before = output_decisions(gw)
    # The guard holds text back until judged: no event-by-event promise here.
    text, _ = stream_text(client, "guarded", ending, hold=False)
    assert text == "Hello, world"
    assert output_decisions(gw) > before  # the guard read the text (a misframed stream slips past it)


def output_decisions(gw: RunningGateway) -> float:
    rows = httpx.get(gw.url + "/metrics").text.splitlines()
    return sum(float(row.rsplit(" ", 1)[1]) for row in rows
               if row.startswith("semgate_policy_decisions_total{") and 'stage="output"' in row)


def test_a_stream_that_never_ends_an_event_ends_with_an_in_band_error(gw: RunningGateway,
                                                                      peer: ScriptedUpstream) -> None:
    aborted = peer.aborted
    with httpx.stream("POST", gw.base_url + "/chat/completions", timeout=30, json={
            "model": "no_separator", "messages": [{"role": "user", "content": "hi"}], "stream": True}) as reply:
        assert reply.status_code == 200
        body = reply.read()
    error_event, done = body.split(b"\n\n")[:2]
    assert orjson.loads(error_event.removeprefix(b"data: "))["error"]["code"] == "upstream_event_too_large"
    assert done == b"data: [DONE]" and body.endswith(b"data: [DONE]\n\n")
    assert len(body) < 4096  # none of the garbage reached the client
    _wait_for(lambda: peer.aborted > aborted)  # and the upstream request was dropped


def test_the_sdk_raises_the_in_band_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIError, match="max_event_bytes"):
        for _ in client.chat.completions.create(model="no_separator", messages=[{"role": "user", "content": "hi"}],
                                                stream=True):
            pass


def test_a_json_answer_to_a_stream_request_is_replayed_as_a_stream(client: openai.OpenAI) -> None:
    with client.chat.completions.create(model="json", messages=[{"role": "user", "content": "hi"}], stream=True,
                                        stream_options={"include_usage": True}) as stream:
        chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "whole answer"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 5


def test_json_that_is_not_an_answer_to_a_stream_request_is_a_502(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="json_not_an_answer", messages=[{"role": "user", "content": "hi"}],
                                       stream=True)
    assert caught.value.status_code == 502


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        deadline.wait(0.02)
    assert condition()


@pytest.mark.parametrize("event, data", [
    (b"data: {}", b"{}"), (b"data:{}", b"{}"), (b"id: 3\ndata: {}", b"{}"), (b"data: a\ndata:  b", b"a\n b"),
    (b": ping", None), (b"event: x\nid: 1", None),
])
def test_the_data_of_an_event_is_read_as_the_spec_says(event: bytes, data: bytes | None) -> None:
    assert data_of(event) == data


def test_a_small_held_event_completed_by_a_large_read_of_whole_events_is_not_refused() -> None:
    framer = EventFramer(64 * 1024)
    framer.feed(b"data: start")
    many = b"\n\n" + (b"data: " + b"y" * 1000 + b"\n\n") * 100  # over the limit together, each well under it
    out = framer.feed(many)
    assert out.startswith(b"data: start\n\n") and out.count(b"\n\n") == 101
