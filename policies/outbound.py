"""Output policies: what happens to an answer before the client sees it.

For a whole answer, each choice's text has its PII placeholders restored,
then output PII policies redact and output guards judge it (a block replaces
the answer). For a stream, `StreamFilter` does the same incrementally: text is
held back until a guard has judged a window that contains it — nothing
unjudged reaches the client — and the hold-back also keeps a PII match from
being cut in half at a release boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from policies import pii_policy
from policies.config import GuardPolicy, PIIPolicy
from policies.decisions import ALLOW, Decision, Report
from policies.inbound import guard_decision
from policies.judge import Judge

if TYPE_CHECKING:
    from policies.stream import StreamPolicies

# Characters kept back from release so a PII value is never split by it.
PII_HOLD_CHARS = 64


@dataclass(slots=True)
class OutputPolicies:
    guards: list[tuple[GuardPolicy, Judge]]
    pii: list[PIIPolicy]
    restore: dict[str, str]
    prompt: str
    report: Report

    @property
    def active(self) -> bool:
        return bool(self.guards or self.pii or self.restore)

    async def check(self, text: str) -> str:
        """A whole answer's text, restored and redacted; raises Blocked."""
        text = pii_policy.restore(text, self.restore)
        text = self._redact(text)
        for policy, judge in self.guards:
            result = await judge(text, "assistant", self.prompt)
            self.report.add(guard_decision("output", policy, judge.name, result))
        return text

    def _redact(self, text: str) -> str:
        for policy in self.pii:
            if policy.action == "annotate":
                continue
            redacted, _, found = pii_policy.redact_text(text, policy.kinds)
            if found:
                text = redacted
                self.report.add(Decision("output", "pii", "redact", pii_policy.summary(found)))
        return text

    def stream(self) -> StreamFilter:
        return StreamFilter(self)

    async def check_answer(self, answer: dict[str, Any], chat: bool) -> None:
        """Every choice's text of a parsed answer through the policies, in place; raises Blocked."""
        for holder, key, text in answer_texts(answer, chat):
            holder[key] = await self.check(text)

    async def check_body(self, body: bytes, chat: bool) -> bytes:
        """A whole upstream answer (JSON bytes) through the policies; raises Blocked."""
        answer = orjson.loads(body)
        await self.check_answer(answer, chat)
        return orjson.dumps(answer)

    def sse(self, chat: bool) -> StreamPolicies:
        from policies.stream import StreamPolicies  # the SSE layer builds on this module

        return StreamPolicies(self, chat)


@dataclass(slots=True)
class StreamFilter:
    """One streamed choice's text: fed deltas, releases checked text."""

    policies: OutputPolicies
    restorer: pii_policy.StreamRestorer | None = None
    pending: str = ""  # received, not yet released
    released_tail: str = ""  # the end of what was released: context for the next window
    judged_any: bool = False
    decisions: dict[str, Decision] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.policies.restore:
            self.restorer = pii_policy.StreamRestorer(self.policies.restore)

    @property
    def stride(self) -> int:
        return min((p.stride_chars for p, _ in self.policies.guards), default=PII_HOLD_CHARS)

    async def feed(self, delta: str) -> str:
        """Text to release now (maybe ""); raises Blocked."""
        self.pending += self.restorer.feed(delta) if self.restorer is not None else delta
        if len(self.pending) < self.stride + (PII_HOLD_CHARS if self.policies.pii else 0):
            return ""
        return await self._release(final=False)

    async def finish(self) -> str:
        """The rest, at the end of the stream; raises Blocked."""
        if self.restorer is not None:
            self.pending += self.restorer.flush()
        return await self._release(final=True)

    async def _release(self, *, final: bool) -> str:
        text = self.policies._redact(self.pending) if self.policies.pii else self.pending
        cut = len(text) if final or not self.policies.pii else max(0, len(text) - PII_HOLD_CHARS)
        out, self.pending = text[:cut], text[cut:]
        if out or (final and not self.judged_any):
            await self._judge(out)
        window = self._window  # 0 without guards: no context to keep
        self.released_tail = (self.released_tail + out)[-window:] if window else ""
        return out

    @property
    def _window(self) -> int:
        return max((p.window_chars for p, _ in self.policies.guards), default=0)

    async def _judge(self, out: str) -> None:
        self.judged_any = True
        for policy, judge in self.policies.guards:
            window = (self.released_tail + out)[-policy.window_chars :]
            result = await judge(window, "assistant", self.policies.prompt)
            decision = guard_decision("output", policy, judge.name, result)
            if decision.action != ALLOW or judge.name not in self.decisions:
                self.decisions[judge.name] = decision

    def report(self) -> None:
        """Record one decision per guard for the whole stream (the last notable one)."""
        for decision in self.decisions.values():
            self.policies.report.add(decision)


def answer_texts(answer: dict[str, Any], chat: bool) -> list[tuple[dict[str, Any], str, str]]:
    """(container, key, text) for every choice's text in a whole answer."""
    found = []
    for choice in answer.get("choices") or []:
        holder, key = (choice.get("message") or {}, "content") if chat else (choice, "text")
        if isinstance(holder.get(key), str):
            found.append((holder, key, holder[key]))
    return found
