"""Uncertainty signals: how sure is the model of the answer it just gave?

Two families, both pure Python (no numpy at run time) and cheap per answer:

Token logprobs (one answer, free when the engine returns logprobs)
    `logprob_features` reads a choice's tokens (chat shape
    `logprobs.content[j]`, or completions' `logprobs.token_logprobs`) and
    summarises their logprobs twice, over all tokens and over the *content*
    tokens (`content_tokens`: without the first token, which mostly picks a
    phrasing, and without tokens lacking a letter or digit — whitespace,
    punctuation, end-of-turn markers): mean, minimum, the 10 % and 25 %
    quantiles; plus the first token's logprob, the number of tokens and —
    when `top_logprobs` came back — the mean and minimum margin between the
    chosen token and its best alternative. `logprob_confidence` maps them to
    [0, 1] with a logistic calibration,

        confidence = sigmoid(intercept + sum_i coef_i * feature_i)

    (length enters as log(1 + n)) whose coefficients were fitted on labelled
    answers of the real model (`python -m policies.uncertainty.evaluate`,
    shipped in calibration.json; its `default_signal` names the one to use).

Self-consistency (k answers to the same prompt, costs k times the decode)
    `consistency_confidence` measures how much k sampled answers agree:

        exact     = share of answers whose normalised text equals the most
                    common one (majority share, in [1/k, 1]); with a
                    `reference` answer, the share of answers equal to it
        semantic  = mean char-trigram cosine similarity of the answers to
                    their medoid (the answer most similar to all others);
                    with a `reference`, mean similarity to the reference
        combined  = w * exact + (1 - w) * semantic      (w = 0.5 by default)

    `medoid_index` picks the answer to return: one of the majority, the
    most central among those.

    Normalisation (`normalise`): Unicode NFKC, lower case, thousands
    separators dropped, numbers canonical ("+17.0" -> "17", "1,000" ->
    "1000", "seven" -> "7"), every other punctuation mark and run of
    whitespace collapsed to one space. `answer_key(text, "last_number")`
    reduces an answer to its last number instead — the final-answer
    extraction of the self-consistency literature, for numeric tasks only.

See docs/uncertainty.md for the evaluation behind the shipped defaults.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_CALIBRATION = Path(__file__).resolve().parent / "calibration.json"
FORMAT = "semgate.uncertainty-calibration"

# A logprob of -inf (or vLLM's -9999 stand-in) would make the mean meaningless;
# anything below this floor counts as the floor. e^-30 is "never" in practice.
LOGPROB_FLOOR = -30.0

# Over every generated token / over the "content" tokens only (see content_tokens).
FEATURES = (
    "mean", "min", "p10", "p25", "first", "n_tokens", "margin_mean", "margin_min",
    "content_mean", "content_min", "content_p10", "content_p25", "content_margin_mean", "content_margin_min",
)
# Features that need `top_logprobs` (at least one alternative per token), not just `logprobs: true`.
NEEDS_TOP_LOGPROBS = frozenset({"margin_mean", "margin_min", "content_margin_mean", "content_margin_min"})

_SPECIAL = re.compile(r"^(?:<\|[^|]*\|>|</?s>|<eos>|<pad>|<unk>)$")


@dataclass(frozen=True, slots=True)
class Token:
    """One generated token: its text (None if the response did not say), logprob and margin.

    margin = logprob - the best alternative's logprob among `top_logprobs`
    (>= 0 for a greedy pick, negative when sampling chose a lesser token);
    None without alternatives.
    """

    text: str | None
    logprob: float
    margin: float | None = None


# --- token logprobs ---------------------------------------------------------


def tokens(choice: Mapping[str, Any]) -> list[Token]:
    """The generated tokens of one choice, chat or text-completion shaped.

    Entries without a numeric logprob (the `None` a completions echo puts
    first, garbage) are skipped; -inf and NaN become LOGPROB_FLOOR.
    """
    logprobs = choice.get("logprobs") or {}
    if not isinstance(logprobs, Mapping):
        return []
    out = []
    content = logprobs.get("content")
    if isinstance(content, list):  # chat: [{token, logprob, top_logprobs: [{token, logprob}]}]
        for entry in content:
            if not isinstance(entry, Mapping) or not _is_number(entry.get("logprob")):
                continue
            text = entry.get("token") if isinstance(entry.get("token"), str) else None
            tops = entry.get("top_logprobs")
            others = [t["logprob"] for t in tops or () if isinstance(t, Mapping) and _is_number(t.get("logprob"))
                      and t.get("token") != text] if isinstance(tops, list) else []
            out.append(_token(text, entry["logprob"], others))
    elif isinstance(logprobs.get("token_logprobs"), list):  # completions: parallel lists
        texts = logprobs.get("tokens") if isinstance(logprobs.get("tokens"), list) else []
        tops_list = logprobs.get("top_logprobs") if isinstance(logprobs.get("top_logprobs"), list) else []
        for i, value in enumerate(logprobs["token_logprobs"]):
            if not _is_number(value):
                continue
            text = texts[i] if i < len(texts) and isinstance(texts[i], str) else None
            tops = tops_list[i] if i < len(tops_list) else None
            others = [v for k, v in tops.items() if k != text and _is_number(v)] if isinstance(tops, Mapping) else []
            out.append(_token(text, value, others))
    return out


def _token(text: str | None, logprob: float, others: Sequence[float]) -> Token:
    value = _clamp(logprob)
    return Token(text, value, value - max(_clamp(o) for o in others) if others else None)


def token_logprobs(choice: Mapping[str, Any]) -> list[float]:
    """Just the logprobs of `tokens(choice)`."""
    return [t.logprob for t in tokens(choice)]


def is_content(text: str | None) -> bool:
    """A token that carries content: has a letter or digit and is not a special token (unknown text counts)."""
    if text is None:
        return True
    return any(ch.isalnum() for ch in text) and not _SPECIAL.match(text.strip())


def content_tokens(toks: Sequence[Token]) -> list[Token]:
    """The tokens whose probability says something about the claim, not the style.

    Drops the first token — in a chat answer it mostly picks the phrasing
    ("The", "Sure", a digit echoing the question) and is uncertain whether
    or not the answer is right — and tokens without a letter or digit
    (whitespace, punctuation, end-of-turn markers): formatting choices with
    several equally good options. Falls back to the content tokens including
    the first, then to all tokens, so a one-token answer is still judged.
    """
    rest = [t for t in toks[1:] if is_content(t.text)]
    if rest:
        return rest
    return [t for t in toks if is_content(t.text)] or list(toks)


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted `values` (numpy's default method)."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def features_from_tokens(toks: Sequence[Token]) -> dict[str, float | None]:
    """Summary features of one answer's tokens; None where undefined (no tokens, no top_logprobs)."""
    out: dict[str, float | None] = dict.fromkeys(FEATURES)
    out["n_tokens"] = float(len(toks))
    if not toks:
        return out
    out["first"] = toks[0].logprob
    for prefix, group in (("", toks), ("content_", content_tokens(toks))):
        values = [t.logprob for t in group]
        out[prefix + "mean"] = sum(values) / len(values)
        out[prefix + "min"] = min(values)
        out[prefix + "p10"] = quantile(values, 0.10)
        out[prefix + "p25"] = quantile(values, 0.25)
        margins = [t.margin for t in group if t.margin is not None]
        if margins:
            out[prefix + "margin_mean"] = sum(margins) / len(margins)
            out[prefix + "margin_min"] = min(margins)
    return out


