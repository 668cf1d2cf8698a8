"""Routing strategies: each turns a request into a model choice with a reason."""

from __future__ import annotations

from gateway.config import CascadeRoute, LearnedRoute, RouteConfig, RulesRoute
from router.strategies.base import Decision, Judge, RouteContext, Strategy
from router.strategies.cascade import CascadeStrategy
from router.strategies.learned import LearnedStrategy
from router.strategies.rules import RulesStrategy

_BY_CONFIG: dict[type, type[Strategy]] = {
    RulesRoute: RulesStrategy,
    LearnedRoute: LearnedStrategy,
    CascadeRoute: CascadeStrategy,
}


def build_strategy(config: RouteConfig) -> Strategy:
    return _BY_CONFIG[type(config)](config)  # type: ignore[call-arg]


__all__ = ["Decision", "Judge", "RouteContext", "Strategy", "build_strategy"]
