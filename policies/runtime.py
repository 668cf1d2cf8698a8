"""Configured policies at run time: guards built, profiles compiled, one chosen per request.

`select` runs on every request when policies are configured, so it is two
dict lookups; tenants are only derived (a hash of the key) when some tenant
has its own profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.tenancy import tenant_of
from policies.config import NONE, GuardPolicy, GuardSpec, PIIPolicy, PoliciesConfig, PolicyProfile, UncertaintyPolicy
from policies.guards import Guard
from policies.judge import GuardMetrics, Judge

# Builds a guard from its spec, given the base URLs and served name of the model that serves it.
GuardFactory = Callable[[str, GuardSpec, list[str], str], Guard]


@dataclass(slots=True)
class Profile:
    name: str
    config: PolicyProfile
    input_pii: list[PIIPolicy] = field(default_factory=list)
    input_guards: list[tuple[GuardPolicy, Judge]] = field(default_factory=list)
    output_pii: list[PIIPolicy] = field(default_factory=list)
    output_guards: list[tuple[GuardPolicy, Judge]] = field(default_factory=list)

    @property
    def uncertainty(self) -> UncertaintyPolicy | None:
        return self.config.uncertainty


class Policies:
    def __init__(self, config: PoliciesConfig, metrics: GuardMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics
        self.judges: dict[str, Judge] = {}
        self.profiles: dict[str, Profile] = {}
        self._default = None if config.default in (None, NONE) else config.default
        self._models = dict(config.models)
        self._tenants = dict(config.tenants)

    @staticmethod
    def configured(config: PoliciesConfig) -> bool:
        return bool(config.profiles) and bool(config.default or config.models or config.tenants)

    def start(self, factory: GuardFactory, target_of: Callable[[str], tuple[list[str], str]]) -> None:
        """Build the guards (their models' URLs are known once engines run) and the profiles."""
        for name, spec in self.config.guards.items():
            urls, served = target_of(spec.model) if spec.model else ([], "")
            guard = factory(name, spec, urls, served)
            self.judges[name] = Judge(name, guard, spec, self.metrics)
        for name, profile in self.config.profiles.items():
            self.profiles[name] = self._compile(name, profile)
        if any(p.uncertainty is not None for p in self.config.profiles.values()):
            from policies.uncertainty.signals import load_calibration

            load_calibration()  # read (and checked) now, not by the first request

    def _compile(self, name: str, config: PolicyProfile) -> Profile:
        profile = Profile(name, config)
        for policies, pii, guards in ((config.input, profile.input_pii, profile.input_guards),
                                      (config.output, profile.output_pii, profile.output_guards)):
            for policy in policies:
                if isinstance(policy, PIIPolicy):
                    pii.append(policy)
                else:
                    guards.append((policy, self.judges[policy.guard]))
        return profile

    def select(self, model: str, scope: dict[str, Any]) -> Profile | None:
        name = self._models.get(model, self._default)
        if self._tenants:
            name = self._tenants.get(tenant_of(scope), name)
        if name is None or name == NONE:
            return None
        return self.profiles.get(name)

    async def close(self) -> None:
        for judge in self.judges.values():
            await judge.guard.close()
