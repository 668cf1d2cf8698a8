"""The simulated engine's OpenAI-compatible HTTP server (Starlette + uvicorn).

Generation responses are raw ASGI callables rather than Starlette's
StreamingResponse so that a client disconnect is noticed while the request is
still queued or generating, not only at the next write, and the engine
request is aborted at once (freeing its KV), as vLLM does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .engine import SimEngine, SimEngineError
from .guard import Behaviour, GuardEmulation, judged_text
from .metrics import CONTENT_TYPE, metrics_registry, render_metrics
from .profiles import DEFAULT_PROFILE, SimProfile, make_profile
from .protocol import (
    ApiError,
    GenerationRequest,
    check_model,
    parse_chat,
    parse_classify,
    parse_completion,
    parse_embeddings,
    parse_json,
)
from .render import ChatRenderer, CompletionRenderer, Renderer, classification_response, embeddings_response
from .request import SeqOutput, SimRequest
from .text import Prompt

_SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
_JSON_HEADERS = [(b"content-type", b"application/json")]
# What a request still running when the server stops gets.
_SHUTDOWN = ApiError("request aborted: engine shutting down", 503)
# What a guard emulation answers to the __error__ marker.
_GUARD_ERROR = ApiError("simulated guard model failure", 500)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(error: ApiError) -> Response:
    return Response(error.body(), status_code=error.status, media_type="application/json")


def _sse(data: Any) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


class _GenerationResponse(Response):
    """Streams or collects a generation, aborting it if the client leaves."""

    def __init__(
        self,
        engine: SimEngine,
        requests: list[SimRequest],
        outputs: asyncio.Queue[SeqOutput],
        renderer: Renderer,
        parsed: GenerationRequest,
    ) -> None:
        super().__init__()
        self._engine = engine
        self._requests = requests
        self._outputs = outputs
        self._renderer = renderer
        self._parsed = parsed
        self._aborted = False
        self._client_gone = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            if self._parsed.stream:
                await self._stream(send)
            else:
                await self._collect(send)
        finally:
            watcher.cancel()
            self._abort()  # no-op for finished requests

    def _abort(self) -> None:
        for request in self._requests:
            self._engine.abort(request)

    async def _watch(self, receive: Receive) -> None:
        # The body has been read, so the next message is the disconnect.
        while (await receive())["type"] != "http.disconnect":
            pass
        self._client_gone = True
        self._abort()

    async def _batches(self) -> AsyncIterator[list[SeqOutput]]:
        """Outputs as they arrive, several per batch when a step made several."""
        live = len(self._renderer.choices)
        while live:
            batch = [await self._outputs.get()]
            while not self._outputs.empty():
                batch.append(self._outputs.get_nowait())
            live -= sum(1 for out in batch if out.finish_reason is not None)
            if any(out.finish_reason == "abort" for out in batch):
                self._aborted = True
                return
            yield batch

    async def _stream(self, send: Send) -> None:
        renderer = self._renderer
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        opening = b"".join(_sse(chunk) for chunk in renderer.stream_start())
        await send({"type": "http.response.body", "body": opening, "more_body": True})
        async for batch in self._batches():
            body = b"".join(_sse(renderer.chunk(out)) for out in batch)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        if self._client_gone:
            return
        tail = b""
        if self._aborted:
            tail = b"data: " + _SHUTDOWN.body() + b"\n\n"
        elif self._parsed.include_usage:
            tail = _sse(renderer.usage_chunk())
        await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n", "more_body": False})

    async def _collect(self, send: Send) -> None:
        async for batch in self._batches():
            for out in batch:
                self._renderer.add(out)
        if self._client_gone:
            return
        if self._aborted:
            status, body = _SHUTDOWN.status, _SHUTDOWN.body()
        else:
            status, body = 200, orjson.dumps(self._renderer.response())
        await send({"type": "http.response.start", "status": status, "headers": _JSON_HEADERS})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class _StalledResponse(Response):
    """Never answers: ends when the client leaves, or with a 503 when the engine stops."""

    def __init__(self, engine: SimEngine) -> None:
        super().__init__()
        self._engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        released = self._engine.stall()

        async def gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        watcher = asyncio.ensure_future(gone())
        try:
            await asyncio.wait([watcher, released], return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            released.cancel()
        if not watcher.cancelled() and watcher.done():
            return  # the client gave up; nobody reads an answer
        await send({"type": "http.response.start", "status": _SHUTDOWN.status, "headers": _JSON_HEADERS})
        await send({"type": "http.response.body", "body": _SHUTDOWN.body(), "more_body": False})


class _Routes:
    def __init__(self, engine: SimEngine) -> None:
        self.engine = engine
        self.registry = metrics_registry(engine)

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            raw = await request.body()
        except ClientDisconnect:
            raise ApiError("client disconnected", status=499) from None  # nobody will read it
        body = parse_json(raw)
        check_model(body, self.engine.model_name)
        return body

    def _submit(self, parsed: GenerationRequest) -> tuple[list[SimRequest], asyncio.Queue[SeqOutput]]:
        outputs: asyncio.Queue[SeqOutput] = asyncio.Queue()
        submitted: list[SimRequest] = []
        try:
            for number, prompt in enumerate(parsed.prompts):
                submitted.append(self.engine.submit(prompt, parsed.params, outputs, number * parsed.params.n))
        except SimEngineError as exc:
            for request in submitted:
                self.engine.abort(request)
            raise ApiError(str(exc)) from None
        return submitted, outputs

    def _guard_failure(self, prompts: list[Prompt]) -> Response | None:
        """A guard emulation's stall or error, when a judged text asks for one."""
        guard = self.engine.guard
        if guard is None:
            return None
        directives = {guard.directive(judged_text(prompt.text)) for prompt in prompts}
        if "stall" in directives:
            return _StalledResponse(self.engine)
        if "error" in directives:
            return _error(_GUARD_ERROR)
        return None

    async def _generate(
        self, request: Request, parse: Callable[[Mapping[str, Any]], GenerationRequest], renderer: type[Renderer]
    ) -> Response:
        try:
            parsed = parse(await self._body(request))
            if (failure := self._guard_failure(parsed.prompts)) is not None:
                return failure
            requests, outputs = self._submit(parsed)
        except ApiError as exc:
            return _error(exc)
        shaped = renderer(self.engine.model_name, requests, parsed.params)
        return _GenerationResponse(self.engine, requests, outputs, shaped, parsed)

    async def chat(self, request: Request) -> Response:
        return await self._generate(request, parse_chat, ChatRenderer)

    async def completions(self, request: Request) -> Response:
        return await self._generate(request, parse_completion, CompletionRenderer)

    async def embeddings(self, request: Request) -> Response:
        engine = self.engine
        try:
            parsed = parse_embeddings(await self._body(request), engine.profile.embedding_dim)
        except ApiError as exc:
            return _error(exc)
        # Embedding is one prefill pass; it bypasses the generation scheduler.
        tokens = sum(len(p.token_ids) for p in parsed.inputs)
        await asyncio.sleep(tokens / engine.profile.prefill_tok_per_s / engine.speedup)
        return _json(
            embeddings_response(engine.model_name, parsed.inputs, parsed.dimensions, parsed.base64, engine.seed)
        )

    async def classify(self, request: Request) -> Response:
        """vLLM's POST /classify, for the classifier guard emulation."""
        engine = self.engine
        assert engine.guard is not None
        try:
            parsed = parse_classify(await self._body(request))
        except ApiError as exc:
            return _error(exc)
        if (failure := self._guard_failure(parsed.inputs)) is not None:
            return failure
        # One prefill pass, outside the generation scheduler (like embeddings).
        tokens = sum(len(p.token_ids) for p in parsed.inputs)
        await asyncio.sleep(tokens / engine.profile.prefill_tok_per_s / engine.speedup)
        return _json(classification_response(engine.model_name, parsed.inputs, engine.guard, parsed.use_activation))

    async def models(self, request: Request) -> Response:
        model = {
            "id": self.engine.model_name,
            "object": "model",
            "created": 0,
            "owned_by": "semgate-sim",
            "root": self.engine.model_name,
            "parent": None,
            "max_model_len": self.engine.profile.max_model_len,
        }
        return _json({"object": "list", "data": [model]})

    async def health(self, request: Request) -> Response:
        return Response(status_code=200)

    async def metrics(self, request: Request) -> Response:
        return Response(render_metrics(self.registry), media_type=CONTENT_TYPE)


