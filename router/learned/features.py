"""Prompt -> features, shared by training and the runtime scorer.

One implementation for both sides, so what is served is exactly what was
trained. Stdlib only, and bounded work per prompt (MAX_HEAD, MAX_TOKENS):

- text: word unigrams and bigrams, hashed into TEXT_DIM buckets with CRC-32
  (stable across processes, unlike `hash()`); the count vector is
  L2-normalised, so long and short prompts weigh alike;
- cues: a few hand-made difficulty signals (length, digits and maths
  symbols, numeric answer options, "Statement 1 | ..." pairs, ...), raw
  values; training folds their standardisation into the weights.

Every step runs in C (regex, str.translate, substring search) or once per
token: a decision is a few hundred microseconds on the longest
MMLU prompt. Change anything here that moves a feature value and VERSION
must go up: the artifact records the version it was trained with and
refuses to load under another.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter

VERSION = 1
TEXT_DIM = 1 << 16
_MASK = TEXT_DIM - 1
_MIX = 0x9E3779B1  # odd multiplier: bigrams (a, b) and (b, a) land apart

# A gateway prompt can be megabytes: features only look at its start and end
# (characters, then tokens), so a decision is bounded even for a prompt made
# of nothing but symbols. The longest MMLU prompt has 4,868 characters and
# 934 tokens: training always sees whole prompts.
MAX_HEAD = 4000
MAX_TAIL = 1000
MAX_TOKENS = 1024
TAIL_TOKENS = 256

# Tokens: lower-cased words, numbers (all rewritten to "0" first: the shape
# matters, not the value), and each other symbol alone.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[a-z]+|0|[^\sa-z0]")
_OPTION = re.compile(r"\n[A-J][.)] ")
_NUMERIC_OPTION = re.compile(r"[\s$€£%^*/().,:=+\-−a-z]*\d[\s\d$€£%^*/().,:=+\-−a-z]*")
_TRUE_FALSE = re.compile(r"\n[A-D]\. (?:True|False|Wrong|Not wrong)\b")
_DROP_DIGITS = str.maketrans("", "", "0123456789")
_DROP_MATH = str.maketrans("", "", "+-*/=^<>|√∑∫π")
_CALCULATE = frozenset({"calculate", "compute", "find", "estimate", "solve", "evaluate"})
_NEGATIONS = (" NOT ", "EXCEPT", " LEAST ")

CUES = (
    "log_chars",
    "log_question_chars",
    "log_option_chars",
    "option_length_spread",
    "has_options",
    "digit_share",
    "math_symbol_share",
    "numeric_options",
    "statement_pair",
    "roman_numeral_list",
    "negation",
    "true_false_options",
    "calculation_verb",
    "mean_word_length",
)


def extract(prompt: str) -> tuple[list[int], float, list[float]]:
    """(text buckets, one per n-gram, with repeats; the value of each
    occurrence, 1 / the L2 norm of the bucket counts; the CUES values in
    order) for one prompt.

    Buckets stay a flat list rather than a {bucket: value} map: the scorer
    sums weights over it in one C-level pass.
    """
    clipped = _clip(prompt)
    toks = _TOKEN.findall(_NUMBER.sub("0", clipped.lower()))
    if len(toks) > MAX_TOKENS:
        toks = toks[: MAX_TOKENS - TAIL_TOKENS] + toks[-TAIL_TOKENS:]
    buckets = _buckets(toks)
    norm = math.sqrt(sum(c * c for c in Counter(buckets).values()))
    return buckets, 1.0 / norm if norm else 0.0, _cues(prompt, clipped, toks)


def _clip(prompt: str) -> str:
    if len(prompt) <= MAX_HEAD + MAX_TAIL:
        return prompt
    return prompt[:MAX_HEAD] + "\n" + prompt[-MAX_TAIL:]


def _buckets(toks: list[str]) -> list[int]:
    crc32 = zlib.crc32
    hashes = [crc32(t.encode()) for t in toks]
    # A bigram's bucket mixes its two word hashes: integer maths, no string
    # to build and hash again.
    buckets = [h & _MASK for h in hashes]
    buckets += [((a * _MIX) ^ b) & _MASK for a, b in itertools.pairwise(hashes)]
    return buckets


def _cues(prompt: str, clipped: str, toks: list[str]) -> list[float]:
    # MMLU-style "question\nA. ...\nB. ...\nAnswer:"; a chat prompt has no options.
    question, *options = _OPTION.split(clipped)
    lengths = [len(o) for o in options]
    n = max(1, len(clipped))
    words = question.split()
    vocab = set(toks)
    return [
        math.log1p(len(prompt)),
        math.log1p(len(question)),
        math.log1p(sum(lengths)),
        _spread(lengths),
        float(bool(options)),
        (n - len(clipped.translate(_DROP_DIGITS))) / n,
        (n - len(clipped.translate(_DROP_MATH))) / n,
        _numeric_share(options),
        float("Statement 1" in question),
        float("ii" in vocab),  # "I and II only" answer lists
        float(any(neg in question for neg in _NEGATIONS)),
        float(bool(_TRUE_FALSE.search(clipped))),
        float(not _CALCULATE.isdisjoint(vocab)),
        sum(map(len, words)) / len(words) if words else 0.0,
    ]


def _numeric_share(options: list[str]) -> float:
    """Share of answer options that are numbers or formulas."""
    if not options:
        return 0.0
    bare = [o.split("\n", 1)[0].strip() for o in options]
    return sum(bool(_NUMERIC_OPTION.fullmatch(o)) for o in bare) / len(options)


def _spread(lengths: list[int]) -> float:
    """Coefficient of variation of the option lengths: uneven options."""
    if len(lengths) < 2:
        return 0.0
    mean = sum(lengths) / len(lengths)
    var = sum((x - mean) ** 2 for x in lengths) / len(lengths)
    return math.sqrt(var) / (1.0 + mean)
