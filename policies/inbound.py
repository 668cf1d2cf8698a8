"""Input policies: what happens to a request before it is routed.

In configuration order: PII policies redact (or block on) personal data and
secrets in every message; guard policies judge the user's text and allow,
annotate, reroute or block. A speculative guard is not awaited here: the
caller starts the upstream call and holds its output until `verdict()` allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies import pii_policy
from policies.config import GuardPolicy, PIIPolicy
from policies.decisions import ALLOW, ANNOTATE, BLOCK, ERROR, REROUTE, Blocked, Decision, Report
from policies.guards import Verdict
from policies.judge import GuardFailure, Judge


@dataclass(slots=True)
class InputOutcome:
    data: dict[str, Any]
    report: Report
    reroute_to: str | None = None
    # placeholder -> original value, to restore PII in the answer
    restore: dict[str, str] = field(default_factory=dict)


def user_text(data: dict[str, Any]) -> str:
    """The text a guard judges: the user turns (chat) or the prompt (completions)."""
    messages = data.get("messages")
    if isinstance(messages, list):
        return "\n".join(_content_text(m.get("content")) for m in messages
                         if isinstance(m, dict) and m.get("role") == "user")
    prompt = data.get("prompt")
    if isinstance(prompt, list):
        return "\n".join(p for p in prompt if isinstance(p, str))
    return prompt if isinstance(prompt, str) else ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def apply_pii(policies: list[PIIPolicy], outcome: InputOutcome) -> None:
    """Redact (or block) PII in place, recording decisions. Raises Blocked."""
    for policy in policies:
        data, mapping, found = pii_policy.redact_request(outcome.data, policy.kinds)
        detail = pii_policy.summary(found)
        if not found:
            outcome.report.add(Decision("input", "pii", ALLOW))
        elif policy.action == "block":
            decision = Decision("input", "pii", BLOCK, detail)
            raise Blocked(decision, f"the request contains personal data or secrets ({detail})", ("pii",))
        elif policy.action == "annotate":
            outcome.report.add(Decision("input", "pii", ANNOTATE, detail))
        else:
            outcome.data = data
            if policy.restore:
                outcome.restore.update(mapping)
            outcome.report.add(Decision("input", "pii", "redact", detail))


async def apply_guard(policy: GuardPolicy, judge: Judge, outcome: InputOutcome) -> None:
    """Judge the user's text; record the decision, reroute, or raise Blocked."""
    result = await judge(user_text(outcome.data))
    outcome.report.add(guard_decision("input", policy, judge.name, result, outcome))


def guard_decision(
    stage: str, policy: GuardPolicy, name: str, result: Verdict | GuardFailure, outcome: InputOutcome | None = None
) -> Decision:
    """The decision for one guard result; raises Blocked when it blocks."""
    label = f"guard.{name}"
    if isinstance(result, GuardFailure):
        if policy.on_error == "closed":
            decision = Decision(stage, label, BLOCK, f"guard {result.kind}, failing closed")
            raise Blocked(decision, f"the safety check is unavailable ({result.kind})", ("guard_unavailable",))
        return Decision(stage, label, ERROR, f"{result.kind}, failing open")
    detail = _detail(result)
    if policy.action == "annotate":
        return Decision(stage, label, ANNOTATE, detail)
    if result.score >= policy.block_above:
        decision = Decision(stage, label, BLOCK, detail)
        categories = result.categories or ("unsafe",)
        raise Blocked(decision, f"unsafe content ({', '.join(categories)})", categories)
    if policy.reroute_above is not None and outcome is not None and result.score >= policy.reroute_above:
        outcome.reroute_to = policy.reroute_to
        return Decision(stage, label, REROUTE, f"{detail} -> {policy.reroute_to}")
    return Decision(stage, label, ALLOW, detail)


def _detail(verdict: Verdict) -> str:
    categories = ",".join(verdict.categories[:3])
    return f"{verdict.score:.2f} {categories}".strip()