def features_from_logprobs(
    values: Sequence[float], texts: Sequence[str | None] | None = None, margins: Sequence[float | None] | None = None
) -> dict[str, float | None]:
    """`features_from_tokens` from parallel lists (texts and margins optional)."""
    texts = texts if texts is not None else [None] * len(values)
    margins = margins if margins is not None else [None] * len(values)
    return features_from_tokens([Token(x, _clamp(v), m) for v, x, m in zip(values, texts, margins, strict=True)])


def logprob_features(choice: Mapping[str, Any]) -> dict[str, float | None]:
    """`features_from_tokens` of one response choice."""
    return features_from_tokens(tokens(choice))


def response_features(response: Mapping[str, Any], index: int = 0) -> dict[str, float | None]:
    """Features of choice `index` of a chat/completions response (all None if it has none)."""
    choices = response.get("choices") or []
    choice = next((c for c in choices if isinstance(c, Mapping) and c.get("index", -1) == index), None)
    if choice is None and 0 <= index < len(choices) and isinstance(choices[index], Mapping):
        choice = choices[index]
    return logprob_features(choice) if choice is not None else features_from_logprobs([])


# --- calibration ------------------------------------------------------------


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    if data.get("default_signal") not in data.get("signals", {}):
        raise ValueError(f"{path}: default_signal {data.get('default_signal')!r} has no calibration")
    return data


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """The calibration JSON (cached per path); the shipped one by default."""
    return _load(str(Path(path) if path is not None else DEFAULT_CALIBRATION))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logprob_confidence(
    features: Mapping[str, float | None],
    calibration: Mapping[str, Any] | None = None,
    *,
    signal: str | None = None,
) -> float | None:
    """P(answer is right) in [0, 1] from logprob features, or None without logprobs.

    `signal` picks one of the calibration's fitted signals ("mean", "min",
    "p10", ..., "combined"); the calibration's `default_signal` otherwise.
    Each is `sigmoid(intercept + sum(coef[i] * features[names[i]]))`. None
    (not 0) when a feature it needs is missing: no logprobs is no evidence,
    and the caller decides what that means.
    """
    calibration = calibration if calibration is not None else load_calibration()
    name = signal or calibration["default_signal"]
    model = calibration["signals"][name]
    z = float(model["intercept"])
    for feature, coef in zip(model["features"], model["coef"], strict=True):
        value = features.get(feature)
        if value is None or not math.isfinite(value):
            return None
        z += float(coef) * _transform(feature, value)
    return sigmoid(z)


