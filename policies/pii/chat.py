"""Redaction of OpenAI chat messages: string contents and content-part lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from policies.pii.detect import check_kinds, detect
from policies.pii.finding import Finding
from policies.pii.redact import Placeholders


def _texts(messages: Sequence[Mapping[str, Any]]) -> Iterable[str]:
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    yield part["text"]


def detect_messages(messages: Sequence[Mapping[str, Any]], kinds: Iterable[str] | None = None) -> list[Finding]:
    """Findings in every message's text (for block / annotate policies).

    Offsets are relative to each text, so use them for counting and kinds, not
    for slicing.
    """
    selected = check_kinds(kinds)
    found: list[Finding] = []
    for text in _texts(messages):
        found.extend(detect(text, selected))
    return found


def redact_messages(
    messages: Sequence[Mapping[str, Any]],
    kinds: Iterable[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    *,
    found: list[Finding] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Messages with personal data and secrets replaced by placeholders, and
    placeholder -> original for the whole conversation (the same value keeps one
    placeholder across messages).

    Handles `content` as a string or as a list of parts, of which only
    {"type": "text"} parts are touched (images, audio, files pass as they are).
    The input is never mutated: every message dict and content list is new,
    while fields left alone (tool_calls, image parts...) are shared with the
    input, not copied. Tool-call arguments are not scanned.

    `mapping` continues an earlier numbering (copied, not changed); a list
    passed as `found` receives every finding (offsets relative to its own text).
    """
    selected = check_kinds(kinds)
    names = Placeholders(mapping)
    # Reserve every text first: a placeholder-looking string anywhere in the
    # conversation must not be handed out for another value.
    for text in _texts(messages):
        names.reserve(text)
    sink: list[Finding] = found if found is not None else []

    def redact(text: str) -> str:
        findings = detect(text, selected)
        sink.extend(findings)
        return names.apply(text, findings)

    out: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, Mapping):
            # Not a message: left as it is for request validation to reject.
            out.append(cast(dict[str, Any], message))
            continue
        copy = dict(message)
        content = copy.get("content")
        if isinstance(content, str):
            copy["content"] = redact(content)
        elif isinstance(content, list):
            parts: list[Any] = []
            for part in content:
                if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    new_part = dict(part)
                    new_part["text"] = redact(part["text"])
                    parts.append(new_part)
                else:
                    parts.append(part)
            copy["content"] = parts
        out.append(copy)
    return out, names.mapping
