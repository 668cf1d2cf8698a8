"""Tokenizer, chat template and deterministic text for the simulated engine.

Tokenization is deliberately simple and documented (docs/sim-engine.md): a
token is a special token like ``<|eot_id|>``, a run of up to 8 word
characters, or one punctuation character, each with its leading whitespace.
Token ids are CRC32s of the token text, stable across processes.

Generated text is English-looking prose from a fixed vocabulary. Each
sequence draws from its own ``random.Random``, seeded from the prompt, the
request seed and (when temperature > 0) the choice index, with a fixed number
of draws per token, so the text does not depend on whether logprobs were
asked for, nor on timing or batching.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

BOS = "<|begin_of_text|>"
EOT = "<|eot_id|>"
_TOKEN_RE = re.compile(r"\s*(?:<\|\w+\|>|\w{1,8}|[^\w\s])|\s+")

# Lowercase, at most 8 characters each, so that generated text re-tokenizes
# to exactly the generated tokens (which keeps multi-turn prefix caching honest).
_WORDS = """
the of and to in is that for it as was with be by on not he this are or his
from at which but have an they you were her she there been one all we their
has would when if so no will can more other into some could them than may
then only its time two these also new about first over such any like very
after most where through back much before our good well people how little
state world life still years make between under last never same another
while might great system small number long part water place around however
every early light since hand during large point house against found public
often high toward whole order rather given second river open model signal
memory token stream batch server request window garden silver quiet amber
morning harbor forest valley journey careful simple steady bright gentle
""".split()
VOCAB: tuple[str, ...] = tuple(dict.fromkeys(_WORDS))
# Chance that a sentence-final "." ends the reply (EOS): with sentences of
# ~14 tokens, about half of 64-token replies stop before max_tokens.
EOS_AFTER_SENTENCE = 0.25
TOP_LOGPROBS_MAX = 20
# Sampling looks at most at the 3 likeliest tokens (as if top_k=3), so that
# top_logprobs >= 3 always contains the sampled token, with exactly k entries.
SAMPLE_TOP_K = 3
_ALT_RATIO = 0.5  # each lower-ranked alternative is half as likely as the previous


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def token_id(piece: str) -> int:
    return zlib.crc32(piece.encode())


def encode(text: str) -> list[int]:
    return [token_id(piece) for piece in tokenize(text)]


def derive_seed(*parts: Any) -> int:
    """A 64-bit seed from JSON-serialisable parts, stable across processes."""
    digest = hashlib.blake2b(orjson.dumps(parts), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass(frozen=True, slots=True)
class Prompt:
    """A tokenized prompt; `text` seeds generation, `token_ids` drive the cache."""

    text: str
    token_ids: tuple[int, ...]

    @classmethod
    def from_text(cls, text: str, add_bos: bool = True) -> Prompt:
        full = BOS + text if add_bos else text
        return cls(full, tuple(encode(full)))

    @classmethod
    def from_ids(cls, ids: Sequence[int]) -> Prompt:
        return cls(" ".join(map(str, ids)), tuple(ids))


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    # OpenAI content parts: keep the text, ignore images and audio.
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def render_chat(messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] | None = None) -> str:
    """A Llama-3-style chat template; ends with the assistant header.

    Unlike Llama's, no blank line follows a header: a reply sent back in the
    next turn then tokenizes exactly as it was generated, at the same
    positions, so multi-turn prompts hit the blocks cached while generating.
    """
    parts = [BOS]
    if tools:
        tool_text = "Available tools: " + orjson.dumps(list(tools)).decode()
        parts.append(f"<|start_header_id|>system<|end_header_id|>{tool_text}{EOT}")
    for message in messages:
        content = _content_text(message.get("content"))
        if message.get("tool_calls"):
            content += orjson.dumps(message["tool_calls"]).decode()
        parts.append(f"<|start_header_id|>{message.get('role', 'user')}<|end_header_id|>{content}{EOT}")
    parts.append("<|start_header_id|>assistant<|end_header_id|>")
    return "".join(parts)


@dataclass(slots=True)
class GenToken:
    """One sampled token: what it adds to the text and its logprobs."""

    text: str
    logprob: float
    top: list[tuple[str, float]] = field(default_factory=list)  # empty unless logprobs were asked for
    finish: str | None = None  # "stop" when the token ends the reply, "tool_calls" after a call's last token


def _top_list(pieces: Sequence[str], logprobs: Sequence[float], sampled: int, k: int) -> list[tuple[str, float]]:
    # Like vLLM: the top k, plus the sampled token when it ranks below them.
    top = list(zip(pieces[:k], logprobs[:k], strict=True))
    if k and sampled >= k:
        top.append((pieces[sampled], logprobs[sampled]))
    return top


class _Sampler:
    """Shared machinery: a seeded stream, a plausible distribution, sampling."""

    def __init__(self, seed: int, temperature: float, top_p: float, top_logprobs: int | None) -> None:
        self._rng = random.Random(seed)
        self._temperature = temperature
        self._top_p = top_p
        self._k = top_logprobs

    def _draw(self) -> tuple[float, int, float, float, float]:
        """Exactly five draws per token, whatever is then used."""
        rng = self._rng
        return rng.random(), rng.getrandbits(32), rng.random(), rng.random(), rng.random()

    @staticmethod
    def _alternatives(bits: int, count: int) -> list[str]:
        """`count` distinct vocabulary words picked from `bits`."""
        size = len(VOCAB)
        stride = 1 + (bits >> 12) % (size - 1)
        while math.gcd(stride, size) != 1:
            stride += 1
        start = bits % size
        return [VOCAB[(start + i * stride) % size] for i in range(count)]

    def _ranks(self) -> int:
        """How many candidates to build: those sampling or logprobs can show."""
        return max(SAMPLE_TOP_K, self._k or 0)

    def _logprobs(self, confidence: float) -> list[float]:
        rest = math.log1p(-confidence)
        step = math.log(_ALT_RATIO)
        return [math.log(confidence)] + [rest + i * step for i in range(1, self._ranks())]

    def _sample_rank(self, logprobs: Sequence[float], u: float) -> int:
        if self._temperature <= 1e-5:
            return 0
        # Nucleus: the fewest tokens whose probability reaches top_p.
        count, mass = 0, 0.0
        while count < SAMPLE_TOP_K and mass < self._top_p:
            mass += math.exp(logprobs[count])
            count += 1
        weights = [math.exp((lp - logprobs[0]) / self._temperature) for lp in logprobs[:count]]
        target = u * sum(weights)
        for rank, weight in enumerate(weights):
            target -= weight
            if target <= 0:
                return rank
        return len(weights) - 1

    def _make(self, confidence: float, u: float) -> tuple[int, list[float]]:
        logprobs = self._logprobs(confidence)
        return self._sample_rank(logprobs, u), logprobs

    def _token(self, pieces: list[str], logprobs: list[float], rank: int, finish: str | None) -> GenToken:
        top = _top_list(pieces, logprobs, rank, self._k) if self._k else []
        return GenToken(pieces[rank], logprobs[rank], top, finish)


class ProseGenerator(_Sampler):
    """Sentences of vocabulary words; a sentence's "." sometimes ends the reply.

    The end-of-sequence token is folded into that ".", so a reply that stops
    has as many tokens as text chunks (no empty EOS chunk at the end).
    """

    def __init__(self, seed: int, temperature: float, top_p: float, top_logprobs: int | None, ignore_eos: bool) -> None:
        super().__init__(seed, temperature, top_p, top_logprobs)
        self._ignore_eos = ignore_eos
        self._words_in_sentence = 0
        self._at_start = True

    def _format(self, word: str) -> str:
        if self._words_in_sentence == 0:
            word = word.capitalize()
        return word if self._at_start else " " + word

    def _preferred(self, r_kind: float) -> str | None:
        """The most likely next token if it is punctuation rather than a word."""
        if self._words_in_sentence >= 4 and r_kind > 0.90:
            return "."
        if self._words_in_sentence >= 3 and r_kind > 0.84:
            return ","
        return None

    def next(self) -> GenToken:
        r_kind, bits, r_conf, u, r_end = self._draw()
        special = self._preferred(r_kind)
        words = [self._format(w) for w in self._alternatives(bits, self._ranks())]
        if special is None:
            pieces, confidence = words, 0.35 + 0.63 * r_conf
        else:
            pieces, confidence = [special] + words[:-1], 0.6 + 0.39 * r_conf
        rank, logprobs = self._make(confidence, u)
        piece = pieces[rank]
        self._advance(piece)
        ends = piece == "." and r_end < EOS_AFTER_SENTENCE and not self._ignore_eos
        return self._token(pieces, logprobs, rank, "stop" if ends else None)

    def _advance(self, piece: str) -> None:
        self._at_start = False
        if piece == ".":
            self._words_in_sentence = 0
        elif piece != ",":
            self._words_in_sentence += 1


class ScriptGenerator(_Sampler):
    """Emits a fixed text (a tool call's arguments) token by token, confidently."""

    def __init__(self, text: str, seed: int, top_logprobs: int | None, finish: str) -> None:
        # Greedy: the script is the model's only plausible continuation.
        super().__init__(seed, 0.0, 1.0, top_logprobs)
        self._pieces = tokenize(text)
        self._next = 0
        self._finish = finish

    def next(self) -> GenToken:
        _, bits, r_conf, u, _ = self._draw()
        piece = self._pieces[self._next]
        self._next += 1
        pieces = [piece] + self._alternatives(bits, self._ranks() - 1)
        rank, logprobs = self._make(0.9 + 0.099 * r_conf, u)
        finish = self._finish if self._next == len(self._pieces) else None
        return self._token(pieces, logprobs, rank, finish)


def _schema_value(schema: Any, rng: random.Random, depth: int) -> Any:
    """A plausible value for a JSON schema; unknown shapes get a string."""
    if not isinstance(schema, Mapping):
        return rng.choice(VOCAB)
    if schema.get("enum"):
        return rng.choice(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _schema_value(schema[key][0], rng, depth)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" and depth < 4:
        props = schema.get("properties") or {}
        return {name: _schema_value(sub, rng, depth + 1) for name, sub in props.items()}
    if kind == "array" and depth < 4:
        return [_schema_value(schema.get("items"), rng, depth + 1) for _ in range(rng.randint(1, 2))]
    simple: dict[str, Any] = {
        "integer": lambda: rng.randint(1, 100),
        "number": lambda: round(rng.uniform(0, 100), 2),
        "boolean": lambda: rng.random() < 0.5,
        "null": lambda: None,
    }
    maker = simple.get(kind)
    return maker() if maker else " ".join(rng.choice(VOCAB) for _ in range(rng.randint(1, 3)))


def tool_arguments(parameters: Mapping[str, Any] | None, seed: int) -> str:
    """Deterministic JSON arguments matching a function's `parameters` schema."""
    value = _schema_value(parameters or {"type": "object"}, random.Random(seed), 0)
    return orjson.dumps(value if isinstance(value, dict) else {"value": value}).decode()


class StopChecker:
    """Finds stop strings in streamed text without emitting any part of one.

    Text that might be the start of a stop string is held back until the next
    token shows whether it is.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._max = max((len(s) for s in self._stops), default=0)
        self._text = ""
        self._emitted = 0

    def feed(self, piece: str) -> tuple[str, bool]:
        """Returns (text now safe to emit, whether a stop string ended the output)."""
        if not self._stops:
            return piece, False
        start = max(0, len(self._text) - self._max + 1)
        self._text += piece
        hits = [i for i in (self._text.find(s, start) for s in self._stops) if i >= 0]
        if hits:
            self._text = self._text[: min(hits)]
            return self._release(len(self._text)), True
        return self._release(len(self._text) - self._held()), False

    def flush(self) -> str:
        """Everything still held back, once the output ends for another reason."""
        return self._release(len(self._text)) if self._stops else ""

    def _held(self) -> int:
        for size in range(min(self._max - 1, len(self._text)), 0, -1):
            tail = self._text[-size:]
            if any(s.startswith(tail) for s in self._stops):
                return size
        return 0

    def _release(self, end: int) -> str:
        out = self._text[self._emitted : end]
        self._emitted = max(self._emitted, end)
        return out
