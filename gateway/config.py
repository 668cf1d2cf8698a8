"""Gateway configuration: a YAML file validated by pydantic.

Every section forbids unknown keys, so a typo fails at start with the key's
path in the message instead of being silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.sections import PositiveFloat, Section
from gateway.tenants.config import AuthConfig, TenantConfig, TenantName
from policies.config import PoliciesConfig

MiB = 1024 * 1024


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


_Section = Section


class SimEngineConfig(_Section):
    """An embedded simulated engine (see docs/sim-engine.md)."""

    profile: str = "llama3-8b-h100"
    seed: int = 0
    # Divides every modelled duration: 10 runs the simulated GPU ten times
    # faster than real time, which keeps tests quick without changing ratios.
    speedup: PositiveFloat = 1.0
    # Per-profile field overrides, e.g. {"kv_cache_tokens": 4096}.
    overrides: dict[str, float] = {}
    # Act as a guard model: "llama_guard" answers in Llama Guard 3's format,
    # "classifier" serves vLLM's POST /classify with DuoGuard's 12 categories.
    behaviour: Literal["text", "llama_guard", "classifier"] = "text"
    # Trigger word -> Llama Guard category ("bomb": "S9"), replacing the default table.
    guard_triggers: dict[str, str] | None = None

    @model_validator(mode="after")
    def _guard_triggers(self) -> SimEngineConfig:
        if self.guard_triggers is not None:
            if self.behaviour == "text":
                raise ValueError("guard_triggers need behaviour llama_guard or classifier")
            for word, category in self.guard_triggers.items():
                if not word.strip() or not (category[:1] == "S" and category[1:].isdigit()):
                    raise ValueError(f"guard_triggers: {word!r} must map to a category like 'S1', got {category!r}")
        return self


class VLLMEngineConfig(_Section):
    """A real vLLM server that the gateway starts, watches and stops."""

    model: str
    args: list[str] = []
    python: str = ".venv-vllm/bin/python"
    env: dict[str, str] = {}
    startup_timeout_s: PositiveFloat = 600.0
    max_restarts: int = Field(default=5, ge=0)


class CacheConfig(_Section):
    """Exact-match response cache for one model or route (opt-in; gateway/cache.py)."""

    ttl_s: PositiveFloat = 300.0
    # Answers larger than this are not kept.
    max_bytes: int = Field(default=256 * 1024, gt=0)


class BalancerConfig(_Section):
    """How requests are spread over one model's replicas (router/balancer)."""

    # Least outstanding requests over two random candidates ("power of two choices").
    policy: Literal["p2c", "round_robin"] = "p2c"
    # Scrape vLLM's /metrics (queue length, KV-cache use) to refine the load estimate.
    scrape_metrics: bool = True
    scrape_interval_s: PositiveFloat = 1.0
    # Requests sharing a long prefix go to the same replica (consistent hashing
    # with bounded loads: no replica takes more than load_bound x the mean).
    prefix_affinity: bool = True
    prefix_min_chars: int = Field(default=256, ge=1)
    load_bound: float = Field(default=1.25, ge=1.0)
    # Requests carrying this header with the same value stick to one replica.
    session_header: str = "x-session-id"
    # Circuit breaker: this many consecutive failures open it for open_s seconds.
    failure_threshold: int = Field(default=5, ge=1)
    open_s: PositiveFloat = 10.0


class RetryConfig(_Section):
    """Retries of a failed upstream attempt, on another replica when there is one."""

    attempts: int = Field(default=3, ge=1, le=10)  # attempts in total, per model
    backoff_s: float = Field(default=0.025, ge=0)  # doubled after each failed attempt
    on_status: list[int] = [429, 500, 502, 503, 504]


class ModelConfig(_Section):
    """One public model name and where its requests go."""

    name: str = Field(min_length=1)
    engine: Literal["http", "sim", "vllm"] = "http"
    upstreams: list[str] = []
    upstream_model: str | None = None
    # Name of an environment variable holding the upstream's API key; the key
    # itself never appears in the file.
    upstream_api_key_env: str | None = None
    input_cost_per_mtok: float = Field(default=0.0, ge=0)
    output_cost_per_mtok: float = Field(default=0.0, ge=0)
    # Catalog facts the router reads.
    tier: int = Field(default=1, ge=0)  # quality tier: higher is stronger
    context_window: int | None = Field(default=None, gt=0)
    capabilities: list[Literal["tools", "json_mode"]] = ["tools", "json_mode"]
    # Models to try, in order, when every replica of this one failed.
    fallbacks: list[str] = []
    balancer: BalancerConfig = BalancerConfig()
    retry: RetryConfig = RetryConfig()
    cache: CacheConfig | None = None
    sim: SimEngineConfig | None = None
    vllm: VLLMEngineConfig | None = None

    @field_validator("upstreams")
    @classmethod
    def _check_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) base URL")
        return [url.rstrip("/") for url in urls]

    @model_validator(mode="after")
    def _check_engine(self) -> ModelConfig:
        if self.engine == "http" and not self.upstreams:
            raise ValueError("needs 'upstreams' (or engine: sim / vllm)")
        if self.engine != "http" and self.upstreams:
            raise ValueError(f"engine {self.engine!r} runs its own upstream; drop 'upstreams'")
        if self.engine == "vllm" and self.vllm is None:
            raise ValueError("engine 'vllm' needs a 'vllm' section with at least 'model'")
        if self.engine == "sim" and self.sim is None:
            object.__setattr__(self, "sim", SimEngineConfig())
        return self

    @property
    def served_model(self) -> str:
        """The model name sent upstream."""
        return self.upstream_model or self.name


