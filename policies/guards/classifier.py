"""A guard that asks a sequence classifier served by vLLM (DuoGuard-style).

vLLM serves sequence-classification models at `POST /classify` (at the
server's root, not under /v1): `{"model", "input": [text]}` answers
`{"data": [{"index", "label", "probs", "num_classes"}], ...}`.

DuoGuard is multi-label: 12 categories, each an independent sigmoid, unsafe
when any is above 0.5. vLLM, though, picks the activation from the model's
config: `problem_type: multi_label_classification` gives sigmoid, but a head
with several labels and no `problem_type` gets **softmax** — twelve
probabilities summing to 1, so two likely categories can each fall below 0.5
and the text pass as safe. With `activation="sigmoid"` (the default) this
guard therefore asks for the raw logits (`use_activation: false`) and applies
the sigmoid itself, whatever the server's default; `activation="server"`
takes `probs` as served (a model served with the right activation, or a
single-label classifier whose softmax is meant).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from gateway.upstream import UpstreamClient
from policies.guards.base import Guard, GuardError, Role, Verdict
from policies.guards.taxonomy import DUOGUARD_CATEGORIES
from policies.guards.upstream import GuardEndpoint, UrlSource

Activation = Literal["sigmoid", "server"]



def sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    z = math.exp(value)
    return z / (1.0 + z)


class ClassifierGuard(Guard):
    """A multi-label safety classifier behind vLLM's classification API.

    `base_url` is the server's URL, a callable returning it, or a list of
    them (the model's replicas, taken in turn); a trailing `/v1` — an OpenAI
    base URL, as models are configured — is dropped, since vLLM serves
    /classify at its root. `model` is the served model name.
    """

    def __init__(
        self,
        base_url: UrlSource | Sequence[UrlSource],
        model: str,
        *,
        name: str = "classifier",
        categories: Sequence[str] = DUOGUARD_CATEGORIES,
        threshold: float = 0.5,
        activation: Activation = "sigmoid",
        response_input: Literal["response", "conversation"] = "response",
        timeout_s: float = 5.0,
        path: str = "/classify",
        client: UpstreamClient | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if activation not in ("sigmoid", "server"):
            raise ValueError(f"activation must be 'sigmoid' or 'server', got {activation!r}")
        if response_input not in ("response", "conversation"):
            raise ValueError(f"response_input must be 'response' or 'conversation', got {response_input!r}")
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        if not categories or len(set(categories)) != len(categories):
            raise ValueError("categories must be a non-empty list of distinct names")
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        self.name = name
        self.model = model
        self.categories = tuple(categories)
        self.threshold = threshold
        self.activation = activation
        self.response_input = response_input
        self.path = path
        sources = [base_url] if isinstance(base_url, str) or callable(base_url) else list(base_url)
        self._endpoint = GuardEndpoint(
            [_root(source) for source in sources], timeout_s=timeout_s, client=client, headers=headers
        )

    @property
    def timeout_s(self) -> float:
        return self._endpoint.timeout_s

    def input_text(self, text: str, role: Role = "user", prompt: str | None = None) -> str:
        """What is classified: the text, or for a response optionally its conversation."""
        if role == "assistant" and self.response_input == "conversation" and prompt:
            return f"User: {prompt}\n\nAgent: {text}"
        return text

    def request(self, text: str, role: Role = "user", prompt: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "input": [self.input_text(text, role, prompt)]}
        if self.activation == "sigmoid":
            body["use_activation"] = False  # raw logits; the sigmoid is ours
        return body

    async def check(self, text: str, *, role: Role = "user", prompt: str | None = None) -> Verdict:
        reply = await self._endpoint.post_json(self.path, self.request(text, role, prompt))
        scores = self._scores(reply)
        flagged = sorted((c for c in self.categories if scores[c] > self.threshold), key=lambda c: -scores[c])
        return Verdict(
            unsafe=bool(flagged), score=max(scores.values()), categories=tuple(flagged), scores=scores
        )

    def _scores(self, reply: Any) -> dict[str, float]:
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
            raise GuardError("garbage: expected one item in 'data'")
        values = data[0].get("probs")
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
        ):
            raise GuardError("garbage: 'probs' is not a list of numbers")
        if len(values) != len(self.categories):
            raise GuardError(f"garbage: {len(values)} classes, expected {len(self.categories)} (wrong model?)")
        if self.activation == "sigmoid":
            probs = [sigmoid(float(v)) for v in values]
        else:
            if not all(0 <= v <= 1 for v in values):
                raise GuardError("garbage: served 'probs' outside [0, 1] (logits? use activation: sigmoid)")
            probs = [float(v) for v in values]
        return dict(zip(self.categories, probs, strict=True))

    async def close(self) -> None:
        await self._endpoint.close()


def _root(source: UrlSource) -> UrlSource:
    """The server's root for an OpenAI base URL (vLLM serves /classify there)."""
    if callable(source):
        return lambda: _strip_v1(source())
    return _strip_v1(source)


def _strip_v1(url: str) -> str:
    return url.rstrip("/").removesuffix("/v1")
