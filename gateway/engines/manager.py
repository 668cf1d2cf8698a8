"""Starts the engines a config asks the gateway to run, and stops them.

`engine: sim` models get an in-process simulated engine on a free port;
`engine: vllm` models get a supervised vLLM child process. Either way the
gateway then talks to them over HTTP like to any other upstream, so the
request path is the same one production traffic takes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gateway.config import ModelConfig

log = logging.getLogger("semgate.engines")

UrlSource = str | Callable[[], str]


class Engine(Protocol):
    async def start(self) -> str: ...
    async def stop(self) -> None: ...


class _SimEngine:
    def __init__(self, model: ModelConfig) -> None:
        from gateway.engines.sim import SimServer, make_profile

        assert model.sim is not None
        self.server = SimServer(
            model.served_model,
            make_profile(model.sim.profile, model.sim.overrides),
            seed=model.sim.seed,
            speedup=model.sim.speedup,
            behaviour=model.sim.behaviour,
            guard_triggers=model.sim.guard_triggers,
        )

    async def start(self) -> str:
        return await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()


def _make_engine(model: ModelConfig, base_dir: Path) -> tuple[Engine, UrlSource | None]:
    if model.engine == "sim":
        return _SimEngine(model), None
    from gateway.engines.vllm import ManagedVLLM

    assert model.vllm is not None
    engine = ManagedVLLM(model.served_model, model.vllm, cwd=base_dir)
    # A restarted vLLM may come back on another port: read the URL per request.
    return engine, lambda: engine.base_url


class EngineSet:
    def __init__(self, models: list[ModelConfig], base_dir: Path) -> None:
        self._models = [m for m in models if m.engine != "http"]
        self._base_dir = base_dir
        self._engines: list[Engine] = []
        self._by_model: dict[str, Engine] = {}

    def get(self, model: str) -> Engine | None:
        """The engine serving `model`, if the gateway runs one for it."""
        return self._by_model.get(model)

    async def start(self) -> dict[str, list[UrlSource]]:
        """Start every engine concurrently; map model name -> upstream URLs."""
        made = [(m, *_make_engine(m, self._base_dir)) for m in self._models]
        self._engines = [engine for _, engine, _ in made]
        self._by_model = {model.name: engine for model, engine, _ in made}
        urls = await asyncio.gather(*(engine.start() for _, engine, _ in made), return_exceptions=True)
        failed = [(m, u) for (m, _, _), u in zip(made, urls) if isinstance(u, BaseException)]
        if failed:
            await self.stop()
            model, error = failed[0]
            raise RuntimeError(f"engine for model {model.name!r} failed to start: {error}") from error
        return {
            model.name: [source if source is not None else url]  # type: ignore[list-item]
            for (model, _, source), url in zip(made, urls)
        }

    async def stop(self) -> None:
        results = await asyncio.gather(*(e.stop() for e in self._engines), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.warning("engine stop failed: %s", result)
        self._engines = []
        self._by_model = {}
