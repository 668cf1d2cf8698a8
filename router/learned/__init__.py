"""Learned cost/quality router scorer (issue #4): is the strong model needed?

`LearnedScorer.score(prompt)` estimates, from the prompt alone, how much the
strong model is expected to beat the weak one on it (RouteLLM's "strong win
rate" idea, trained on its MMLU data: weak = Mixtral-8x7B, strong = GPT-4):

    score = 0.5 + (P(only the strong model is right) - P(only the weak one is right)) / 2

in [0, 1]; above 0.5 the strong model is expected to do better. A routing
strategy sends the request to the strong model when the score is above its
threshold (a call budget picks the threshold; see metrics.threshold_for_share).

Each probability is a logistic regression over hashed word n-grams plus a few
difficulty cues (`features.py`), trained by `python -m router.learned.train`
into the small JSON artifact beside this module. Scoring is two sparse dot
products in pure Python: no third-party runtime, well under a millisecond.
See docs/learned-router.md for the method, the split and the measured quality.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.artifacts import read_artifact
from router.learned import features

DEFAULT_ARTIFACT = Path(__file__).resolve().parent / "mmlu_router.json"
FORMAT = "semgate.learned-router"
HEADS = ("strong_only", "weak_only")  # who alone answers correctly


@dataclass(frozen=True, slots=True)
class Head:
    """One logistic regression: P(label | prompt features)."""

    bias: float
    text: list[float]  # one weight per hashed bucket (features.TEXT_DIM)
    cues: list[float]  # one weight per features.CUES entry, on raw cue values

    def __post_init__(self) -> None:
        if len(self.text) != features.TEXT_DIM or len(self.cues) != len(features.CUES):
            raise ValueError("weights do not match the feature layout: retrain")

    def probability(self, buckets: list[int], value: float, cues: list[float]) -> float:
        z = self.bias + value * sum(map(self.text.__getitem__, buckets))
        z += sum(map(operator.mul, self.cues, cues))
        # Logistic without overflow for large |z|.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def to_json(self) -> dict[str, Any]:
        return {"bias": self.bias, "cue_weights": dict(zip(features.CUES, self.cues)), "text_weights": self.text}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Head:
        if list(doc["cue_weights"]) != list(features.CUES):
            raise ValueError("artifact cues differ from features.CUES: retrain")
        return cls(float(doc["bias"]), [float(w) for w in doc["text_weights"]], list(doc["cue_weights"].values()))


class LearnedScorer:
    """A trained scorer; build it with `load()`. Its weights never change: thread-safe."""

    __slots__ = ("meta", "strong_only", "weak_only")

    def __init__(self, strong_only: Head, weak_only: Head, meta: dict[str, Any]) -> None:
        self.strong_only = strong_only
        self.weak_only = weak_only
        # Everything else the artifact records (split, held-out metrics, ...).
        self.meta = meta

    @classmethod
    def load(cls, path: str | Path | None = None) -> LearnedScorer:
        """Read an artifact written by `router.learned.train` (default: the committed one)."""
        doc = read_artifact(path, default=DEFAULT_ARTIFACT, kind=FORMAT, feature_version=features.VERSION,
                            retrain="python -m router.learned.train")
        heads = [Head.from_json(doc["model"][name]) for name in HEADS]
        return cls(*heads, {k: v for k, v in doc.items() if k != "model"})

    def to_artifact(self) -> dict[str, Any]:
        """The JSON document `load()` reads back: format, meta, then the weights."""
        return {
            **self.meta,
            "format": FORMAT,
            "feature_version": features.VERSION,
            "model": {name: getattr(self, name).to_json() for name in HEADS},
        }

    def score(self, prompt: str) -> float:
        """0.5 + half the expected accuracy gain of the strong model, in [0, 1];
        higher = route to the strong model."""
        parts = features.extract(prompt)
        return 0.5 + (self.strong_only.probability(*parts) - self.weak_only.probability(*parts)) / 2


__all__ = ["DEFAULT_ARTIFACT", "Head", "LearnedScorer"]