def _transform(feature: str, value: float) -> float:
    """Length enters the logistic as log(1 + n): a 200-token answer is not 20x a 10-token one."""
    return math.log1p(value) if feature == "n_tokens" else value


def level(confidence: float | None, thresholds: Mapping[str, float]) -> str:
    """"ok", "annotate", "hedge" or "abstain" for a confidence, by the calibration's thresholds.

    Each threshold is the confidence below which that action applies; the
    strictest one that applies wins. A None confidence is "ok" (no evidence
    to act on).
    """
    if confidence is None:
        return "ok"
    for action in ("abstain", "hedge", "annotate"):
        bar = thresholds.get(action)
        if bar is not None and confidence < bar:
            return action
    return "ok"


# --- self-consistency -------------------------------------------------------

_NUMBER_WORDS = {
    w: str(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {w: str(10 * i) for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), start=3)}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# A number (sign only where it cannot be a binary minus: not after a word or
# digit), else a run of letters/digits. Everything else is separator.
_TOKEN = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w])|\d+(?:\.\d+)?|[^\W_]+")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _canonical_number(token: str) -> str:
    try:
        d = Decimal(token)
    except InvalidOperation:  # pragma: no cover - the regex only passes numbers
        return token
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def normalise(text: str) -> str:
    """Lower-cased words and canonical numbers, single-space separated (see module doc)."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text).lower())
    out = []
    for token in _TOKEN.findall(text):
        if _NUMBER.fullmatch(token):
            out.append(_canonical_number(token))
        else:
            out.append(_NUMBER_WORDS.get(token, token))
    return " ".join(out)


def answer_key(text: str, mode: str = "text") -> str:
    """What exact match compares: the normalised text, or ("last_number") its last number.

    "last_number" falls back to the normalised text when there is no number.
    """
    norm = normalise(text)
    if mode == "text":
        return norm
    if mode == "last_number":
        numbers = [t for t in norm.split() if _NUMBER.fullmatch(t)]
        return numbers[-1] if numbers else norm
    raise ValueError(f"unknown answer_key mode {mode!r}")


def _trigrams(text: str) -> Counter[str]:
    padded = f"  {text} "
    return Counter(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the normalised texts' character-trigram counts, in [0, 1]."""
    return _cosine(_trigrams(normalise(a)), _trigrams(normalise(b)))


