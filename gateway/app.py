"""The gateway as an ASGI application.

`Gateway` sends the OpenAI POST endpoints to the lean handlers in proxy.py
and everything else (models, health, readiness, metrics, lifespan, 404s) to
a FastAPI app, where per-request cost does not matter.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from dataflow import api as dataflow_api
from dataflow.executor import Executor
from gateway import openapi
from gateway.accesslog import AccessLog
from gateway.asgi import with_body_limit, with_request_id
from gateway.cache import ResponseCache
from gateway.config import GatewayConfig
from gateway.engines.manager import EngineSet
from gateway.errors import (
    BadRequest,
    GatewayError,
    InvalidJSON,
    MethodNotAllowed,
    ModelNotFound,
    RouteNotFound,
    StoreUnavailable,
)
from gateway.exchange import Exchange, Receive, Scope, Send
from gateway.health import HealthMonitor
from gateway.internal import LocalCompleter
from gateway.metrics import GatewayMetrics
from gateway.protocol import ChatCompletionRequest, CompletionRequest, EmbeddingRequest, first_problem
from gateway.proxy import Catalog, ProxyEndpoint
from gateway.routes import ModelRoute
from gateway.store import Store, StoreError, build_store
from gateway.store.guarded import StoreGuard
from gateway.tenants import admin as admin_api
from gateway.tenants.access import ADMIN_PREFIX, Access
from gateway.upstream import UpstreamClient
from policies.config import PoliciesConfig
from policies.guards.factory import build_guard
from policies.runtime import Policies
from router.strategies import Strategy, build_strategy

log = logging.getLogger("semgate.app")

ENDPOINTS = (
    ("/v1/chat/completions", "chat", ChatCompletionRequest),
    ("/v1/completions", "completions", CompletionRequest),
    ("/v1/embeddings", "embeddings", EmbeddingRequest),
)


class Gateway:
    def __init__(self, config: GatewayConfig, *, base_dir: Path | None = None, store: Store | None = None) -> None:
        self.config = config
        self._owns_store = store is None
        self.store = store or build_store(config.store.backend, config.store.url, config.store.url_env,
                                          config.store.max_connections, config.store.timeout_s)
        self.metrics = GatewayMetrics()
        self.guard = StoreGuard(self.metrics, fail_open=config.store.on_error == "open",
                                retry_after_s=config.store.retry_after_s)
        # Tenants, keys, limits, budgets: only when authentication is on.
        self.access = Access(config, self.store, self.metrics, self.guard) if config.auth_enabled else None
        cached = {c.name: c.cache for c in [*config.models, *config.routes] if c.cache is not None}
        self.cache = ResponseCache(self.store, self.guard, self.metrics, cached) if cached else None
        self.routes: dict[str, ModelRoute] = {}
        # Strategies are built now: a missing scorer artifact fails at start.
        self.strategies: dict[str, Strategy] = {r.name: build_strategy(r) for r in config.routes}
        self.catalog = Catalog(self.routes, self.strategies, {m.name: m for m in config.models})
        self.created = int(time.time())
        server = config.server
        self.client = UpstreamClient(
            limit_per_origin=server.max_connections_per_upstream,
            connect_timeout=server.connect_timeout_s,
            read_timeout=server.read_timeout_s,
            max_reply_bytes=server.max_reply_bytes,
        )
        self.engines = EngineSet(config.models, base_dir or Path.cwd())
        # Guard and uncertainty policies; None when no profile applies to anything.
        policies = _with_tenant_profiles(config)
        self.policies = Policies(policies, self.metrics) if Policies.configured(policies) else None
        self.health = HealthMonitor(self.routes, server.health_interval_s, self.metrics)
        self.access_log = AccessLog.configured(server.access_log, server.access_log_buffer_lines,
                                               self.metrics.access_log_dropped.inc)
        self._fast = {
            path: ProxyEndpoint(
                path=path.removeprefix("/v1").encode(),
                endpoint=name,
                schema=schema,
                catalog=self.catalog,
                client=self.client,
                metrics=self.metrics,
                max_body_bytes=server.max_body_bytes,
                max_event_bytes=server.max_event_bytes,
                access_log=self.access_log,
                policies=self.policies,
                access=self.access,
                cache=self.cache,
            )
            for path, name, schema in ENDPOINTS
        }
        # Dataflow calls re-enter this app's own chat handler: one request path for all.
        names = frozenset([m.name for m in config.models] + [r.name for r in config.routes])
        self.dataflow = Executor(config.dataflow, self.store, LocalCompleter(self), metrics=self.metrics, models=names)
        self.api = build_api(self)
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)  # lifespan
            return
        if self.access is not None:
            refused = await self.access.authenticate(scope)
            if refused is None and scope["path"].startswith(ADMIN_PREFIX):
                refused = admin_api.refusal(self.access, scope)
            if refused is not None:
                await Exchange(scope, receive, send).reply_error(refused)
                return
        handler = self._fast.get(scope["path"])
        if handler is not None:
            await handler(scope, receive, send)  # its Exchange sets x-request-id and bounds the body
            return
        limit = self.config.server.max_body_bytes
        exchange = Exchange(scope, receive, send)
        if (too_large := exchange.declared_too_large(limit)) is not None:
            await exchange.reply_error(too_large)
            return
        await self.api(scope, with_body_limit(receive, limit), with_request_id(exchange.request_id, send))

    async def startup(self) -> None:
        """Start engines and health checks; a second call is a no-op.

        The CLI calls this before the server starts, to report a failing
        engine in one clean line; the ASGI lifespan calls it for embedders.
        """
        if self._started:
            return
        self._started = True
        await self.store.check()
        urls = await self.engines.start()
        for model in self.config.models:
            self.routes[model.name] = ModelRoute.build(model, urls.get(model.name) or list(model.upstreams))
        for route in self.routes.values():
            route.fallback_routes[:] = [self.routes[name] for name in route.config.fallbacks]
            await route.replicas.start()
        if self.policies is not None:
            self.policies.start(build_guard, self._guard_target)
        await self.health.check_all()
        self.health.start()
        await self.dataflow.start()
        # What start-up built lives as long as the process: keep it out of the cyclic GC's full
        # collections, which otherwise walk all of it each time (while a large dataflow session
        # failed, the event loop stalled ~250 ms in one instead of ~15 ms: benchmarks.dataflow_memory).
        gc.freeze()

    def _guard_target(self, model: str) -> tuple[list[str], str]:
        """Where a guard served by `model` is reached: its replicas' URLs and served name."""
        route = self.routes[model]
        return [replica.url for replica in route.replicas.replicas], route.served_model

    async def drain(self) -> None:
        """Shutdown has begun (called before the server waits for open requests):
        answer the requests that would otherwise wait until they time out."""
        await self.dataflow.drain()

    async def shutdown(self) -> None:
        self._started = False
        await self.dataflow.stop()
        if self.access is not None:
            await self.access.close()
        if self.policies is not None:
            await self.policies.close()
        await self.health.stop()
        for route in self.routes.values():
            await route.replicas.stop()
        self.client.close()
        if self._owns_store:
            await self.store.close()
        await self.engines.stop()
        if self.access_log is not None:  # last: lines of requests that ended during shutdown are in
            await asyncio.to_thread(self.access_log.close)

    def readiness(self) -> dict[str, Any]:
        models = {
            name: {"ready": route.replicas.any_healthy, "replicas": [r.healthy for r in route.replicas.replicas]}
            for name, route in self.routes.items()
        }
        return {"ready": any(m["ready"] for m in models.values()), "models": models}


