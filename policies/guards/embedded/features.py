"""Text -> feature strings, shared by training and the runtime guard.

One implementation for both sides, so what is served is exactly what was
trained. Stdlib only; work per text is bounded (MAX_HEAD + MAX_TAIL
characters, MAX_TOKENS tokens).

Normalisation: lower case, accents folded to their base letter (users type
"tuer" and "tuér", "Munchen" and "München"), every run of digits becomes one
"0". Tokens are runs of word characters (`\\w`, any script).

Two blocks of features, each its own vocabulary namespace:

- words: each token as " tok" and each adjacent pair as "tok next" (the
  leading space / the inner space keep them apart from character n-grams,
  which never contain a space);
- chars: the 3-, 4- and 5-character n-grams of "<tok>" for each distinct
  token (the angle brackets mark word edges, as scikit-learn's "char_wb"
  does), so inflections, compounds and typos share features ("ermorden",
  "ermordet").

Word features count by presence (the set of them). A character n-gram
counts once per distinct token that contains it: that makes a text's char
block the sum of its distinct tokens' own blocks, so the runtime caches one
small summary per token. Only strings in the trained vocabulary carry
weight, so text in a script never seen in training contributes nothing
rather than random hash collisions.
Change anything here that moves a feature and VERSION must go up: the
artifact records the version it was trained with, and loading refuses a
mismatch.
"""

from __future__ import annotations

import re
import unicodedata

VERSION = 2

# Only the start and the end of a long text are read: a decision stays
# bounded for a megabyte prompt. Training applies the same clip.
MAX_HEAD = 2000
MAX_TAIL = 500
MAX_TOKENS = 500
CHAR_NGRAMS = (3, 4, 5)

_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"\w+")


def _fold_table() -> dict[int, str]:
    """Latin letters with diacritics -> base letters (ß -> ss, æ -> ae, ...)."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and base != ch and base.isascii():
            table[code] = base.lower()
    table.update({ord("ß"): "ss", ord("æ"): "ae", ord("œ"): "oe", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l",
                  ord("ı"): "i", ord("’"): "'", ord("‘"): "'"})
    return table


_FOLD = _fold_table()


def clip(text: str) -> str:
    if len(text) <= MAX_HEAD + MAX_TAIL:
        return text
    return text[:MAX_HEAD] + "\n" + text[-MAX_TAIL:]


def tokens(text: str) -> list[str]:
    """Normalised tokens of (the clipped) text."""
    toks = _TOKEN.findall(_DIGITS.sub("0", clip(text).lower().translate(_FOLD)))
    if len(toks) > MAX_TOKENS:
        toks = toks[: MAX_TOKENS * 3 // 4] + toks[-(MAX_TOKENS // 4) :]
    return toks


def word_features(toks: list[str]) -> list[str]:
    out = [" " + t for t in toks]
    out += [a + " " + b for a, b in zip(toks, toks[1:])]
    return out


def char_features(word: str) -> list[str]:
    """The distinct character n-grams of one token (with edge marks)."""
    w = "<" + word + ">"
    n_chars = len(w)
    return list(dict.fromkeys(w[i : i + n] for n in CHAR_NGRAMS for i in range(n_chars - n + 1)))


def features(text: str) -> tuple[list[str], list[str]]:
    """(word features, char features) of a text: word features with repeats
    (training keeps their presence), char features once per distinct token
    that has them (training counts them). The runtime guard computes the
    same with a per-token cache."""
    toks = tokens(text)
    chars: list[str] = []
    for t in dict.fromkeys(toks):
        chars += char_features(t)
    return word_features(toks), chars
