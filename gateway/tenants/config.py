"""Configuration of tenants: who may call what, how often, and for how much.

```yaml
auth:
  admin_key_env: SEMGATE_ADMIN_KEY   # the admin API's key, from the environment
tenants:
  team-a:
    models: [auto, small]            # public model and route names (default: all)
    policy: strict                   # a policies profile for its requests
    rpm: 600                         # requests per minute
    tpm: 200000                      # tokens (prompt + completion) per minute
    budgets: [{usd: 25, period: day}, {usd: 500, period: month}]
```

Keys are created with the admin API (`semgate keys create`) and kept hashed
in the store; `key_hashes` provisions keys from the config instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from gateway.sections import PositiveFloat, Section

TenantName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
KEY_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")

Period = Literal["hour", "day", "week", "month"]


class Budget(Section):
    """At most `usd` of spend per calendar period (UTC), from the catalog's prices."""

    usd: float = Field(gt=0)
    period: Period = "month"


class TenantConfig(Section):
    models: list[str] | None = None  # None: every model and route
    policy: str | None = None  # a policies profile ("none": no policies); None: the usual selection
    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)
    budgets: list[Budget] = []
    # Keys provisioned outside the admin API: "sha256:" + the key's SHA-256 in hex.
    key_hashes: list[str] = []

    @field_validator("key_hashes")
    @classmethod
    def _hashes(cls, hashes: list[str]) -> list[str]:
        for value in hashes:
            if not KEY_HASH.match(value):
                raise ValueError(f"{value[:16]!r}… is not 'sha256:' followed by 64 lowercase hex digits")
        return hashes

    @field_validator("budgets")
    @classmethod
    def _one_per_period(cls, budgets: list[Budget]) -> list[Budget]:
        periods = [budget.period for budget in budgets]
        if len(set(periods)) != len(periods):
            raise ValueError("one budget per period")
        return budgets


class AuthConfig(Section):
    # The environment variable holding the admin API's key; no variable, no admin API.
    admin_key_env: str | None = None
    # How long a replica trusts what it read about a key: a revoked key stops
    # working on other replicas within this time (at once on the one that revoked it).
    key_cache_s: PositiveFloat = 5.0
