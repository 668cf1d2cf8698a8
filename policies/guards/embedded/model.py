"""The embedded guard's runtime: artifact loading and scoring, stdlib only."""

from __future__ import annotations

import base64
import math
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.artifacts import read_artifact
from policies.guards.base import Guard, Role, Verdict
from policies.guards.embedded import features

DEFAULT_ARTIFACT = Path(__file__).resolve().parent / "embedded_guard.json"
FORMAT = "semgate.embedded-guard"
OVERALL = "overall"

# Per-token summaries of the char block are cached (tokens repeat across
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
    in_process = True

    def __init__(self, doc: dict[str, Any]) -> None:
        model = doc["model"]
        vocab = zlib.decompress(base64.b64decode(model["vocab"])).decode("utf-8").split("\n")
        self._index = {f: i for i, f in enumerate(vocab)}
        self._n_word = int(model["n_word"])
        idf = _unpack(model["idf"], "f")
        self._idf2 = array("d", (x * x for x in idf))
        self.categories: tuple[str, ...] = tuple(model["categories"])
        self._blend = (float(model["blend"]["short"]), float(model["blend"]["long"]))
        self._bias: list[float] = []
        self._weights: list[array] = []
        # The category heads, then the overall head last.
        for name in (*self.categories, OVERALL):
            head = model["heads"][name]
            self._bias.append(float(head["bias"]))
            self._weights.append(dequantize(float(head["scale"]), _unpack(head["weights"], "b")))
            if len(self._weights[-1]) != len(vocab):
                raise ValueError(f"head {name}: {len(self._weights[-1])} weights for {len(vocab)} features")
        # Char n-grams, transposed: per n-gram (idf^2, weight of each head), so a
        # token's summary is one zip-and-sum over its n-grams. Quantised weights
        # take at most 255 values per head: the tuples share those floats.
        n_word = self._n_word
        shared = [dict() for _ in self._weights]
        columns = [self._idf2[n_word:]] + [
            [table.setdefault(x, x) for x in w[n_word:]] for table, w in zip(shared, self._weights)
        ]
        self._grams = list(zip(*columns))
        # Word features the same way: per feature (idf^2, each head's weight), so a
        # text's word block is one zip-and-sum too (per-head lookups cost 10x more).
        word_columns = [self._idf2[:n_word]] + [
            [table.setdefault(x, x) for x in w[:n_word]] for table, w in zip(shared, self._weights)
        ]
        self._word_rows = list(zip(*word_columns))
        self._n_heads = len(self._weights)
        # Operating thresholds on the blended score: one for prompts of at
        # most `short_tokens` tokens, one for longer texts.
        t = model["threshold"]
        self.thresholds = (float(t["short"]), float(t["long"]))
        self.short_tokens = int(t["short_tokens"])
        self._logit_t = tuple(_logit(x) for x in self.thresholds)
        self._cache: dict[str, tuple[float, ...]] = {}
        self._zero = (0.0,) * (len(self._weights) + 1)
        # Everything else the artifact records (split, training, metrics).
        self.meta = {k: v for k, v in doc.items() if k != "model"}

    @classmethod
    def load(cls, path: str | Path | None = None) -> EmbeddedGuard:
        """Read an artifact written by `python -m policies.guards.embedded.train`
        (default: the committed one)."""
        return cls(read_artifact(path, default=DEFAULT_ARTIFACT, kind=FORMAT, feature_version=features.VERSION,
                                 retrain="python -m policies.guards.embedded.train"))

    # --- scoring ---------------------------------------------------------------

    def _token_summary(self, tok: str) -> tuple[float, ...]:
        """(sum of idf^2, then each head's summed weight) over the token's char n-grams."""
        summary = self._cache.get(tok)
        if summary is None:
            index, n_word, rows = self._index, self._n_word, self._grams
            found = [rows[i - n_word] for i in map(index.get, features.char_features(tok)) if i is not None]
            summary = tuple(map(sum, zip(*found))) if found else self._zero
            if len(self._cache) >= TOKEN_CACHE_SIZE:
                self._cache.clear()
            self._cache[tok] = summary
        return summary

    def probabilities(self, text: str) -> list[float]:
        """Each head's probability: the categories in `categories` order, then the overall head."""
        return self._heads(features.tokens(text))

    def _heads(self, toks: list[str]) -> list[float]:
        words = set(map(self._index.get, features.word_features(toks)))
        words.discard(None)
        empty = [0.0] * (self._n_heads + 1)
        # Each block: (sum of idf^2, then each head's summed weight).
        word = list(map(sum, zip(*map(self._word_rows.__getitem__, words)))) or empty  # type: ignore[arg-type]
        # The char block is the sum of the distinct tokens' summaries.
        chars = list(map(sum, zip(*map(self._token_summary, set(toks))))) or empty
        nw = math.sqrt(word[0]) or 1.0
        nc = math.sqrt(chars[0]) or 1.0
        return [
            _sigmoid(bias + w / nw + c / nc) for bias, w, c in zip(self._bias, word[1:], chars[1:])
        ]

    def classify(self, text: str) -> GuardVerdict:
        toks = features.tokens(text)
        *probs, overall = self._heads(toks)
        safe = 1.0
        for p in probs:
            safe *= 1.0 - p
        # The blended score: a weighted mean of the logits of the categories'
        # noisy-OR and of the overall head (weights and threshold depend on
        # whether the text is a short prompt); the threshold maps to 0.5.
        long = len(toks) > self.short_tokens
        w = self._blend[long]
        z = w * _logit(1.0 - safe) + (1 - w) * _logit(overall)
        score = _sigmoid(z - self._logit_t[long])
        return GuardVerdict(score >= 0.5, score, dict(zip(self.categories, probs)))

    async def check(self, text: str, *, role: Role = "user", prompt: str | None = None) -> Verdict:
        """The policy pipeline's interface (policies.guards.base.Guard). The
        embedded guard judges prompts and answers alike; `prompt` is unused."""
        v = self.classify(text)
        return Verdict(v.unsafe, v.score, self.flagged(v), v.categories)

    def flagged(self, verdict: GuardVerdict) -> tuple[str, ...]:
        """The categories that explain an unsafe verdict, most likely first:
        those whose own probability is at least 0.5, else the top one.
        Empty for a safe verdict."""
        if not verdict.unsafe:
            return ()
        cats = verdict.categories
        ranked = sorted(cats, key=cats.__getitem__, reverse=True)
        return tuple(c for c in ranked if cats[c] >= 0.5) or tuple(ranked[:1])


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