def _cosine(x: Counter[str], y: Counter[str]) -> float:
    if not x or not y:
        return 1.0 if not x and not y else 0.0
    dot = sum(n * y[g] for g, n in x.items() if g in y)
    return dot / math.sqrt(sum(n * n for n in x.values()) * sum(n * n for n in y.values()))


def exact_agreement(answers: Sequence[str], *, reference: str | None = None, key: str = "text") -> float:
    """Majority share of the answers' keys; with `reference`, the share equal to its key. 0 for no answers."""
    if not answers:
        return 0.0
    keys = [answer_key(a, key) for a in answers]
    if reference is not None:
        ref = answer_key(reference, key)
        return sum(k == ref for k in keys) / len(keys)
    return Counter(keys).most_common(1)[0][1] / len(keys)


def semantic_agreement(answers: Sequence[str], *, reference: str | None = None) -> float:
    """Mean trigram cosine to the medoid (or to `reference`). 1 for one answer, 0 for none."""
    if not answers:
        return 0.0
    grams = [_trigrams(normalise(a)) for a in answers]
    if reference is not None:
        ref = _trigrams(normalise(reference))
        return sum(_cosine(ref, g) for g in grams) / len(grams)
    if len(grams) == 1:
        return 1.0
    sims = [[_cosine(x, y) if i != j else 1.0 for j, y in enumerate(grams)] for i, x in enumerate(grams)]
    medoid = max(range(len(grams)), key=lambda i: sum(sims[i]))
    return sum(sims[medoid][j] for j in range(len(grams)) if j != medoid) / (len(grams) - 1)


def medoid_index(answers: Sequence[str], *, key: str = "text") -> int:
    """Which answer to return from k samples: one of the majority (by exact key), the one most
    similar to all the answers among those; the first on ties. Raises ValueError for no answers."""
    if not answers:
        raise ValueError("no answers")
    keys = [answer_key(a, key) for a in answers]
    top = Counter(keys).most_common(1)[0][1]
    counts = Counter(keys)
    grams = [_trigrams(normalise(a)) for a in answers]
    candidates = [i for i, k in enumerate(keys) if counts[k] == top]
    return max(candidates, key=lambda i: (sum(_cosine(grams[i], g) for g in grams), -i))


def consistency_confidence(
    answers: Sequence[str],
    *,
    reference: str | None = None,
    weight: float = 0.5,
    key: str = "text",
) -> float:
    """weight * exact_agreement + (1 - weight) * semantic_agreement, in [0, 1].

    `answers`: k sampled answers to one prompt (k >= 2 to mean anything).
    `reference`: the answer actually returned, when it is not one of them;
    agreement is then measured against it instead of against the majority.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError("weight must be in [0, 1]")
    exact = exact_agreement(answers, reference=reference, key=key)
    semantic = semantic_agreement(answers, reference=reference)
    return weight * exact + (1.0 - weight) * semantic


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _clamp(value: float) -> float:
    value = float(value)
    if math.isnan(value) or value < LOGPROB_FLOOR:
        return LOGPROB_FLOOR
    return min(value, 0.0)
