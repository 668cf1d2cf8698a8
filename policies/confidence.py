"""Uncertainty policy: estimate an answer's confidence and act on it.

Signals come from policies/uncertainty (token-logprob features through the
shipped calibration, or the agreement of k samples). Actions, by threshold,
strictest first: abstain (the answer is withheld), escalate (asked again of a
stronger model), hedge (a first-person hedge is put in front: Kim et al.,
FAccT 2024, found "I'm not sure" cuts over-reliance more than impersonal
phrasings), annotate (confidence reported only). No logprobs means no
evidence: the answer passes unchanged and the decision says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway import cascade
from policies.config import UncertaintyPolicy
from policies.decisions import Decision
from policies.uncertainty import signals

# Sampling temperature for self-consistency when the client asked for (near-)greedy decoding:
# identical samples would always agree.
MIN_SAMPLE_TEMPERATURE = 0.7


@dataclass(frozen=True, slots=True)
class Assessment:
    confidence: float | None
    signal: str
    action: str  # ok | annotate | hedge | escalate | abstain

    def decision(self) -> Decision:
        value = "none" if self.confidence is None else f"{self.confidence:.2f}"
        return Decision("uncertainty", "confidence", self.action, f"{value} {self.signal}")


def samples_wanted(data: dict[str, Any], policy: UncertaintyPolicy) -> bool:
    return policy.signal == "consistency" and data.get("n") in (None, 1)


def request_for(data: dict[str, Any], policy: UncertaintyPolicy, chat: bool) -> dict[str, Any]:
    """The upstream request: whole (not streamed), with logprobs, and k samples for consistency."""
    probe = cascade.weak_request(data, chat)  # the cascade asks the same way, for the same reason
    if samples_wanted(data, policy):
        probe["n"] = policy.samples
        probe["temperature"] = max(float(data.get("temperature") or 0.0), MIN_SAMPLE_TEMPERATURE)
    return probe


def assess(
    answer: dict[str, Any], policy: UncertaintyPolicy, chat: bool, *, sampled: bool, escalated: bool = False
) -> Assessment:
    """The answer's confidence and what to do about it. `sampled`: its choices are
    the policy's k samples (not choices the client asked for), to be reduced to one."""
    choices = answer.get("choices") or []
    if sampled and len(choices) > 1:
        texts = [_text(choice, chat) for choice in choices]
        confidence: float | None = signals.consistency_confidence(texts)
        _keep_medoid(answer, texts)
        signal = "consistency"
    else:
        confidence = signals.logprob_confidence(signals.response_features(answer))
        signal = "logprobs"
    return Assessment(confidence, signal, _action(confidence, policy, escalated))


def _action(confidence: float | None, policy: UncertaintyPolicy, escalated: bool) -> str:
    if confidence is None:
        return "ok"
    if policy.abstain_below is not None and confidence < policy.abstain_below:
        return "abstain"
    if not escalated and policy.escalate_below is not None and confidence < policy.escalate_below:
        return "escalate"
    if policy.hedge_below is not None and confidence < policy.hedge_below:
        return "hedge"
    return "annotate" if policy.annotate else "ok"


def without_escalation(assessment: Assessment, policy: UncertaintyPolicy) -> Assessment:
    """What to do when escalating is not an option (the tenant may not use escalate_to)."""
    return Assessment(assessment.confidence, assessment.signal, _action(assessment.confidence, policy, True))


def apply(answer: dict[str, Any], assessment: Assessment, policy: UncertaintyPolicy, chat: bool) -> dict[str, Any]:
    """The answer after a hedge or an abstention (unchanged otherwise)."""
    if assessment.action not in ("hedge", "abstain"):
        return answer
    for choice in answer.get("choices") or []:
        holder, key = (choice.get("message") or {}, "content") if chat else (choice, "text")
        text = holder.get(key)
        if not isinstance(text, str):
            continue
        holder[key] = policy.abstain_text if assessment.action == "abstain" else hedge(text, policy.hedge_text)
        if assessment.action == "abstain":
            choice["logprobs"] = None
    return answer


def hedge(text: str, prefix: str) -> str:
    """"I'm not sure, but " + the answer, its first letter lowered unless it is "I" or an acronym."""
    body = text.lstrip()
    if len(body) > 1 and body[0].isupper() and body[1].islower() and not body.startswith(("I ", "I'")):
        body = body[0].lower() + body[1:]
    return prefix + body


def _text(choice: dict[str, Any], chat: bool) -> str:
    if chat:
        return str((choice.get("message") or {}).get("content") or "")
    return str(choice.get("text") or "")


def _keep_medoid(answer: dict[str, Any], texts: list[str]) -> None:
    """Answer with the sample most similar to all others (the consensus), as choice 0."""
    scores = [sum(signals.similarity(a, b) for b in texts) for a in texts]
    best = max(range(len(texts)), key=scores.__getitem__)
    chosen = dict(answer["choices"][best], index=0)
    answer["choices"] = [chosen]
