"""Which models a tenant's request may reach: one rule for every path that picks a model.

A tenant's `models` lists the public names it may call. A request reaches
those models and, when it goes through a route the tenant may call, that
route's own targets. Nothing else: a model's fallbacks, a cascade's
escalation, a policy's reroute or an uncertainty escalation that would leave
the set is skipped, so an allow-list cannot be walked around by a failure.

Admission (`Access.enter`) puts the request's set in the ASGI scope; every
place that picks a model reads it through `reachable` or `within`. No set in
the scope means "anything": authentication off, or a tenant without a list,
so those requests do no extra work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gateway.exchange import Scope
from gateway.routes import ModelRoute

REACH = "semgate.reach"  # scope key: frozenset of the model names this request may reach


class ModelReach:
    """One tenant's reach: its list, and per listed route the list plus that route's targets."""

    def __init__(self, listed: Iterable[str], route_targets: Mapping[str, Sequence[str]]) -> None:
        self.listed = frozenset(listed)
        # Granting a route grants what it stands for, but only on the way through it.
        self._through = {name: self.listed | frozenset(targets)
                         for name, targets in route_targets.items() if name in self.listed}

    def through(self, name: str) -> frozenset[str] | None:
        """The set a request for `name` may reach; None if the tenant may not call `name`."""
        if name not in self.listed:
            return None
        return self._through.get(name, self.listed)


def reachable(scope: Scope, name: str) -> bool:
    reach: frozenset[str] | None = scope.get(REACH)
    return reach is None or name in reach


def within(scope: Scope, routes: list[ModelRoute]) -> list[ModelRoute]:
    """The routes this request may reach, in their order."""
    reach: frozenset[str] | None = scope.get(REACH)
    if reach is None:
        return routes
    return [route for route in routes if route.name in reach]
