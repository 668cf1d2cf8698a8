"""The embedded guard's runtime: artifact loading and scoring, stdlib only."""

from __future__ import annotations

import base64
import json
import math
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.guards.base import Guard, Role, Verdict
from policies.guards.embedded import features

DEFAULT_ARTIFACT = Path(__file__).resolve().parent / "embedded_guard.json"
FORMAT = "semgate.embedded-guard"

# Per-token character n-gram lookups are cached (tokens repeat across
# prompts); the cache is dropped whole when it reaches this size.
TOKEN_CACHE_SIZE = 200_000


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """What the embedded guard says about one text."""

    unsafe: bool
    # Overall unsafe score in [0, 1]; `unsafe` is score >= 0.5 (the trained
    # operating threshold is mapped to 0.5).
    score: float
    # Per-category probability from each category's own head, in
    # data.CATEGORIES order: sexual, hate, violence, harassment, self-harm,
    # sexual/minors, hate/threatening, violence/graphic, illicit.
    categories: dict[str, float] = field(default_factory=dict)


def _unpack(blob: str, typecode: str) -> array:
    out = array(typecode)
    out.frombytes(zlib.decompress(base64.b64decode(blob)))
    return out


def pack(values: array) -> str:
    return base64.b64encode(zlib.compress(values.tobytes(), 9)).decode("ascii")


def quantize(weights: list[float]) -> tuple[float, array]:
    """Weights -> (scale, int8 codes), square-root companded so that small
    weights keep their relative precision: w = sign(q) * (q / 127)^2 * scale."""
    scale = max((abs(w) for w in weights), default=0.0) or 1.0
    codes = array("b", (int(math.copysign(round(127 * math.sqrt(abs(w) / scale)), w)) for w in weights))
    return scale, codes


def dequantize(scale: float, codes: array) -> array:
    return array("d", (math.copysign((q / 127) ** 2 * scale, q) for q in codes))


class EmbeddedGuard(Guard):
    """The CPU safety classifier; build it with `load()`. Immutable after
    loading (the token cache only memoises pure lookups): thread-safe."""

    name = "embedded"

    def __init__(self, doc: dict[str, Any]) -> None:
        model = doc["model"]
        vocab = zlib.decompress(base64.b64decode(model["vocab"])).decode("utf-8").split("\n")
        self._index = {f: i for i, f in enumerate(vocab)}
        self._n_word = int(model["n_word"])
        idf = _unpack(model["idf"], "f")
        self._idf2 = array("d", (x * x for x in idf))
        self.categories: tuple[str, ...] = tuple(model["categories"])
        self._bias: list[float] = []
        self._weights: list[array] = []
        for name in self.categories:
            head = model["heads"][name]
            self._bias.append(float(head["bias"]))
            self._weights.append(dequantize(float(head["scale"]), _unpack(head["weights"], "b")))
            if len(self._weights[-1]) != len(vocab):
                raise ValueError(f"head {name}: {len(self._weights[-1])} weights for {len(vocab)} features")
        self.threshold = float(model["threshold"])  # on the noisy-OR of the category probabilities
        self._logit_t = math.log(self.threshold / (1 - self.threshold))
        self._cache: dict[str, tuple[int, ...]] = {}
        # Everything else the artifact records (split, training, metrics).
        self.meta = {k: v for k, v in doc.items() if k != "model"}

    @classmethod
    def load(cls, path: str | Path | None = None) -> EmbeddedGuard:
        """Read an artifact written by `python -m policies.guards.embedded.train`
        (default: the committed one)."""
        with open(path if path is not None else DEFAULT_ARTIFACT, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} artifact")
        if doc.get("feature_version") != features.VERSION:
            raise ValueError(
                f"artifact was trained with feature version {doc.get('feature_version')}, "
                f"the code has {features.VERSION}: retrain (python -m policies.guards.embedded.train)"
            )
        return cls(doc)

    # --- scoring ---------------------------------------------------------------

    def _active(self, text: str) -> tuple[set[int], set[int]]:
        """Vocabulary indices present in the text: (word block, char block)."""
        index = self._index
        toks = features.tokens(text)
        words = set(map(index.get, features.word_features(toks)))
        words.discard(None)
        chars: set[int] = set()
        cache = self._cache
        for tok in set(toks):
            grams = cache.get(tok)
            if grams is None:
                grams = tuple(i for i in map(index.get, features.char_features(tok)) if i is not None)
                if len(cache) >= TOKEN_CACHE_SIZE:
                    cache.clear()
                cache[tok] = grams
            chars.update(grams)
        return words, chars  # type: ignore[return-value]

    def probabilities(self, text: str) -> list[float]:
        """Each category head's probability, in `categories` order."""
        words, chars = self._active(text)
        idf2 = self._idf2.__getitem__
        nw = math.sqrt(sum(map(idf2, words))) or 1.0
        nc = math.sqrt(sum(map(idf2, chars))) or 1.0
        out = []
        for bias, w in zip(self._bias, self._weights):
            get = w.__getitem__
            z = bias + sum(map(get, words)) / nw + sum(map(get, chars)) / nc
            out.append(_sigmoid(z))
        return out

    def classify(self, text: str) -> GuardVerdict:
        probs = self.probabilities(text)
        safe = 1.0
        for p in probs:
            safe *= 1.0 - p
        raw = min(max(1.0 - safe, 1e-12), 1 - 1e-12)
        # The operating threshold maps to 0.5: score = sigmoid(logit(raw) - logit(threshold)).
        score = _sigmoid(math.log(raw / (1 - raw)) - self._logit_t)
        return GuardVerdict(score >= 0.5, score, dict(zip(self.categories, probs)))

    async def check(self, text: str, *, role: Role = "user", prompt: str | None = None) -> Verdict:
        """The policy pipeline's interface (policies.guards.base.Guard). The
        embedded guard judges prompts and answers alike; `prompt` is unused."""
        v = self.classify(text)
        return Verdict(v.unsafe, v.score, self.flagged(v), v.categories)

    def flagged(self, verdict: GuardVerdict) -> tuple[str, ...]:
        """The categories that explain an unsafe verdict, most likely first:
        those whose own probability reaches the threshold, else the top one.
        Empty for a safe verdict."""
        if not verdict.unsafe:
            return ()
        cats = verdict.categories
        ranked = sorted(cats, key=cats.__getitem__, reverse=True)
        return tuple(c for c in ranked if cats[c] >= self.threshold) or tuple(ranked[:1])


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
