"""Guards by configured type: the one place that knows every guard class."""

from __future__ import annotations

from policies.config import GuardSpec
from policies.guards.base import Guard


def build_guard(name: str, spec: GuardSpec, urls: list[str], served_model: str) -> Guard:
    """A guard for `spec`; `urls` are the base URLs of the model that serves it, which
    knows itself as `served_model`. Imports are local: a guard type that is not
    configured costs nothing (the embedded guard loads a model)."""
    if spec.type == "embedded":
        from policies.guards.embedded import EmbeddedGuard

        return EmbeddedGuard.load()  # its score is calibrated so that 0.5 is the trained operating point
    if spec.type == "llama_guard":
        from policies.guards.llama_guard import LlamaGuard

        return LlamaGuard(urls, served_model, name=name, prompt_mode=spec.prompt_mode, timeout_s=spec.timeout_s)
    from policies.guards.classifier import ClassifierGuard

    return ClassifierGuard(urls, served_model, name=name, threshold=spec.threshold, timeout_s=spec.timeout_s)
