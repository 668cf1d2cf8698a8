"""What policies decided about a request, for headers, metrics and replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Actions a policy can take; `allow` is recorded too, so the header shows what ran.
ALLOW, BLOCK, REDACT, REROUTE, ANNOTATE, ERROR = "allow", "block", "redact", "reroute", "annotate", "error"


@dataclass(frozen=True, slots=True)
class Decision:
    stage: str  # input | output | uncertainty
    policy: str  # "guard.local", "pii", "confidence"
    action: str
    detail: str = ""

    def render(self) -> str:
        text = f"{self.stage}.{self.policy}={self.action}"
        return f"{text}({self.detail})" if self.detail else text


@dataclass(slots=True)
class Report:
    """Decisions in the order they were taken; rendered into x-semgate-policy.

    `sink` sees each decision as it is added (the gateway counts them in metrics).
    """

    sink: Callable[[Decision], None] | None = None
    decisions: list[Decision] = field(default_factory=list)

    def add(self, decision: Decision) -> None:
        self.decisions.append(decision)
        if self.sink is not None:
            self.sink(decision)

    def header(self) -> bytes:
        # Header values must be latin-1 and free of control characters.
        text = "; ".join(d.render() for d in self.decisions)
        return text.encode("ascii", "replace").replace(b"\r", b" ").replace(b"\n", b" ")


class Blocked(Exception):
    """A policy blocked the request or its answer."""

    def __init__(self, decision: Decision, reason: str, categories: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.decision = decision
        self.reason = reason
        self.categories = categories
