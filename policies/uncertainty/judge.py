"""The uncertainty signal as a router cascade judge (router/strategies/cascade.py).

A cascade asks the weak model first and keeps its answer only when the judge
trusts it; this judge trusts answers whose calibrated confidence (the default
logprob signal, docs/uncertainty.md) reaches `min_confidence`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.uncertainty import signals


def confidence_judge(min_confidence: float) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    calibration = signals.load_calibration()  # at route build time: a missing file fails the start

    def judge(answer: dict[str, Any]) -> tuple[bool, str]:
        choices = answer.get("choices") or []
        if not choices:
            return False, "no answer"
        worst: float | None = None
        for index in range(len(choices)):
            confidence = signals.logprob_confidence(signals.response_features(answer, index), calibration)
            if confidence is None:
                return False, "no logprobs to judge by"
            worst = confidence if worst is None else min(worst, confidence)
        assert worst is not None
        verdict = "trusted" if worst >= min_confidence else "unsure"
        return worst >= min_confidence, f"confidence {worst:.2f} ({verdict}, bar {min_confidence:g})"

    return judge
