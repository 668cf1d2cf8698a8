"""A public model name bound to its replicas and upstream details."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from gateway.config import ModelConfig
from router.balancer import ReplicaSet
from router.replicas import Replica


@dataclass(frozen=True, slots=True)
class ModelRoute:
    name: str
    served_model: str
    replicas: ReplicaSet
    upstream_headers: tuple[tuple[bytes, bytes], ...]
    # The public and upstream names differ: the request's `model` is rewritten,
    # and the reply's `"model":"<upstream>"` is replaced back byte-wise.
    rename_request: bool
    rename_response: tuple[bytes, bytes] | None
    config: ModelConfig
    # Filled in once every model is built: config.fallbacks as routes.
    fallback_routes: list[ModelRoute] = field(default_factory=list)

    @classmethod
    def build(cls, config: ModelConfig, urls: list[str | Callable[[], str]]) -> ModelRoute:
        headers = [(b"content-type", b"application/json")]
        if config.upstream_api_key_env:
            key = os.environ.get(config.upstream_api_key_env, "")
            headers.append((b"authorization", b"Bearer " + key.encode()))
        renamed = config.served_model != config.name
        rename_response = None
        if renamed:
            rename_response = (
                b'"model":' + orjson.dumps(config.served_model),
                b'"model":' + orjson.dumps(config.name),
            )
        return cls(
            name=config.name,
            served_model=config.served_model,
            replicas=ReplicaSet([Replica(url) for url in urls], config.balancer),
            upstream_headers=tuple(headers),
            rename_request=renamed,
            rename_response=rename_response,
            config=config,
        )
