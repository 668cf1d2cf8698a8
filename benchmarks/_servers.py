"""The servers that benchmarks/overhead.py measures, and the instant upstream.

Each row is an `Endpoint`: where the non-streaming and streaming requests go
and which process (if any) is the server under test, for its RSS.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks._procs import CpuPlan, Service, ServiceError, free_port

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
LITELLM_VENV = Path(os.environ.get("SEMGATE_LITELLM_VENV", ROOT / ".venv-litellm"))

COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "bench",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
}


def _chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "bench-stream",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


STREAM_CHUNKS = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Hello"}),
    _chunk({"content": "!"}),
    _chunk({"content": " How can I help?"}),
    _chunk({}, "stop"),
]


def sse_body() -> str:
    events = [f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n" for chunk in STREAM_CHUNKS]
    return "".join(events) + "data: [DONE]\n\n"


@dataclass
class Endpoint:
    """One benchmark row: where to send, and the process under test."""

    row: str
    plain_port: int
    stream_port: int
    service: Service | None
    plain_path: str = "/v1/chat/completions"

    def url(self, stream: bool) -> str:
        port = self.stream_port if stream else self.plain_port
        return f"http://127.0.0.1:{port}{self.plain_path}"


def _nginx_quote(text: str) -> str:
    """Escape text for a single-quoted nginx string (nginx decodes \\n)."""
    if "$" in text:
        raise ValueError("nginx would expand '$' in a return body")
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")


def _render(template: str, tmp: Path, out_name: str, values: Mapping[str, object]) -> Path:
    text = (HERE / "nginx" / template).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    if re.search(r"\{\{[A-Z_]+\}\}", text):
        raise ServiceError(f"unfilled placeholder in nginx/{template}")
    (tmp / "tmp").mkdir(exist_ok=True)
    path = tmp / out_name
    path.write_text(text)
    return path


def _nginx(name: str, conf: Path, tmp: Path, cores: frozenset[int]) -> Service:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    argv = [nginx, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / f"error-{name}.log"), "-g", "daemon off;"]
    return Service(name, argv, tmp / f"{name}.log", cores)


def start_upstream(tmp: Path, cpus: CpuPlan) -> Endpoint:
    """The instant upstream (also the `direct` row); runs on the load cores."""
    plain, stream = free_port(), free_port()
    values = {
        "PORT": plain,
        "STREAM_PORT": stream,
        "COMPLETION": _nginx_quote(json.dumps(COMPLETION, separators=(",", ":"))),
        "SSE": _nginx_quote(sse_body()),
    }
    conf = _render("upstream.conf", tmp, "nginx-upstream.conf", values)
    service = _nginx("nginx-upstream", conf, tmp, cpus.load).start()
    service.wait_http(plain, "/health", timeout=15)
    service.wait_http(stream, "/health", timeout=15)
    return Endpoint("direct", plain, stream, service)


def start_nginx_proxy(tmp: Path, cpus: CpuPlan, upstream: Endpoint) -> Endpoint:
    plain, stream = free_port(), free_port()
    values = {
        "PORT": plain,
        "STREAM_PORT": stream,
        "UPSTREAM_PORT": upstream.plain_port,
        "UPSTREAM_STREAM_PORT": upstream.stream_port,
    }
    conf = _render("proxy.conf", tmp, "nginx-proxy.conf", values)
    service = _nginx("nginx-proxy", conf, tmp, cpus.server).start()
    service.wait_http(plain, "/health", timeout=15)
    return Endpoint("nginx proxy_pass", plain, stream, service)


def semgate_command() -> list[str]:
    local = Path(sys.executable).parent / "semgate"
    if local.exists():
        return [str(local)]
    found = shutil.which("semgate")
    if found:
        return [found]
    return [sys.executable, "-m", "gateway.cli"]


def semgate_available() -> str | None:
    """None when the gateway can be started, else why not."""
    if not (ROOT / "gateway" / "cli.py").exists():
        return "gateway/cli.py does not exist yet"
    return None


# The `semgate-tenants` row: keys, RPM, TPM and a budget all checked and charged per
# request (limits high enough never to refuse), on the in-memory store.
TENANT_KEY_SHA256 = hashlib.sha256(b"sk-bench-tenant").hexdigest()
TENANTS_YAML = (
    "tenants:\n"
    "  bench:\n"
    "    rpm: 1000000000\n"
    "    tpm: 1000000000000\n"
    "    budgets: [{usd: 1000000000, period: day}]\n"
    f"    key_hashes: ['sha256:{TENANT_KEY_SHA256}']\n"
)


def _semgate_yaml(upstream: Endpoint, log_off: bool, tenants: bool = False, redis_url: str | None = None) -> str:
    server = "server: {access_log: false}\n" if log_off else ""
    store = f"store: {{backend: redis, url: '{redis_url}'}}\n" if redis_url else ""
    return (
        f"{server}{store}{TENANTS_YAML if tenants else ''}models:\n"
        f"  - name: bench\n"
        f"    upstreams: [http://127.0.0.1:{upstream.plain_port}/v1]\n"
        f"  - name: bench-stream\n"
        f"    upstreams: [http://127.0.0.1:{upstream.stream_port}/v1]\n"
    )


def start_semgate(
    tmp: Path, cpus: CpuPlan, upstream: Endpoint, workers: int = 1, tenants: bool = False, redis_url: str | None = None,
    access_log: bool = False,
) -> Endpoint:
    """The gateway (`workers` processes; 1: the single-process path) on the server cores; waits for /health.

    The access log is off unless `access_log` (the default config, as shipped)."""
    for log_off in (True, False) if not access_log else (False,):
        config = tmp / "semgate.yaml"
        config.write_text(_semgate_yaml(upstream, log_off, tenants, redis_url))
        port = free_port()
        argv = [*semgate_command(), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
        if workers > 1:
            argv += ["--workers", str(workers)]
        service = Service("semgate", argv, tmp / "semgate.log", cpus.server, cwd=ROOT).start()
        try:
            service.wait_http(port, "/health", timeout=60)
            return Endpoint("semgate", port, port, service)
        except ServiceError:
            if not (log_off and "access_log" in service.log_tail(60)):
                raise
    raise AssertionError("unreachable")


def start_redis(tmp: Path, cpus: CpuPlan) -> tuple[Service, str]:
    """A redis-server on the load cores (it is shared state, not the server under test)."""
    if not shutil.which("redis-server"):
        raise ServiceError("redis-server is not installed (scripts/setup-system.sh)")
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    service = Service("redis", argv, tmp / "redis.log", cpus.load).start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return service, f"redis://127.0.0.1:{port}/0"
        except OSError:
            pass
        time.sleep(0.05)
    service.stop()
    raise ServiceError("redis-server did not answer PING")


def litellm_available() -> str | None:
    if not (LITELLM_VENV / "bin" / "litellm").exists():
        return f"{LITELLM_VENV.name} not found: run benchmarks/setup-litellm.sh"
    return None


def litellm_version() -> str | None:
    meta = sorted((LITELLM_VENV / "lib").glob("python*/site-packages/litellm-*.dist-info"))
    return meta[-1].name.removeprefix("litellm-").removesuffix(".dist-info") if meta else None


def _litellm_yaml(upstream: Endpoint) -> str:
    lines = ["model_list:"]
    for name, port in (("bench", upstream.plain_port), ("bench-stream", upstream.stream_port)):
        lines += [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: openai/{name}",
            f"      api_base: http://127.0.0.1:{port}/v1",
            "      api_key: sk-bench",
        ]
    lines += ["litellm_settings:", "  telemetry: false", "  turn_off_message_logging: true"]
    return "\n".join(lines) + "\n"


# uvicorn's access log off, as for the other rows (semgate: access_log: false;
# nginx: access_log off).
LITELLM_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING"},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def litellm_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LITELLM_LOG="ERROR",
        LITELLM_TELEMETRY="False",
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # no fetch of the price list at start
        DISABLE_ADMIN_UI="True",
        NO_DOCS="True",
    )
    return env


def start_litellm(tmp: Path, cpus: CpuPlan, upstream: Endpoint) -> Endpoint:
    config = tmp / "litellm.yaml"
    config.write_text(_litellm_yaml(upstream))
    logging_config = tmp / "litellm-logging.json"
    logging_config.write_text(json.dumps(LITELLM_LOGGING))
    port = free_port()
    argv = [
        str(LITELLM_VENV / "bin" / "litellm"),
        *("--config", str(config), "--host", "127.0.0.1", "--port", str(port)),
        *("--num_workers", "1", "--telemetry", "False", "--log_config", str(logging_config)),
    ]
    service = Service("litellm", argv, tmp / "litellm.log", cpus.server, env=litellm_env(), cwd=tmp).start()
    service.wait_http(port, "/health/liveliness", timeout=180)
    return Endpoint("litellm", port, port, service)
