"""Who may call what: API keys to tenants, model access, limits, budgets, usage.

`Access` exists only when authentication is on (config `auth` or `tenants`).
The gateway asks it to authenticate every HTTP request before routing
(the tenant goes into the ASGI scope as `semgate.tenant`, where dataflow,
policies and the cache read it), the proxy asks it to admit each model call,
and reports the call's usage once the upstream has told it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from gateway.config import GatewayConfig, route_targets
from gateway.errors import (
    AuthenticationFailed,
    BudgetExceeded,
    GatewayError,
    ModelNotFound,
    RateLimited,
    StoreUnavailable,
)
from gateway.exchange import Scope
from gateway.metrics import GatewayMetrics
from gateway.store import Store
from gateway.store.guarded import StoreGuard
from gateway.tenancy import bearer
from gateway.tenants.accounting import Accounting
from gateway.tenants.keys import KeyRing
from gateway.tenants.limits import USAGE_PERIODS, TenantLimits, period_bounds, usage_report
from gateway.tenants.reach import REACH, ModelReach, reachable

# Paths that need no tenant key: probes and scrapes, and the admin API (its own key).
OPEN_PATHS = frozenset({"/health", "/ready", "/metrics"})
ADMIN_PREFIX = "/admin/"


class Access:
    def __init__(
        self, config: GatewayConfig, store: Store, metrics: GatewayMetrics, guard: StoreGuard, *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.guard = guard
        self.tenants = {name: TenantLimits(name, settings) for name, settings in config.tenants.items()}
        targets = {route.name: route_targets(route) for route in config.routes}
        # Tenants without a list reach everything: no entry, nothing put in their requests' scope.
        self._reach = {name: ModelReach(settings.models, targets)
                       for name, settings in config.tenants.items() if settings.models is not None}
        static = {value: name for name, settings in config.tenants.items() for value in settings.key_hashes}
        auth = config.auth
        self.keys = KeyRing(store, static, cache_s=auth.key_cache_s if auth else 5.0, wall=clock)
        admin_key = os.environ.get(auth.admin_key_env or "") if auth and auth.admin_key_env else None
        self._admin_digest = hashlib.sha256(admin_key.encode()).digest() if admin_key else None
        self._clock = clock
        self.accounting = Accounting(store, guard, clock=clock)

    # ---- authentication -------------------------------------------------------

    async def authenticate(self, scope: Scope) -> GatewayError | None:
        """Put the key's tenant in the scope, or say why the request is refused."""
        path = scope["path"]
        if "semgate.tenant" in scope or path in OPEN_PATHS or path.startswith(ADMIN_PREFIX):
            return None  # the gateway's own calls carry their tenant already
        key = bearer(scope)
        if key is None:
            return AuthenticationFailed("no API key: send it as 'Authorization: Bearer <key>'")
        try:
            tenant = await self.keys.tenant_of(key)
        except StoreUnavailable as exc:
            return exc
        if tenant is None or tenant not in self.tenants:
            return AuthenticationFailed("invalid API key (unknown, revoked or expired)")
        scope["semgate.tenant"] = tenant
        return None

    @property
    def admin_enabled(self) -> bool:
        return self._admin_digest is not None

    def is_admin(self, scope: Scope) -> bool:
        key = bearer(scope)
        if key is None or self._admin_digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(key).digest(), self._admin_digest)

    # ---- admission and accounting -------------------------------------------------

    def allows(self, tenant: str | None, model: str) -> bool:
        reach = self._reach.get(tenant or "")
        return reach is None or model in reach.listed

    def enter(self, scope: Scope, name: str) -> bool:
        """Whether the request's tenant may call `name`; if so, the models the request may
        reach through it go into the scope (gateway/tenants/reach.py)."""
        reach = self._reach.get(scope.get("semgate.tenant") or "")
        if reach is None:
            return True
        through = reach.through(name)
        if through is None:
            return False
        scope[REACH] = through
        return True

    def redirect(self, scope: Scope, name: str) -> bool:
        """Whether the gateway may send this request on to `name` of its own accord (a policy's
        reroute or escalation): only within the request's reach; a listed route adds its targets."""
        if not reachable(scope, name):
            return False
        reach = self._reach.get(scope.get("semgate.tenant") or "")
        through = reach.through(name) if reach is not None else None
        if through is not None:
            scope[REACH] = scope.get(REACH, frozenset()) | through
        return True

    async def admit(self, scope: Scope, model: str) -> None:
        """Raise if the tenant may not call `model` now (no access, a rate limit, a budget)."""
        tenant = scope.get("semgate.tenant")
        limits = self.tenants.get(tenant or "")
        if limits is None:
            return
        if not self.enter(scope, model):
            self.metrics.limit_rejected(limits.name, "model")
            raise ModelNotFound(f"model {model!r} does not exist or tenant {limits.name!r} has no access to it",
                                param="model")
        if not limits.active:
            return
        now = self._clock()
        takes, _, _ = limits.admission(now)
        refused = await self.guard.run("limits", partial(self.store.take, takes), None)
        if refused is None:
            return
        refusal = limits.refusal(*refused, now)
        self.metrics.limit_rejected(limits.name, refusal.limit)
        error = BudgetExceeded if refusal.limit == "budget" else RateLimited
        raise error(refusal.message, refusal.retry_after_s)

    def account(self, scope: Scope, model: str, prompt: int, completion: int, cost_usd: float) -> None:
        """Charge a finished call to its tenant (batched: see accounting.py)."""
        limits = self.tenants.get(scope.get("semgate.tenant") or "")
        if limits is None:
            return
        self.metrics.tenant_usage(limits.name, prompt, completion, cost_usd)
        self.accounting.add(limits, model, prompt, completion, cost_usd)

    async def flush(self) -> None:
        """Write buffered usage now (at shutdown, and for tests that read it back)."""
        await self.accounting.flush()

    async def close(self) -> None:
        await self.accounting.close()

    # ---- reporting ---------------------------------------------------------------

    async def usage(self, tenant: str) -> dict[str, Any]:
        limits = self.tenants[tenant]
        now = self._clock()
        periods = {}
        for period in USAGE_PERIODS:
            fields = await self.store.hash_get(limits.usage_key(period, now))
            label, ends = period_bounds(period, now)
            periods[period] = {"period": label, "resets_at": int(ends), **usage_report(fields)}
        budgets, rates = limits.budget_meters(now), limits.rate_meters()
        used = await self.store.used([meter for meter, _, _ in budgets] + [meter for _, meter in rates])
        spent, in_use = used[:len(budgets)], used[len(budgets):]
        return {
            "object": "usage", "tenant": tenant, "usage": periods,
            "budgets": [
                {"period": budget.period, "usd": budget.usd, "spent_usd": round(used, 6),
                 "remaining_usd": round(max(budget.usd - used, 0.0), 6), "resets_at": int(ends)}
                for budget, (_, ends, _), used in zip(limits.config.budgets, budgets, spent)
            ],
            "limits": {kind: {"per_minute": meter.capacity, "in_use": round(used, 3)}
                       for (kind, meter), used in zip(rates, in_use)},
        }
