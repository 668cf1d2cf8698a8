"""PII policies over OpenAI requests and answers, on top of policies/pii.

Requests are redacted message by message (content strings and text parts);
the placeholder -> value mapping stays in the gateway for the length of the
request, so values can be restored where the answer repeats a placeholder.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from policies.pii import Redactor, StreamRestorer, redact_messages, restore

__all__ = ["StreamRestorer", "redact_request", "redact_text", "restore", "summary"]

_PLACEHOLDER_KIND = re.compile(r"\[([A-Z0-9_]+?)_\d+\]")


def redact_request(
    data: dict[str, Any], kinds: list[str] | None
) -> tuple[dict[str, Any], dict[str, str], dict[str, int]]:
    """(new request, placeholder -> value, count per kind); the input is not changed."""
    messages = data.get("messages")
    if isinstance(messages, list):
        new_messages, mapping = redact_messages(messages, kinds=kinds)
        return ({**data, "messages": new_messages} if mapping else data), mapping, _kinds(mapping)
    prompt = data.get("prompt")
    if isinstance(prompt, str):
        text, mapping, found = redact_text(prompt, kinds)
        return ({**data, "prompt": text} if mapping else data), mapping, found
    return data, {}, {}


def redact_text(text: str, kinds: list[str] | None) -> tuple[str, dict[str, str], dict[str, int]]:
    redacted, mapping = Redactor(kinds=kinds).redact(text)
    return redacted, mapping, _kinds(mapping)


def summary(found: dict[str, int]) -> str:
    return ",".join(f"{kind.lower()}:{count}" for kind, count in sorted(found.items()))


def _kinds(mapping: dict[str, str]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for placeholder in mapping:
        match = _PLACEHOLDER_KIND.fullmatch(placeholder)
        counts[match.group(1) if match else "PII"] += 1
    return dict(counts)
