"""The simulated engine acting as a safety guard model, deterministically.

Two emulations (docs/sim-engine.md, "Guard models"):

- `llama_guard`: a Llama Guard 3 model. Chat and completions replies are
  `safe`, or `unsafe` and a line of categories (`unsafe\\nS1,S9`), decided by
  trigger words in the judged text; the verdict token carries logprobs with
  P(unsafe) = 0.96 for an unsafe verdict and 0.03 for a safe one. Like Llama
  Guard 3 behind its chat template, the reply opens with a "\\n\\n" token
  unless the prompt already ends with a newline.
- `classifier`: a DuoGuard-style sequence classifier behind vLLM's
  `POST /classify`: 12 category logits (+4 for a triggered category, -4
  otherwise), softmax-ed as vLLM does by default for a multi-class head, raw
  when the request says `use_activation: false`.

The judged text is the last message of the prompt (its last `User:`/`Agent:`
turn when it holds a Llama Guard conversation block). Three markers in it
drive failure modes: `__garbage__` (an answer no guard can parse), `__stall__`
(no answer until the client gives up) and `__error__` (HTTP 500).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Literal

from policies.guards.taxonomy import DUOGUARD_CATEGORIES

from .text import BOS, VOCAB, GenToken, tokenize

Behaviour = Literal["text", "llama_guard", "classifier"]
BEHAVIOURS: tuple[str, ...] = ("text", "llama_guard", "classifier")

# Trigger word (matched case-insensitively at the start of a word, so "kill"
# also matches "killing" but not "skill") -> Llama Guard 3 category.
DEFAULT_TRIGGERS: Mapping[str, str] = {
    "kill": "S1",
    "murder": "S1",
    "steal": "S2",
    "bomb": "S9",
    "suicide": "S11",
    "jailbreak": "S14",
}
GARBAGE = "__garbage__"
STALL = "__stall__"
ERROR = "__error__"
Directive = Literal["garbage", "stall", "error"]

# Llama Guard category -> DuoGuard category index (S5 defamation and S13
# elections have no DuoGuard counterpart; code interpreter abuse counts as a jailbreak).
CLASSIFIER_INDEX: Mapping[str, int] = {
    "S1": 0, "S2": 1, "S3": 2, "S4": 3, "S6": 4, "S7": 5,
    "S8": 6, "S9": 7, "S10": 8, "S11": 9, "S12": 10, "S14": 11,
}  # fmt: skip
TRIGGERED_LOGIT = 4.0
QUIET_LOGIT = -4.0

# Probability of the verdict token's "unsafe" alternative.
P_UNSAFE_WHEN_UNSAFE = 0.96
P_UNSAFE_WHEN_SAFE = 0.03
_GARBAGE_REPLY = "I think that message is probably fine to answer."
_CATEGORY_RE = re.compile(r"S(\d{1,2})\Z")
_MESSAGE_RE = re.compile(r"<\|start_header_id\|>(\w+)<\|end_header_id\|>(.*?)<\|eot_id\|>", re.DOTALL)
_BLOCK_RE = re.compile(r"<BEGIN CONVERSATION>(.*?)(?:<END CONVERSATION>|\Z)", re.DOTALL)
_TURN_RE = re.compile(r"(?:\A|\n)\s*(?:User|Agent):[ \t]*")


def _check_triggers(triggers: Mapping[str, str]) -> dict[str, str]:
    checked = {}
    for word, category in triggers.items():
        if not word.strip():
            raise ValueError("guard trigger words must not be empty")
        if not _CATEGORY_RE.match(category):
            raise ValueError(f"guard trigger {word!r}: category must look like 'S1'..'S99', got {category!r}")
        checked[word] = category
    return checked


def judged_text(prompt_text: str) -> str:
    """What a guard would judge in a rendered prompt: its last complete message
    (or the whole text), narrowed to the last turn of a Llama Guard conversation."""
    text = prompt_text.removeprefix(BOS)
    messages = _MESSAGE_RE.findall(text)
    if messages:
        text = messages[-1][1]
    block = _BLOCK_RE.search(text)
    if block is not None:
        turns = _TURN_RE.split(block.group(1).strip())
        text = turns[-1]
    return text.strip()


class GuardEmulation:
    """How a guard-model sim answers; one per engine."""

    def __init__(self, kind: Literal["llama_guard", "classifier"], triggers: Mapping[str, str] | None = None) -> None:
        if kind not in ("llama_guard", "classifier"):
            raise ValueError(f"unknown guard emulation {kind!r} (known: llama_guard, classifier)")
        self.kind = kind
        self.triggers = _check_triggers(DEFAULT_TRIGGERS if triggers is None else triggers)
        self._patterns = [
            (re.compile(r"(?<!\w)" + re.escape(word), re.IGNORECASE), category)
            for word, category in self.triggers.items()
        ]

    @staticmethod
    def directive(text: str) -> Directive | None:
        for marker, directive in ((STALL, "stall"), (ERROR, "error"), (GARBAGE, "garbage")):
            if marker in text:
                return directive  # type: ignore[return-value]
        return None

    def categories(self, text: str) -> list[str]:
        """The triggered Llama Guard categories, in category order."""
        found = {category for pattern, category in self._patterns if pattern.search(text)}
        return sorted(found, key=lambda code: int(code[1:]))

    # ---- llama_guard ----------------------------------------------------

    def reply(self, prompt_text: str) -> list[tuple[str, list[tuple[str, float]]]]:
        """The reply's tokens, each with its distribution (likeliest first)."""
        text = judged_text(prompt_text)
        tokens: list[tuple[str, list[tuple[str, float]]]] = []
        if not prompt_text.endswith("\n"):
            tokens.append(("\n\n", [("\n\n", 0.99)]))
        if self.directive(text) == "garbage":
            first, *rest = tokenize(_GARBAGE_REPLY)
            tokens.append((first, [(first, 0.7), ("safe", 0.2), ("unsafe", 0.05)]))
            tokens.extend((piece, [(piece, 0.95)]) for piece in rest)
            return tokens
        categories = self.categories(text)
        if categories:
            tokens.append(("unsafe", [("unsafe", P_UNSAFE_WHEN_UNSAFE), ("safe", 1 - P_UNSAFE_WHEN_UNSAFE - 0.01)]))
            tokens.extend((piece, [(piece, 0.98)]) for piece in tokenize("\n" + ",".join(categories)))
        else:
            tokens.append(("safe", [("safe", 1 - P_UNSAFE_WHEN_SAFE - 0.01), ("unsafe", P_UNSAFE_WHEN_SAFE)]))
        return tokens

    # ---- classifier -----------------------------------------------------

    def logits(self, text: str) -> list[float]:
        logits = [QUIET_LOGIT] * len(DUOGUARD_CATEGORIES)
        for category in self.categories(text):
            index = CLASSIFIER_INDEX.get(category)
            if index is not None:
                logits[index] = TRIGGERED_LOGIT
        return logits


def softmax(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


class VerdictGenerator:
    """Emits a guard's reply token by token, greedily, with the given distributions."""

    def __init__(self, tokens: list[tuple[str, list[tuple[str, float]]]], top_logprobs: int | None) -> None:
        self._tokens = tokens
        self._next = 0
        self._k = top_logprobs

    def _top(self, dist: list[tuple[str, float]]) -> list[tuple[str, float]]:
        if not self._k:
            return []
        top = [(piece, math.log(p)) for piece, p in dist][: self._k]
        # Fill up to k with ever less likely words, from what mass is left.
        left = max(1e-6, 1.0 - sum(p for _, p in dist))
        seen = {piece for piece, _ in top}
        fillers = (word for word in VOCAB if word not in seen)
        while len(top) < self._k:
            left /= 2
            top.append((next(fillers), math.log(left)))
        return top

    def next(self) -> GenToken:
        piece, dist = self._tokens[self._next]
        self._next += 1
        finish = "stop" if self._next == len(self._tokens) else None
        return GenToken(piece, math.log(dist[0][1]), self._top(dist), finish)
