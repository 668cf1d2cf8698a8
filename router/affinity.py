"""Which requests should share a replica: the affinity key of a request.

Engines cache the KV of prompt prefixes they have seen (vLLM's automatic
prefix caching). Requests that start alike (one long system prompt, the turns
of one conversation) only hit that cache when they land on the same replica,
so the key is the request's leading text: equal leading text, equal key, and
`ReplicaSet.pick()` maps equal keys to the same replica (consistent hashing
with bounded loads).

Called once per request on the hot path, so it only slices: no JSON, no
hashing here (pick() hashes the key), nothing past `min_chars` characters.
"""

from __future__ import annotations

from array import array
from typing import Any

# A token is ~4 characters of English text; token-id prompts are compared on
# the token count that stands for min_chars characters.
CHARS_PER_TOKEN = 4


def affinity_key(data: dict[str, Any], session: bytes | None, min_chars: int) -> bytes | None:
    """The affinity key of a parsed chat / completions request, or None.

    A session id (the client's explicit wish) wins. Otherwise the first
    `min_chars` characters of the prompt: the message contents in order (the
    order the engine's prompt and so its cached prefix has, which puts the
    system prompt first), or the completions prompt. Prompts shorter than
    that get None: a short shared prefix saves little prefill, and spreading
    by load serves them better.
    """
    if session:
        return session
    messages = data.get("messages")
    if messages is not None:
        text = _chat_prefix(messages, min_chars)
    else:
        prompt = data.get("prompt")
        if isinstance(prompt, list) and prompt:
            if isinstance(prompt[0], int):
                return _tokens_key(prompt, min_chars)
            prompt = prompt[0]  # a batch goes to one replica; its first prompt decides
            if isinstance(prompt, list):
                return _tokens_key(prompt, min_chars) if prompt and isinstance(prompt[0], int) else None
        text = prompt if isinstance(prompt, str) else None
    if text is None or len(text) < min_chars:
        return None
    return text[:min_chars].encode("utf-8", "surrogatepass")


def _chat_prefix(messages: Any, min_chars: int) -> str | None:
    """The leading message contents, joined, until min_chars are collected."""
    if not isinstance(messages, list):
        return None
    parts: list[str] = []
    size = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
            size += len(content)
        elif isinstance(content, list):  # content parts: text counts, images and audio do not
            for part in content:
                if isinstance(part, dict) and isinstance(text := part.get("text"), str):
                    parts.append(text)
                    size += len(text)
        if size >= min_chars:
            break
        parts.append("\x00")  # message boundary: ("ab", "c") and ("a", "bc") differ
    return "".join(parts)


def _tokens_key(tokens: list[Any], min_chars: int) -> bytes | None:
    count = -(-min_chars // CHARS_PER_TOKEN)
    if len(tokens) < count:
        return None
    try:
        return array("q", tokens[:count]).tobytes()
    except (TypeError, OverflowError):
        return None  # not a list of token ids after all
