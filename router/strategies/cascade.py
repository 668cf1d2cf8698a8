"""Cascade: answer with the weak model, escalate when the answer looks unsure.

The judge is a hook. `mean_logprob` trusts an answer whose mean token logprob
is at least `min_mean_logprob` — low average confidence is a cheap,
engine-native signal of a guess; `confidence` uses the uncertainty policy's
calibrated confidence (policies/uncertainty/judge.py).
"""

from __future__ import annotations

from typing import Any

from gateway.config import CascadeRoute
from router.strategies.base import Decision, Judge, RouteContext, Strategy


def token_logprobs(choice: dict[str, Any]) -> list[float]:
    """Token logprobs of one choice, chat or text-completion shaped."""
    logprobs = choice.get("logprobs") or {}
    if isinstance(logprobs.get("content"), list):  # chat
        return [t["logprob"] for t in logprobs["content"] if isinstance(t, dict) and "logprob" in t]
    values = logprobs.get("token_logprobs")  # completions
    return [v for v in values if isinstance(v, (int, float))] if isinstance(values, list) else []


def mean_logprob_judge(min_mean_logprob: float) -> Judge:
    def judge(answer: dict[str, Any]) -> tuple[bool, str]:
        choices = answer.get("choices") or []
        means = []
        for choice in choices:
            values = token_logprobs(choice)
            if not values:
                return False, "no logprobs to judge by"
            means.append(sum(values) / len(values))
        if not means:
            return False, "no answer"
        worst = min(means)
        verdict = "trusted" if worst >= min_mean_logprob else "unsure"
        return worst >= min_mean_logprob, f"mean logprob {worst:.3f} ({verdict}, bar {min_mean_logprob:g})"

    return judge


class CascadeStrategy(Strategy):
    def __init__(self, config: CascadeRoute) -> None:
        super().__init__(config.name)
        self.weak = config.weak
        self.strong = config.strong
        if config.judge == "confidence":
            from policies.uncertainty.judge import confidence_judge  # loaded only by routes that use it

            self.judge = confidence_judge(config.min_confidence)
        else:
            self.judge = mean_logprob_judge(config.min_mean_logprob)

    def choose(self, ctx: RouteContext) -> Decision:
        return Decision(self.weak, "cascade: weak first", "weak_first", escalate_to=self.strong, judge=self.judge)

    def targets(self) -> list[str]:
        return [self.weak, self.strong]
