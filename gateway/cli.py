"""The `semgate` command line."""

from __future__ import annotations

import argparse
import atexit
import logging
import logging.handlers
import queue
import sys
import time
from pathlib import Path

import uvicorn
import uvloop

from gateway import admin_cli
from gateway.accesslog import STDERR_LOCK
from gateway.app import Gateway
from gateway.config import ConfigError, GatewayConfig, default_config, load_config
from gateway.server import uvicorn_config
from gateway.shutdown import DrainingServer
from gateway.store import StoreError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class UTCFormatter(logging.Formatter):
    """Timestamps as the access log writes them: 2026-12-08T03:10:02.123Z."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


def setup_logging(level: str) -> None:
    """Log through a queue: the event loop never blocks on writing a line.

    The access log (gateway/accesslog.py) writes to stderr by itself; it takes
    this handler's lock for each write, so its lines and these never interleave
    mid-line.
    """
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler(sys.stderr)
    stream.lock = STDERR_LOCK
    stream.setFormatter(UTCFormatter(LOG_FORMAT))
    listener = logging.handlers.QueueListener(records, stream)
    listener.start()
    atexit.register(listener.stop)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())


def _banner(config: GatewayConfig, source: str, host: str, port: int) -> str:
    lines = [f"Semgate — OpenAI base URL http://{host}:{port}/v1  (config: {source})"]
    for model in config.models:
        if model.engine == "sim":
            assert model.sim is not None
            where = f"simulated engine, profile {model.sim.profile}"
        elif model.engine == "vllm":
            assert model.vllm is not None
            where = f"managed vLLM serving {model.vllm.model}"
        else:
            where = ", ".join(model.upstreams)
        lines.append(f"  model {model.name:<16} -> {where}")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    try:
        if args.config:
            config = load_config(args.config)
            source, base_dir = args.config, Path(args.config).resolve().parent
        else:
            config, source, base_dir = default_config(), "embedded default, simulated engines only", Path.cwd()
    except ConfigError as exc:
        print(f"semgate: {exc}", file=sys.stderr)
        return 2
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    setup_logging(args.log_level)
    print(_banner(config, source, host, port), file=sys.stderr, flush=True)
    if args.workers > 1:
        from gateway.workers import serve_workers

        return serve_workers(config, args.config, _project_dir(base_dir), host, port, args.log_level, args.workers)
    try:
        gateway = Gateway(config, base_dir=_project_dir(base_dir))
    except (StoreError, OSError, ValueError) as exc:  # a store URL or an artifact that is missing: one line
        print(f"semgate: start-up failed: {exc}", file=sys.stderr)
        return 1
    server = DrainingServer(uvicorn_config(gateway, config, host=host, port=port, log_level=args.log_level))
    try:
        return uvloop.run(_serve(gateway, server))
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        return 0


async def _serve(gateway: Gateway, server: uvicorn.Server) -> int:
    try:
        await gateway.startup()
    except Exception as exc:  # an engine that cannot start: one clear line, no traceback
        logging.getLogger("semgate").error("start-up failed: %s", exc)
        await gateway.shutdown()
        return 1
    try:
        await server.serve()
    finally:  # also when the port is taken (uvicorn exits) or on Ctrl-C
        await gateway.shutdown()
    return 0 if server.started else 1


def _project_dir(config_dir: Path) -> Path:
    """Relative engine paths (.venv-vllm, .models) resolve against the project root.

    A config under deploy/ still means the project's .venv-vllm, so walk up to
    the first folder with a pyproject.toml; else use the config's folder.
    """
    for folder in (config_dir, *config_dir.parents):
        if (folder / "pyproject.toml").exists():
            return folder
    return config_dir


def check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"semgate: {exc}", file=sys.stderr)
        return 2
    print(f"{args.config}: ok, {len(config.models)} models: {', '.join(m.name for m in config.models)}")
    return 0


def engine_sim(args: argparse.Namespace) -> int:
    from gateway.engines.sim import run_sim_server

    run_sim_server(args.model, args.profile, args.host, args.port, args.seed, args.speedup)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="semgate", description="High-throughput LLM serving gateway.")
    commands = root.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the gateway")
    p.add_argument("--config", help="YAML config (default: embedded simulated engines)")
    p.add_argument("--host", default=None, help="bind address (default: config, else 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: config, else 8080)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--workers", type=_positive, default=1,
                   help="gateway processes sharing the port (default 1); engines still start once")
    p.set_defaults(run=serve)

    p = commands.add_parser("check-config", help="validate a config file and exit")
    p.add_argument("config")
    p.set_defaults(run=check_config)

    engine = commands.add_parser("engine", help="run an engine on its own").add_subparsers(dest="kind", required=True)
    p = engine.add_parser("sim", help="the simulated GPU engine, OpenAI-compatible")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8101)
    p.add_argument("--model", default="sim", help="served model name")
    p.add_argument("--profile", default="llama3-8b-h100")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--speedup", type=float, default=1.0)
    p.set_defaults(run=engine_sim)

    admin_cli.add_commands(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
