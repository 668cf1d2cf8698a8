"""The hot path: OpenAI POST endpoints proxied to a model's replicas.

These handlers are raw ASGI callables, dispatched before FastAPI sees the
request: routing, dependency injection and response classes cost more than
the proxying itself at thousands of requests per second. Per request: read
and size-check the body, parse it once with orjson, validate it against the
pydantic schema, resolve the model (directly, or through a route's strategy),
forward the client's own bytes, and stream or relay the reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from gateway import cascade
from gateway.assemble import StreamAssembler
from gateway.cache import request_key
from gateway.config import ModelConfig
from gateway.dispatch import Attempt, Dispatcher, UpstreamRejected
from gateway.errors import (
    ClientDisconnected,
    GatewayError,
    InvalidJSON,
    MethodNotAllowed,
    ModelNotFound,
    UpstreamError,
    UpstreamEventTooLarge,
    UpstreamReplyTooLarge,
)
from gateway.exchange import JSON, Exchange, Receive, Scope, Send
from gateway.headers import find_header
from gateway.metrics import GatewayMetrics
from gateway.protocol import validate
from gateway.routes import ModelRoute
from gateway.streaming import SSEUsageTap, error_event, is_json, usage_of
from gateway.tenancy import tenant_of
from gateway.tenants.reach import within
from gateway.upstream import UpstreamClient
from policies.decisions import Blocked
from router.catalog import refit
from router.strategies import Decision, RouteContext, Strategy

if TYPE_CHECKING:
    from gateway.accesslog import AccessLog
    from gateway.cache import ResponseCache
    from gateway.policed import PolicedServe
    from gateway.tenants.access import Access
    from policies.outbound import OutputPolicies
    from policies.runtime import Policies

log = logging.getLogger("semgate.proxy")

DIRECT = b"direct"


@dataclass(frozen=True, slots=True)
class Catalog:
    """What a public name can mean: a model, or a route over models."""

    models: dict[str, ModelRoute]
    strategies: dict[str, Strategy]
    configs: dict[str, ModelConfig]


class ProxyEndpoint:
    """POST {path}: validate with `schema`, then proxy to the named model or route."""

    def __init__(
        self, *, path: bytes, endpoint: str, schema: type[BaseModel], catalog: Catalog,
        client: UpstreamClient, metrics: GatewayMetrics, max_body_bytes: int, access_log: AccessLog | None,
        policies: Policies | None = None, access: Access | None = None, cache: ResponseCache | None = None,
        max_event_bytes: int = 4 << 20,
    ) -> None:
        self.endpoint = endpoint
        self.chat = endpoint == "chat"
        self.schema = schema
        self.catalog = catalog
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.max_event_bytes = max_event_bytes
        self.access_log = access_log  # None when `server.access_log` is off
        self.dispatcher = Dispatcher(client, metrics, path)
        self.access = access  # tenants' model access, limits and budgets; None when auth is off
        self.cache = cache  # None when no model or route opted in
        # Guard and uncertainty policies; None when none are configured (no cost per request).
        self.policed: PolicedServe | None = None
        if policies is not None:
            from gateway.policed import PolicedServe  # policy modules load only when policies are configured

            self.policed = PolicedServe(self, policies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(scope, receive, send)
        name = "-"
        status = 500
        try:
            if scope["method"] != "POST":
                raise MethodNotAllowed(f"{scope['path']} accepts POST only", allow="POST")
            data, body = await self._read_request(exchange)
            if data["model"] in self.catalog.models or data["model"] in self.catalog.strategies:
                name = data["model"]
                self.metrics.started(name)
            status = await self._serve(exchange, data, body)
        except GatewayError as exc:
            status = exc.status
            await exchange.reply_error(exc)
        except (ClientDisconnected, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not exchange.disconnected:
                raise  # cancelled for another reason (shutdown): not ours to swallow
            exchange.forget_cancel()
            status = 499  # nginx's code for "client closed request"
            self.metrics.client_disconnect(name)
        except Exception:  # a bug of ours: log it, answer in OpenAI's shape all the same
            log.exception("request %s failed", exchange.request_id.decode())
            status = 500
            await exchange.fail(GatewayError("internal gateway error; see the gateway log"))
        finally:
            elapsed = time.perf_counter() - exchange.started
            if name != "-":
                self.metrics.finished(name, self.endpoint, status, elapsed)
            if self.access_log is not None:
                self.access_log.request(exchange, self.endpoint, name, status, elapsed)

    async def _read_request(self, exchange: Exchange) -> tuple[dict[str, Any], bytes]:
        body = await exchange.read_body(self.max_body_bytes)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"request body is not valid JSON: {exc}") from None
        validate(self.schema, data)
        return data, body

    async def _serve(self, exchange: Exchange, data: dict[str, Any], body: bytes) -> int:
        if self.access is not None:
            await self.access.admit(exchange.scope, data["model"])
        if self.policed is not None:
            profile = self.policed.policies.select(data["model"], exchange.scope)
            if profile is not None:
                return await self.policed.serve(exchange, data, body, profile)
        if self.cache is not None and self.cache.enabled(data["model"]) and await self._from_cache(exchange, data):
            return 200
        model, decision = self.resolve(data["model"], exchange, data)
        exchange.watch_disconnect()
        if decision is not None and decision.escalate_to is not None:
            return await self._cascade(exchange, data, model, decision)
        route_header = DIRECT if decision is None else decision.reason.encode()
        return await self._forward(exchange, data, body, model, route_header)

    async def _from_cache(self, exchange: Exchange, data: dict[str, Any]) -> bool:
        """Answer from the response cache if it holds this request; else remember where to store the answer."""
        assert self.cache is not None
        name = data["model"]
        key = request_key(tenant_of(exchange.scope), self.endpoint, name, data)
        found = await self.cache.get(name, key)
        if found is None:
            exchange.reply_headers.append((b"x-semgate-cache", b"miss"))
            exchange.cache_entry = (name, key)
            return False
        model, body = found
        exchange.reply_headers += [(b"x-semgate-cache", b"hit"), (b"x-semgate-model", model.encode())]
        if data.get("stream"):
            await self.reply_answer(exchange, orjson.loads(body), data)
        else:
            await exchange.reply(200, body, JSON)
        return True

    def _assembler(self, exchange: Exchange, output: OutputPolicies | None) -> StreamAssembler | None:
        """A collector for a streamed answer the cache should keep; None otherwise (the usual case)."""
        if exchange.cache_entry is None or output is not None or self.cache is None:
            return None
        return StreamAssembler(self.cache.max_bytes(exchange.cache_entry[0]))

    async def _fill_cache(self, exchange: Exchange, model: str, body: bytes) -> None:
        if exchange.cache_entry is not None and self.cache is not None:
            name, key = exchange.cache_entry
            await self.cache.put(name, key, model, body)

    def resolve(self, name: str, exchange: Exchange, data: dict[str, Any]) -> tuple[ModelRoute, Decision | None]:
        """The model a public name stands for: itself, or a route strategy's choice."""
        model = self.catalog.models.get(name)
        if model is not None:
            return model, None
        strategy = self.catalog.strategies.get(name)
        if strategy is None:
            raise ModelNotFound(f"model {name!r} does not exist", param="model")
        ctx = RouteContext(data, exchange.scope["headers"])
        decision = refit(strategy.choose(ctx), strategy, self.catalog.configs, ctx)
        self.metrics.decision(name, decision.model, decision.kind)
        return self.catalog.models[decision.model], decision

    def may_send(self, scope: Scope, name: str) -> bool:
        """Whether a policy may send this request on to `name` (a reroute, an escalation)."""
        return self.access is None or self.access.redirect(scope, name)

    def chain(self, scope: Scope, model: ModelRoute) -> list[ModelRoute]:
        """The model, then those of its fallbacks the request may reach (a tenant's allow-list
        is not walked around by a failure: gateway/tenants/reach.py)."""
        routes = [model, *model.fallback_routes]
        if self.access is None or not model.fallback_routes:  # the model itself is within reach already
            return routes
        return within(scope, routes)

    async def _forward(
        self, exchange: Exchange, data: dict[str, Any], body: bytes, model: ModelRoute, route_header: bytes,
        output: OutputPolicies | None = None,
    ) -> int:
        stream = bool(data.get("stream"))
        strip_usage = stream and not (data.get("stream_options") or {}).get("include_usage")
        if strip_usage:  # ask for the usage event anyway (metrics, budgets); hidden again on the way back
            data["stream_options"] = {**(data.get("stream_options") or {}), "include_usage": True}
        replicas = model.replicas
        affinity = replicas.affinity_of(data, exchange.header(replicas.session_header))
        attempt = await self.dispatcher.send(
            exchange, self.chain(exchange.scope, model), _body_builder(data, body, strip_usage), affinity,
            exchange.header(b"x-semgate-perf"),
        )
        exchange.reply_headers += [(b"x-semgate-model", attempt.route.name.encode()), (b"x-semgate-route", route_header)]
        return await self._relay(exchange, attempt, stream, strip_usage, output)

    async def _relay(
        self, exchange: Exchange, attempt: Attempt, stream: bool, strip_usage: bool, output: OutputPolicies | None
    ) -> int:
        reply = attempt.reply
        ok: bool | None = False  # the replica's verdict; None: not its doing
        try:
            if stream and reply.status == 200:
                if is_json(reply.headers):  # the upstream ignored `stream`
                    await self._replay_whole(exchange, attempt, strip_usage, output)
                    ok = True
                else:
                    ok = await self._relay_stream(exchange, attempt, strip_usage, output)
            else:
                await self._relay_whole(exchange, attempt, output)
                ok = reply.status < 500
            return reply.status
        except (asyncio.CancelledError, Blocked):
            reply.abort()  # the client left, or a policy stopped the reply: drop the upstream request too
            ok = None
            raise
        except UpstreamReplyTooLarge as exc:
            # Our limit, not the replica's fault: a client asking for huge answers must not trip its breaker.
            self.metrics.upstream_error(attempt.route.name, exc.code or "bad_gateway")
            ok = None
            raise
        finally:
            attempt.finish(ok)
            reply.close()

    async def _relay_whole(self, exchange: Exchange, attempt: Attempt, output: OutputPolicies | None) -> None:
        route, reply = attempt.route, attempt.reply
        body = await reply.read()
        if reply.status == 200:
            if (usage := usage_of(body)) is not None:
                self.add_usage(exchange, route, usage)
            if output is not None:
                body = await output.check_body(body, self.chat)
            if route.rename_response is not None:
                body = body.replace(*route.rename_response)
            await exchange.reply(200, body, find_header(reply.headers, b"content-type") or JSON)
            if output is None:
                await self._fill_cache(exchange, route.name, body)
            return
        if reply.status >= 500:
            self.metrics.upstream_error(route.name, "status_5xx")
        await exchange.reply_error(UpstreamRejected(reply.status, body))

    async def _replay_whole(
        self, exchange: Exchange, attempt: Attempt, strip_usage: bool, output: OutputPolicies | None
    ) -> None:
        """A stream request the upstream answered with one JSON body: replayed as the stream the client asked for
        (passing JSON through would leave an SSE client with an empty stream)."""
        route = attempt.route
        body = await attempt.reply.read()
        if route.rename_response is not None:
            body = body.replace(*route.rename_response)
        answer = cascade.parse_answer(body)
        if answer is None or not isinstance(answer.get("choices"), list):
            raise UpstreamError("the upstream answered a stream request with JSON that is not a completion")
        if isinstance(answer.get("usage"), dict):
            self.add_usage(exchange, route, answer["usage"])
        if output is not None:
            await output.check_answer(answer, self.chat)
        await exchange.start_stream()
        await exchange.stream(cascade.as_sse(answer, self.chat, include_usage=not strip_usage))
        await exchange.end_stream()
        if output is None:
            await self._fill_cache(exchange, route.name, body)

    async def _relay_stream(
        self, exchange: Exchange, attempt: Attempt, strip_usage: bool, output: OutputPolicies | None
    ) -> bool | None:
        """Pass the stream through; False if the upstream broke it off, None if it hit our event limit."""
        route = attempt.route
        tap = SSEUsageTap(strip_usage=strip_usage, rename=route.rename_response, max_event_bytes=self.max_event_bytes)
        events = None if output is None else output.sse(self.chat)
        collect = self._assembler(exchange, output)
        await exchange.start_stream()
        first = True
        last = 0.0
        try:
            async for chunk in attempt.reply.iter_chunks():
                out = tap.feed(chunk)
                if events is not None and out:
                    out, stop = await events.process(out)
                    if stop:  # an output guard ended the stream
                        await exchange.stream(out)
                        await exchange.end_stream()
                        attempt.reply.abort()
                        return True
                if out:
                    now = time.perf_counter()
                    if first:
                        first = False
                        self.metrics.first_token(route.name, now - exchange.started)
                    else:
                        self.metrics.inter_token_gap(route.name, now - last)
                    last = now
                    await exchange.stream(out)
                    if collect is not None:
                        collect.feed(out)
            rest = tap.flush()
            if events is not None:
                rest, _ = await events.process(rest)
                rest += await events.close()  # text still held back when the upstream sent no [DONE]
            await exchange.stream(rest)
            if collect is not None:
                collect.feed(rest)
        except UpstreamError as exc:
            attempt.reply.abort()  # a stream cut short (or over our limit) is not read any further
            self.metrics.upstream_error(route.name, exc.code or "bad_gateway")
            await exchange.stream(error_event(exc.message, exc.type, exc.code or "bad_gateway"))
            await exchange.end_stream()
            return None if isinstance(exc, UpstreamEventTooLarge) else False
        await exchange.end_stream()
        if tap.usage is not None:
            self.add_usage(exchange, route, tap.usage)
        if collect is not None and (answer := collect.answer(self.chat, tap.usage)) is not None:
            await self._fill_cache(exchange, route.name, orjson.dumps(answer))
        return True

    async def _cascade(self, exchange: Exchange, data: dict[str, Any], weak: ModelRoute, decision: Decision) -> int:
        assert decision.escalate_to is not None and decision.judge is not None
        status, body = await self.fetch_whole(exchange, [weak], cascade.weak_request(data, self.chat))
        answer, trusted, why = cascade.judge_answer(decision.judge, status, body)
        if not trusted or answer is None:
            self.metrics.decision(data["model"], decision.escalate_to, "escalated")
            strong = self.catalog.models[decision.escalate_to]
            return await self._forward(exchange, data, b"", strong, f"cascade: escalated, {why}".encode())
        self.add_usage(exchange, weak, answer.get("usage") or {})
        exchange.reply_headers += [(b"x-semgate-model", weak.name.encode()),
                                   (b"x-semgate-route", f"cascade: weak answer kept, {why}".encode())]
        return await self.reply_answer(exchange, cascade.as_client_asked(answer, data, weak.name), data)

    async def fetch_whole(self, exchange: Exchange, chain: list[ModelRoute], probe: dict[str, Any]) -> tuple[int, bytes]:
        """Ask for a whole (non-streamed) answer, for the gateway to read before replying."""
        attempt = await self.dispatcher.send(exchange, chain, _body_builder(probe, b"", True))
        ok: bool | None = False
        try:
            body = await attempt.reply.read()
            ok = attempt.reply.status < 500
        except asyncio.CancelledError:
            ok = None  # the client left; the replica did nothing wrong
            raise
        except UpstreamReplyTooLarge as exc:
            ok = None  # over our limit: not the replica's fault either
            self.metrics.upstream_error(attempt.route.name, exc.code or "bad_gateway")
            raise
        finally:
            attempt.finish(ok)
        return attempt.reply.status, body

    async def reply_answer(self, exchange: Exchange, answer: dict[str, Any], data: dict[str, Any]) -> int:
        """A whole answer, in the shape the client asked for: JSON, or replayed as SSE."""
        if data.get("stream"):
            include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
            await exchange.start_stream()
            await exchange.stream(cascade.as_sse(answer, self.chat, include_usage))
            await exchange.end_stream()
        else:
            body = orjson.dumps(answer)
            await exchange.reply(200, body, JSON)
            await self._fill_cache(exchange, str(answer.get("model") or data["model"]), body)
        return 200

    def add_usage(self, exchange: Exchange, route: ModelRoute, usage: dict[str, Any]) -> None:
        """Count what the upstream reported: metrics, and the tenant's limits, budgets and usage."""
        prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
        config = route.config
        cost = (prompt * config.input_cost_per_mtok + completion * config.output_cost_per_mtok) / 1e6
        self.metrics.usage(route.name, prompt, completion, cost)
        if self.access is not None:
            self.access.account(exchange.scope, route.name, prompt, completion, cost)



def _body_builder(data: dict[str, Any], body: bytes, modified: bool) -> Callable[[ModelRoute], bytes]:
    """The bytes to send to a model: the client's own when nothing changes."""

    def build(route: ModelRoute) -> bytes:
        if body and not modified and data["model"] == route.served_model:
            return body
        return orjson.dumps({**data, "model": route.served_model})

    return build

