"""Placeholders in, originals back out: `Redactor`, `restore`, `StreamRestorer`.

A mapping is a plain dict placeholder -> original ("[EMAIL_1]" -> "a@b.fr").
It is the only place the originals live after redaction; the caller keeps it
for the request's lifetime and must not log it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

from policies.pii.detect import check_kinds, detect
from policies.pii.finding import Finding

# Anything shaped like a placeholder ([EMAIL_1], [CREDIT_CARD_12]); restore
# replaces those that are keys of the mapping.
PLACEHOLDER: Final = re.compile(r"\[[A-Z][A-Z0-9_]{0,46}\]")


class Placeholders:
    """Numbering for one request: the same value gets the same placeholder.

    `reserved` is the text being redacted (all of it, for several messages): a
    placeholder that already occurs there literally is skipped, so restoring
    never turns the user's own "[EMAIL_1]" into someone's address.
    """

    __slots__ = ("mapping", "_by_value", "_next", "_reserved")

    def __init__(self, mapping: Mapping[str, str] | None = None, reserved: str = "") -> None:
        self.mapping: dict[str, str] = dict(mapping or {})
        self._by_value: dict[str, str] = {v: k for k, v in self.mapping.items()}
        self._next: dict[str, int] = {}
        # Placeholder-shaped strings of the text (a set: a membership test per
        # new placeholder must not rescan a 100 KB prompt).
        self._reserved: set[str] = set()
        self.reserve(reserved)

    def reserve(self, text: str) -> None:
        if "[" in text:
            self._reserved.update(PLACEHOLDER.findall(text))

    def placeholder(self, finding: Finding) -> str:
        existing = self._by_value.get(finding.text)
        if existing is not None:
            return existing
        label = finding.kind.upper()
        n = self._next.get(label, 1)
        while True:
            candidate = f"[{label}_{n}]"
            n += 1
            if candidate not in self.mapping and candidate not in self._reserved:
                break
        self._next[label] = n
        self.mapping[candidate] = finding.text
        self._by_value[finding.text] = candidate
        return candidate

    def apply(self, text: str, findings: list[Finding]) -> str:
        if not findings:
            return text
        parts: list[str] = []
        pos = 0
        for f in findings:
            parts.append(text[pos:f.start])
            parts.append(self.placeholder(f))
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts)


class Redactor:
    """Replaces personal data and secrets with placeholders such as [EMAIL_1].

    Stateless apart from its configuration: one instance serves every request
    concurrently; the per-request state is the mapping each call returns.
    """

    __slots__ = ("kinds",)

    def __init__(self, kinds: Iterable[str] | None = None) -> None:
        self.kinds = check_kinds(kinds)

    def find(self, text: str) -> list[Finding]:
        return detect(text, self.kinds)

    def redact(
        self, text: str, mapping: Mapping[str, str] | None = None, *, found: list[Finding] | None = None
    ) -> tuple[str, dict[str, str]]:
        """`text` with each finding replaced; and placeholder -> original.

        Pass the mapping of an earlier call of the same request to continue its
        numbering (the same value keeps its placeholder); it is copied, not
        changed. Pass a list as `found` to also get the findings (for block /
        annotate decisions, `summarize`) without detecting twice.
        """
        findings = self.find(text)
        if found is not None:
            found.extend(findings)
        if not findings and mapping is None:
            return text, {}
        names = Placeholders(mapping, reserved=text)
        return names.apply(text, findings), names.mapping

    @staticmethod
    def restore(text: str, mapping: Mapping[str, str]) -> str:
        return restore(text, mapping)


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per kind, e.g. {"email": 2, "api_key": 1}: safe to log and to report."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return counts


def restore(text: str, mapping: Mapping[str, str]) -> str:
    """Put the originals back where `text` repeats a placeholder of `mapping`.

    Placeholders not in the mapping (the model invented [EMAIL_7]) stay as they are.
    """
    if not mapping or "[" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(), m.group()), text)


class StreamRestorer:
    """`restore` for a streamed answer, whose chunks may split a placeholder.

    Only a tail that could still grow into one of the mapping's placeholders
    ("[EM", "[EMAIL_") is held back; everything before it goes out at once, and
    a chunk without "[" passes through untouched when nothing is held.
    """

    __slots__ = ("_mapping", "_prefixes", "_longest", "_pending")

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._mapping = dict(mapping)
        # Every proper prefix of every placeholder: "[", "[E", ... "[EMAIL_1".
        self._prefixes: frozenset[str] = frozenset(
            key[:i] for key in self._mapping for i in range(1, len(key))
        )
        self._longest = max((len(k) for k in self._mapping), default=0)
        self._pending = ""

    def feed(self, chunk: str) -> str:
        if not self._pending and "[" not in chunk:
            return chunk
        buf = self._pending + chunk
        # Placeholders contain no "[" after the first character, so only the
        # tail from the last "[" can be an unfinished one.
        cut = buf.rfind("[")
        if cut != -1 and len(buf) - cut < self._longest and buf[cut:] in self._prefixes:
            self._pending = buf[cut:]
            return restore(buf[:cut], self._mapping)
        self._pending = ""
        return restore(buf, self._mapping)

    def flush(self) -> str:
        """The held-back tail (at the end of the stream it is plain text)."""
        tail, self._pending = self._pending, ""
        return tail

    @property
    def pending(self) -> str:
        return self._pending
