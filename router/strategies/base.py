"""What every routing strategy sees and returns.

A route is a public model name (`auto`, say) bound to a strategy. The
strategy reads the request and names the model to use, with a reason the
client sees in `x-semgate-route` and operators see in metrics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.headers import find_header

# A judge looks at a complete (non-streamed) answer and says whether to trust
# it, with a reason. The cascade strategy escalates when it says no.
Judge = Callable[[dict[str, Any]], tuple[bool, str]]

CHARS_PER_TOKEN = 4  # a routing estimate, not a tokenizer: cheap and model-agnostic


@dataclass(frozen=True, slots=True)
class Decision:
    model: str
    reason: str  # for people: the x-semgate-route header
    kind: str  # for metrics: a small fixed set per strategy ("strong", "rule0", ...)
    # Cascades: serve `model` first and move to `escalate_to` if `judge` distrusts it.
    escalate_to: str | None = None
    judge: Judge | None = None


@dataclass(slots=True)
class RouteContext:
    """The request as strategies see it; the prompt text is built on demand."""

    data: dict[str, Any]
    headers: list[tuple[bytes, bytes]]
    _prompt: str | None = field(default=None, repr=False)

    def header(self, name: bytes) -> bytes | None:
        return find_header(self.headers, name)

    @property
    def wants_json(self) -> bool:
        """The request asks for a JSON response_format."""
        fmt = self.data.get("response_format")
        return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")

    @property
    def prompt(self) -> str:
        if self._prompt is None:
            self._prompt = prompt_text(self.data)
        return self._prompt

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt) // CHARS_PER_TOKEN

    @property
    def last_user_message(self) -> str:
        """What the user asked just now: the text a quality router scores."""
        for message in reversed(self.data.get("messages") or []):
            if isinstance(message, dict) and message.get("role") == "user":
                return _content_text(message.get("content"))
        return self.prompt


def prompt_text(data: dict[str, Any]) -> str:
    if "messages" in data:
        return "\n".join(_content_text(m.get("content")) for m in data["messages"] if isinstance(m, dict))
    prompt = data.get("prompt")
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        return "\n".join(prompt)
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


class Strategy(ABC):
    """One routing strategy. Adding a strategy means adding one module."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def choose(self, ctx: RouteContext) -> Decision:
        """Pick the model for this request."""

    @abstractmethod
    def targets(self) -> list[str]:
        """Every model this strategy can pick (for validation and listings)."""