class RouteRule(_Section):
    """Send to `model` when every condition given here holds."""

    model: str
    header: dict[str, str] = {}  # header name -> exact value
    min_prompt_tokens: int | None = Field(default=None, ge=0)
    max_prompt_tokens: int | None = Field(default=None, ge=0)
    tools: bool | None = None  # the request carries `tools`
    json_mode: bool | None = None  # the request asks for a JSON response_format


class RulesRoute(_Section):
    name: str = Field(min_length=1)
    cache: CacheConfig | None = None
    strategy: Literal["rules"]
    rules: list[RouteRule] = []
    default: str


class LearnedRoute(_Section):
    name: str = Field(min_length=1)
    cache: CacheConfig | None = None
    strategy: Literal["learned"]
    weak: str
    strong: str
    # Scores above this go to the strong model; per request the header
    # x-semgate-route-threshold overrides it.
    threshold: float = Field(default=0.5, ge=0, le=1)
    artifact: str | None = None  # default: the scorer shipped with Semgate


class CascadeRoute(_Section):
    name: str = Field(min_length=1)
    cache: CacheConfig | None = None
    strategy: Literal["cascade"]
    weak: str
    strong: str
    # How the weak answer is judged: its mean token logprob ("mean_logprob"), or the
    # uncertainty policy's calibrated confidence ("confidence", docs/uncertainty.md).
    judge: Literal["mean_logprob", "confidence"] = "mean_logprob"
    # The weak answer is trusted when its mean token logprob is at least this ...
    min_mean_logprob: float = Field(default=-0.6, le=0)
    # ... or, with judge "confidence", when its confidence is at least this.
    min_confidence: float = Field(default=0.5, ge=0, le=1)


RouteConfig = Annotated[RulesRoute | LearnedRoute | CascadeRoute, Field(discriminator="strategy")]


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # --- what clients may send -------------------------------------------------
    # A request body above this is refused with 413 (before it is read, when
    # content-length says so; as soon as it is exceeded, when chunked).
    max_body_bytes: int = Field(default=16 * MiB, gt=0)
    # Request line plus all headers; above this the request is refused with 431.
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    # --- how long clients may take (slowloris, half-sent bodies, idle sockets) --
    # From the connection's first byte (or the end of the previous reply) to the
    # end of the request headers; past it the connection is closed.
    header_timeout_s: PositiveFloat = 10.0
    # Longest silence while a request body is being received.
    body_timeout_s: PositiveFloat = 15.0
    # An idle keep-alive connection (no request under way) is closed after this.
    keepalive_timeout_s: PositiveFloat = 5.0
    # Open client connections per gateway process; more are answered 503 and
    # closed at once. Also capped below the process's open-files limit, so
    # upstream sockets, health probes and the store always find a descriptor.
    max_client_connections: int = Field(default=4096, gt=0)
    # After SIGTERM/SIGINT, requests still running get this long to finish before they
    # are cancelled (waiting dataflow fetches and streams are answered at once).
    shutdown_timeout_s: PositiveFloat = 10.0
    # --- upstreams ---------------------------------------------------------------
    # Upstream timeouts: connecting, and waiting for the next byte of a reply.
    connect_timeout_s: PositiveFloat = 5.0
    read_timeout_s: PositiveFloat = 600.0
    max_connections_per_upstream: int = Field(default=256, gt=0)
    # A whole (non-streamed) upstream reply above this fails with 502
    # upstream_reply_too_large instead of being buffered.
    max_reply_bytes: int = Field(default=128 * MiB, gt=0)
    # One server-sent event from an upstream stream; a larger one (or a stream
    # that never frames an event) ends the stream with an in-band error and [DONE].
    max_event_bytes: int = Field(default=4 * MiB, gt=0)
    # One line per proxied request (gateway/accesslog.py): true writes to stderr,
    # a path appends to that file, false turns it off.
    access_log: bool | Annotated[str, Field(min_length=1)] = True
    # Lines waiting for the access log's writer; past this they are dropped and
    # counted (semgate_access_log_dropped_total) rather than held without bound.
    access_log_buffer_lines: int = Field(default=32768, gt=0)
    # How often engines' /health is polled for /ready.
    health_interval_s: PositiveFloat = 5.0


