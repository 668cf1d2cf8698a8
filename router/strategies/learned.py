"""Learned cost/quality routing: a prompt-only score of "the strong model is needed".

The scorer (router/learned, trained on MMLU win data) runs locally in
microseconds. Scores above the threshold go to the strong model; a client can
move the threshold per request with `x-semgate-route-threshold` to trace the
cost/quality curve.
"""

from __future__ import annotations

from gateway.config import LearnedRoute
from gateway.errors import BadRequest
from router.strategies.base import Decision, RouteContext, Strategy

THRESHOLD_HEADER = b"x-semgate-route-threshold"


def parse_threshold(value: bytes) -> float:
    try:
        threshold = float(value)
    except ValueError:
        threshold = -1.0
    if not 0.0 <= threshold <= 1.0:  # also rejects nan
        raise BadRequest(f"{THRESHOLD_HEADER.decode()} must be a number from 0 to 1", param=THRESHOLD_HEADER.decode())
    return threshold


class LearnedStrategy(Strategy):
    def __init__(self, config: LearnedRoute) -> None:
        from router.learned import LearnedScorer

        super().__init__(config.name)
        self.weak = config.weak
        self.strong = config.strong
        self.threshold = config.threshold
        self.scorer = LearnedScorer.load(config.artifact)

    def choose(self, ctx: RouteContext) -> Decision:
        override = ctx.header(THRESHOLD_HEADER)
        threshold = self.threshold if override is None else parse_threshold(override)
        score = self.scorer.score(ctx.last_user_message)
        model = self.strong if score > threshold else self.weak
        kind = "strong" if model == self.strong else "weak"
        return Decision(model, f"learned: score {score:.3f} vs threshold {threshold:.3f}", kind)

    def targets(self) -> list[str]:
        return [self.weak, self.strong]