def _with_tenant_profiles(config: GatewayConfig) -> PoliciesConfig:
    """The policies config with each tenant's `policy` added to its tenant map."""
    chosen = {name: tenant.policy for name, tenant in config.tenants.items() if tenant.policy is not None}
    if not chosen:
        return config.policies
    return config.policies.model_copy(update={"tenants": {**config.policies.tenants, **chosen}})


def _reply(exc: GatewayError) -> Response:
    headers = {name.decode(): value.decode() for name, value in exc.headers()}
    return Response(exc.body(), status_code=exc.status, media_type="application/json", headers=headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(api: FastAPI, scope: Scope) -> str:
    """The methods some route accepts for this path: the 405's Allow header.

    Asked of the router itself (which routes match fully with each method):
    Starlette names only the first partly matching route's methods, though
    GET and DELETE on one path are two routes. Only 405s pay for this.
    """
    routes = api.router.routes
    return ", ".join(method for method in METHODS
                     if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes))


def _http_error(api: FastAPI, scope: Scope, exc: HTTPException) -> GatewayError:
    """Starlette's and FastAPI's own refusals as the gateway's errors."""
    if exc.status_code == 404:
        return RouteNotFound(f"no such path: {_shown(scope['path'])}")
    if exc.status_code == 405:
        return MethodNotAllowed(f"{_shown(scope['path'])} does not accept {_shown(scope['method'])}", allow=_allowed(api, scope))
    if isinstance(exc.__cause__, GatewayError):  # FastAPI wraps what reading the body raised (a 413)
        return exc.__cause__
    if exc.status_code == 400:  # FastAPI: a body that is not JSON in some way json.loads does not name
        return InvalidJSON(f"request body is not valid JSON: {exc.detail}")
    error = GatewayError(str(exc.detail), code="http_error")
    error.status = exc.status_code
    if exc.status_code < 500:
        error.type = "invalid_request_error"
    return error