class DataflowConfig(_Section):
    """Semantic-variable workflows (dataflow/; docs/dataflow.md): limits and scheduling."""

    max_calls_per_graph: int = Field(default=1024, gt=0)
    max_variables_per_session: int = Field(default=8192, gt=0)
    max_template_chars: int = Field(default=200_000, gt=0)
    max_value_chars: int = Field(default=1_000_000, gt=0)
    # One rendered prompt (a template repeating a large value renders large).
    max_prompt_chars: int = Field(default=2_000_000, gt=0)
    # Idle sessions (nothing running, nothing fetched) are freed after this long.
    session_ttl_s: PositiveFloat = 3600.0
    # One call, all of its outputs; past it the call fails and so do its dependents.
    call_timeout_s: PositiveFloat = 600.0
    # The longest a fetch may wait for a variable (its `timeout` is clamped to it).
    max_wait_s: PositiveFloat = 300.0
    # Dataflow calls in flight on this gateway replica; the rest queue by priority.
    max_concurrent_calls: int = Field(default=256, gt=0)
    # Prompts whose first prefix_chars characters match are one prefix group.
    prefix_chars: int = Field(default=256, gt=0)


class StoreConfig(_Section):
    """Where state shared between gateway replicas lives (gateway/store)."""

    backend: Literal["memory", "redis"] = "memory"
    # redis: the URL, or the environment variable holding it (it may carry a password).
    url: str | None = None
    url_env: str | None = None
    max_connections: int = Field(default=256, gt=0)
    # One command's limit (connect, reply, a free connection): a Redis that stopped
    # answering delays a request this long at most, never hangs it.
    timeout_s: PositiveFloat = 0.5
    # When the store fails, limits, budgets, usage and the response cache either
    # let requests through without them ("open") or refuse them with 503 ("closed").
    # Authentication never fails open: an unknown key is refused either way.
    on_error: Literal["open", "closed"] = "open"
    # After a failure, the store is skipped for this long (requests go on per
    # on_error at once instead of each waiting out timeout_s).
    retry_after_s: PositiveFloat = 2.0

    @model_validator(mode="after")
    def _redis_url(self) -> StoreConfig:
        if self.backend == "redis" and not (self.url or self.url_env):
            raise ValueError("the redis store needs `url` or `url_env`")
        return self


class GatewayConfig(_Section):
    server: ServerConfig = ServerConfig()
    store: StoreConfig = StoreConfig()
    dataflow: DataflowConfig = DataflowConfig()
    policies: PoliciesConfig = PoliciesConfig()
    models: list[ModelConfig] = Field(min_length=1)
    routes: list[RouteConfig] = []
    # Authentication is on when either is present (docs/tenants.md).
    auth: AuthConfig | None = None
    tenants: dict[TenantName, TenantConfig] = {}

    @property
    def auth_enabled(self) -> bool:
        return self.auth is not None or bool(self.tenants)

    @model_validator(mode="after")
    def _check_names(self) -> GatewayConfig:
        models = {m.name for m in self.models}
        seen: set[str] = set()
        for name in [m.name for m in self.models] + [r.name for r in self.routes]:
            if name in seen:
                raise ValueError(f"name {name!r} is used twice (model and route names share one namespace)")
            seen.add(name)
        for model in self.models:
            _known(models, model.fallbacks, f"model {model.name!r} fallbacks")
        for route in self.routes:
            targets = route_targets(route)
            _known(models, targets, f"route {route.name!r}")
        for where, name in self.policies.models_named():
            _known(models, [name], where)
        self._check_tenants(seen)
        return self

    def _check_tenants(self, names: set[str]) -> None:
        if self.auth is not None and not self.tenants:
            raise ValueError("auth needs at least one tenant under `tenants` (keys belong to a tenant)")
        hashes: set[str] = set()
        for tenant, settings in self.tenants.items():
            _known(names, settings.models or [], f"tenants.{tenant}.models")
            if settings.policy not in (None, "none") and settings.policy not in self.policies.profiles:
                raise ValueError(f"tenants.{tenant}.policy names unknown profile {settings.policy!r}")
            for value in settings.key_hashes:
                if value in hashes:
                    raise ValueError(f"tenants.{tenant}: a key hash is listed twice")
                hashes.add(value)


def route_targets(route: RulesRoute | LearnedRoute | CascadeRoute) -> list[str]:
    if isinstance(route, RulesRoute):
        return [route.default, *(rule.model for rule in route.rules)]
    return [route.weak, route.strong]


def _known(models: set[str], names: list[str], where: str) -> None:
    for name in names:
        if name not in models:
            raise ValueError(f"{where} names unknown model {name!r}")


def default_config() -> GatewayConfig:
    """The embedded default: simulated engines only, starts in seconds."""
    return GatewayConfig(
        models=[
            ModelConfig(name="sim-small", engine="sim", sim=SimEngineConfig(profile="llama3-8b-h100")),
            ModelConfig(name="sim-large", engine="sim", sim=SimEngineConfig(profile="llama3-70b-h100x4")),
        ],
        # The learned router picks the model per prompt (docs/learned-router.md).
        routes=[LearnedRoute(name="auto", strategy="learned", weak="sim-small", strong="sim-large")],
    )


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "<config>") -> GatewayConfig:
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid config {source}:\n{_describe(exc)}") from None


def load_config(path: str | Path) -> GatewayConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping with a 'models' list")
    return parse_config(data, str(path))
