"""Rules: the first rule whose conditions all hold names the model."""

from __future__ import annotations

from gateway.config import RouteRule, RulesRoute
from router.strategies.base import Decision, RouteContext, Strategy


def _matches(rule: RouteRule, ctx: RouteContext) -> str | None:
    """The reason this rule matches, or None."""
    reasons = []
    for name, value in rule.header.items():
        if ctx.header(name.lower().encode()) != value.encode():
            return None
        reasons.append(f"header {name}")
    if rule.tools is not None:
        if bool(ctx.data.get("tools")) != rule.tools:
            return None
        reasons.append("tools" if rule.tools else "no tools")
    if rule.json_mode is not None:
        if ctx.wants_json != rule.json_mode:
            return None
        reasons.append("json mode" if rule.json_mode else "no json mode")
    if rule.min_prompt_tokens is not None or rule.max_prompt_tokens is not None:
        tokens = ctx.prompt_tokens
        if rule.min_prompt_tokens is not None and tokens < rule.min_prompt_tokens:
            return None
        if rule.max_prompt_tokens is not None and tokens > rule.max_prompt_tokens:
            return None
        reasons.append(f"~{tokens} prompt tokens")
    return ", ".join(reasons) or "always"


class RulesStrategy(Strategy):
    def __init__(self, config: RulesRoute) -> None:
        super().__init__(config.name)
        self.rules = config.rules
        self.default = config.default

    def choose(self, ctx: RouteContext) -> Decision:
        for index, rule in enumerate(self.rules):
            reason = _matches(rule, ctx)
            if reason is not None:
                return Decision(rule.model, f"rules: rule {index} ({reason})", f"rule{index}")
        return Decision(self.default, "rules: default", "default")

    def targets(self) -> list[str]:
        return [self.default, *(rule.model for rule in self.rules)]