def _shown(text: str, limit: int = 200) -> str:
    """A client-chosen string as an error message quotes it: bounded."""
    return text if len(text) <= limit else text[:limit] + "…"


def build_api(gateway: Gateway) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await gateway.startup()
        try:
            yield
        finally:
            await gateway.shutdown()

    api = FastAPI(title="Semgate", lifespan=lifespan, docs_url=None, redoc_url=None)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _reply(_http_error(api, request.scope, exc))

    @api.exception_handler(GatewayError)
    async def gateway_error(_: Request, exc: GatewayError) -> Response:
        return _reply(exc)

    @api.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> Response:
        log.error("store failed: %s", exc)
        return _reply(StoreUnavailable("the gateway's shared store is unavailable; try again shortly"))

    @api.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        # README: a schema violation is 400 invalid_request on every route, not FastAPI's 422.
        return _reply(first_problem(exc.errors(), sourced=True))

    @api.exception_handler(ClientDisconnect)
    async def client_left(_: Request, exc: ClientDisconnect) -> Response:
        # The client hung up before its whole body came (any route): nobody to answer, nothing to log.
        return _reply(BadRequest("the client went away before sending the whole body"))

    @api.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> Response:
        log.error("unhandled error: %r", exc, exc_info=exc)
        return _reply(GatewayError("internal gateway error; see the gateway log"))

    @api.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    not_ready = {"description": "no model has a healthy replica (the same body)", "content": {"application/json": {}}}

    @api.get("/ready", responses={503: not_ready})
    async def ready() -> Response:
        state = gateway.readiness()
        return JSONResponse(state, status_code=200 if state["ready"] else 503)

    @api.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    def visible(request: Request, name: str) -> bool:
        return gateway.access is None or gateway.access.allows(request.scope.get("semgate.tenant"), name)

    @api.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        names = [m.name for m in gateway.config.models] + [r.name for r in gateway.config.routes]
        names = [name for name in names if visible(request, name)]
        data = [{"id": name, "object": "model", "created": gateway.created, "owned_by": "semgate"} for name in names]
        return {"object": "list", "data": data}

    @api.get("/v1/models/{name:path}")
    async def model(request: Request, name: str) -> Response:
        if (name not in gateway.routes and name not in gateway.strategies) or not visible(request, name):
            raise ModelNotFound(f"model {name!r} does not exist", param="model")
        body = {"id": name, "object": "model", "created": gateway.created, "owned_by": "semgate"}
        return JSONResponse(body)

    dataflow_api.mount(api, gateway.dataflow)
    if gateway.access is not None:
        admin_api.mount(api, gateway.access)
    openapi.install(api, ENDPOINTS, auth=gateway.access is not None)
    return api
