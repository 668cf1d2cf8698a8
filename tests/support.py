"""Test harness: a gateway and scripted upstream peers on a background loop.

Tests talk to them over real sockets with the official `openai` SDK (sync and
async), so the loop serving them must not be the test's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import orjson
import uvicorn
import uvloop

from gateway.app import Gateway
from gateway.config import GatewayConfig, parse_config
from gateway.server import uvicorn_config
from gateway.store import Store

T = TypeVar("T")


class FakeClock:
    """A clock tests move by hand: time passes only when they say so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class BackgroundLoop:
    """An event loop in a daemon thread; `run()` executes a coroutine on it."""

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="test-loop")
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def free_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that
    # say so, and without it keep-alive replies wait ~40 ms for delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class RunningGateway:
    gateway: Gateway
    server: uvicorn.Server
    port: int
    task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"


async def start_gateway(config: GatewayConfig | dict[str, Any], *, store: Store | None = None) -> RunningGateway:
    if isinstance(config, dict):
        config = parse_config(config)
    gateway = Gateway(config, store=store)
    sock = free_socket()
    server = uvicorn.Server(uvicorn_config(gateway, config, log_level="warning"))
    running = RunningGateway(gateway, server, sock.getsockname()[1])
    running.task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if running.task.done():
            # uvicorn reports a failed lifespan start-up as SystemExit(3).
            raise RuntimeError("gateway failed to start; see the log above")
        await asyncio.sleep(0.01)
    return running


async def stop_gateway(running: RunningGateway) -> None:
    running.server.should_exit = True
    if running.task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running.task, 15)


# --- a scripted upstream ----------------------------------------------------

Behaviour = Callable[["PeerRequest", asyncio.StreamWriter], Awaitable[None]]


@dataclass
class PeerRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    reader: asyncio.StreamReader | None = None

    def json(self) -> dict[str, Any]:
        return orjson.loads(self.body)


class LoopbackUpstream:
    """An OpenAI-style upstream on a free loopback port; subclasses serve connections in `_serve`."""

    port: int
    _server: asyncio.AbstractServer | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


@dataclass
class ScriptedUpstream(LoopbackUpstream):
    """A raw HTTP/1.1 server whose reply is chosen by the request's `model`.

    Raw sockets, not an HTTP framework, so tests can produce exactly the
    failures gateways meet: hang-ups, half replies, stalls, non-JSON errors.
    """

    behaviours: dict[str, Behaviour]
    requests: list[PeerRequest] = field(default_factory=list)
    aborted: int = 0
    port: int = 0
    _server: asyncio.AbstractServer | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await _read_request(reader):
                self.requests.append(request)
                if request.path == "/health":
                    await respond(writer, 200, b"", b"text/plain")
                    continue
                if request.method == "GET":  # e.g. a balancer scraping /metrics: not served, not recorded
                    self.requests.pop()
                    await respond(writer, 404, b"", b"text/plain")
                    continue
                model = request.json().get("model", "") if request.body else ""
                await self.behaviours[model](request, writer)
                if writer.is_closing():
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            self.aborted += 1
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> PeerRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    headers = {k.lower(): v for k, v in headers.items()}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return PeerRequest(method, path, headers, body, reader)


async def respond(writer: asyncio.StreamWriter, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    writer.write(
        b"HTTP/1.1 %d X\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s" % (status, content_type, len(body), body)
    )
    await writer.drain()


def completion(model: str, content: str, **extra: Any) -> bytes:
    return orjson.dumps({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        **extra,
    })


async def echo(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    """Answers with the request it received, as the assistant's content."""
    seen = {"body": request.json(), "headers": request.headers, "path": request.path}
    await respond(writer, 200, completion(request.json()["model"], orjson.dumps(seen).decode()))


async def hang_up(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def stall(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def think_then_answer(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    """Works for 10 s before answering, like a long generation; a gateway that
    drops the connection meanwhile cancels it (counted in `aborted`)."""
    assert request.reader is not None
    try:
        await asyncio.wait_for(request.reader.read(1), 10)  # b"" = the gateway hung up
    except asyncio.TimeoutError:
        await respond(writer, 200, completion("think", "done"))
        return
    raise ConnectionResetError("gateway closed the connection")


async def html_500(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    await respond(writer, 500, b"<html>Internal Server Error</html>", b"text/html")


async def openai_400(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    body = b'{"error":{"message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}}'
    await respond(writer, 400, body)


async def die_mid_stream(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    event = b'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    writer.write(b"%x\r\n%s\r\n" % (len(event), event))
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()


async def slow_stream(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    """Streams one chunk every 50 ms for 10 s: long enough to hang up on."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    for i in range(200):
        event = b'data: {"choices":[{"index":0,"delta":{"content":"t%d"}}]}\n\n' % i
        writer.write(b"%x\r\n%s\r\n" % (len(event), event))
        await writer.drain()
        await asyncio.sleep(0.05)
    writer.write(b"0\r\n\r\n")


async def unavailable_503(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    body = b'{"error":{"message":"overloaded","type":"ServiceUnavailable","param":null,"code":503}}'
    await respond(writer, 503, body)


# --- a real redis-server ------------------------------------------------------


@dataclass
class RedisServer:
    """A redis-server process on a free port, without persistence."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, port: int | None = None) -> RedisServer:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (scripts/setup-system.sh installs it)")
        if port is None:
            sock = free_socket()
            port = sock.getsockname()[1]
            sock.close()
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        return cls(process, port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
