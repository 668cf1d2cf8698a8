"""Catalog checks: can this model take this request at all?

Strategies choose on cost and quality; the catalog vetoes a choice the model
cannot serve (no tool calling, no JSON mode, a prompt longer than its
context window), and the route then takes the next of its models that can.
"""

from __future__ import annotations

from gateway.config import ModelConfig
from router.strategies.base import Decision, RouteContext, Strategy


def unfit_reason(model: ModelConfig, ctx: RouteContext) -> str | None:
    """Why `model` cannot serve this request, or None if it can."""
    if ctx.data.get("tools") and "tools" not in model.capabilities:
        return "no tool calling"
    if ctx.wants_json and "json_mode" not in model.capabilities:
        return "no JSON mode"
    if model.context_window is not None and ctx.prompt_tokens > model.context_window:
        return f"~{ctx.prompt_tokens} prompt tokens exceed its {model.context_window}-token window"
    return None


def refit(decision: Decision, strategy: Strategy, models: dict[str, ModelConfig], ctx: RouteContext) -> Decision:
    """The decision, or the first other target of the route that fits, strongest first."""
    why = unfit_reason(models[decision.model], ctx)
    if why is None:
        return decision
    others = sorted((m for m in set(strategy.targets()) if m != decision.model), key=lambda m: -models[m].tier)
    for name in others:
        if unfit_reason(models[name], ctx) is None:
            reason = f"{decision.reason}; {decision.model}: {why}, so {name}"
            return Decision(name, reason, "refit")
    return decision  # nothing fits better: let the engine say what is wrong