def create_sim_app(engine: SimEngine) -> Starlette:
    """The OpenAI-compatible ASGI app serving `engine`."""
    routes = _Routes(engine)
    if engine.guard is not None and engine.guard.kind == "classifier":
        # Like vLLM serving a pooling model: no generation endpoints.
        served = [Route("/classify", routes.classify, methods=["POST"])]
    else:
        served = [
            Route("/v1/chat/completions", routes.chat, methods=["POST"]),
            Route("/v1/completions", routes.completions, methods=["POST"]),
            Route("/v1/embeddings", routes.embeddings, methods=["POST"]),
        ]
    return Starlette(
        routes=[
            *served,
            Route("/v1/models", routes.models, methods=["GET"]),
            Route("/health", routes.health, methods=["GET"]),
            Route("/metrics", routes.metrics, methods=["GET"]),
        ]
    )


def make_guard(behaviour: Behaviour | str, triggers: Mapping[str, str] | None = None) -> GuardEmulation | None:
    """The guard emulation for a behaviour ("text": none); raises ValueError."""
    if behaviour == "text":
        if triggers is not None:
            raise ValueError("guard triggers need behaviour llama_guard or classifier")
        return None
    return GuardEmulation(behaviour, triggers)  # type: ignore[arg-type]


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The host process (the gateway, a test) owns SIGINT/SIGTERM; an
        # embedded engine taking them would swallow the host's Ctrl+C.
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on
    # accepted connections only then, and without it Nagle's algorithm plus
    # delayed ACKs add ~40 ms to every keep-alive response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class SimServer:
    """A SimEngine behind its HTTP server, run as a task in the current loop."""

    def __init__(
        self,
        model_name: str,
        profile: SimProfile,
        seed: int = 0,
        speedup: float = 1.0,
        behaviour: Behaviour | str = "text",
        guard_triggers: Mapping[str, str] | None = None,
    ) -> None:
        guard = make_guard(behaviour, guard_triggers)
        self.engine = SimEngine(model_name, profile, seed=seed, speedup=speedup, guard=guard)
        self.app = create_sim_app(self.engine)
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0: a free port); returns the base URL ending in /v1."""
        if self._task is not None:
            raise RuntimeError("SimServer already started")
        sock = _bind(host, port)
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[sock]), name=f"sim-server:{self.engine.model_name}"
        )
        while not self._server.started:
            if self._task.done():
                await self._task  # re-raise why it failed to start
                raise RuntimeError("sim server exited during startup")
            await asyncio.sleep(0.005)
        bound = sock.getsockname()[1]
        self.base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound}/v1"
        await self.engine.start()
        return self.base_url

    async def stop(self) -> None:
        """Abort in-flight requests, stop serving, stop the engine loop."""
        if self._server is None or self._task is None:
            return
        self.engine.abort_all()  # open streams end, so shutdown need not wait
        self._server.should_exit = True
        await self._task
        await self.engine.close()
        self._server = self._task = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def run_sim_server(
    model_name: str,
    profile_name: str = DEFAULT_PROFILE,
    host: str = "127.0.0.1",
    port: int = 8000,
    seed: int = 0,
    speedup: float = 1.0,
    overrides: Mapping[str, float] | None = None,
    behaviour: Behaviour | str = "text",
    guard_triggers: Mapping[str, str] | None = None,
) -> None:
    """Serve a simulated engine until interrupted (for `semgate engine sim`)."""
    guard = make_guard(behaviour, guard_triggers)
    engine = SimEngine(model_name, make_profile(profile_name, overrides), seed=seed, speedup=speedup, guard=guard)
    print(
        f"sim engine: model {model_name!r}, profile {profile_name!r}, speedup {speedup}, behaviour {behaviour},"
        f" on http://{host}:{port}/v1",
        flush=True,
    )
    uvicorn.run(create_sim_app(engine), host=host, port=port, log_level="warning", access_log=False, lifespan="off")
