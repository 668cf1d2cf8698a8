"""A tenant's rate limits and budgets as store meters, and its usage counters.

Before a request: one atomic `take` over every meter of the tenant (a
request from the RPM meter; the TPM meter and each budget must have room
left). After it, when the upstream has reported usage: the tokens and the
cost are charged (they may overshoot a limit by one request's worth; the next
request waits until it drained) and added to the usage counters. Keys carry
the tenant in a {hash tag}, so each tenant's meters live on one Redis shard.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.store import Meter
from gateway.tenants.config import Period, TenantConfig

USAGE_PERIODS: tuple[Period, ...] = ("day", "month")
USAGE_TTL_S = {"day": 40 * 86400.0, "month": 400 * 86400.0}
MICRO = 1_000_000
ADJECTIVE = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly"}


def period_bounds(period: Period, now: float) -> tuple[str, float]:
    """The period containing `now` (UTC): its label and when it ends (epoch seconds)."""
    moment = datetime.fromtimestamp(now, UTC)
    if period == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
        return start.strftime("%Y-%m-%dT%H"), (start + timedelta(hours=1)).timestamp()
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day.strftime("%Y-%m-%d"), (day + timedelta(days=1)).timestamp()
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday.strftime("%G-W%V"), (monday + timedelta(days=7)).timestamp()
    first = day.replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    return first.strftime("%Y-%m"), (first + timedelta(days=days)).timestamp()


@dataclass(frozen=True, slots=True)
class Refusal:
    limit: str  # "rpm", "tpm" or "budget"
    message: str
    retry_after_s: float


class TenantLimits:
    """The meters of one tenant; stateless, so any replica computes the same keys."""

    def __init__(self, name: str, config: TenantConfig) -> None:
        self.name = name
        self.config = config
        tag = f"{{{name}}}"  # Redis Cluster hash tag
        self._rpm = Meter(f"semgate:limit:{tag}:rpm", config.rpm, config.rpm / 60, 61.0) if config.rpm else None
        self._tpm = Meter(f"semgate:limit:{tag}:tpm", config.tpm, config.tpm / 60, 61.0) if config.tpm else None
        self._prefix = f"semgate:budget:{tag}"
        self._usage_prefix = f"semgate:usage:{tag}"
        # Period labels cost a datetime conversion; they change at most hourly.
        self._periods: dict[Period, tuple[str, float]] = {}
        self._budgets: tuple[float, list[tuple[Meter, float, str]]] | None = None  # (valid until, meters)
        self._admission: tuple[list[tuple[Meter, float, str]], tuple[Any, Any, Any]] | None = None

    def _period(self, period: Period, now: float) -> tuple[str, float]:
        known = self._periods.get(period)
        if known is None or now >= known[1] or now < known[1] - 32 * 86400:
            known = self._periods[period] = period_bounds(period, now)
        return known

    @property
    def active(self) -> bool:
        return bool(self._rpm or self._tpm or self.config.budgets)

    def budget_meters(self, now: float) -> list[tuple[Meter, float, str]]:
        """(meter, period end, period label) for each budget, keyed by the current period.

        Built once per period, not per request: a meter's TTL is counted from when
        it was built, so it only ever outlives its period by more, never less.
        """
        cached = self._budgets
        if cached is None or now >= cached[0]:
            meters = []
            for budget in self.config.budgets:
                label, ends = self._period(budget.period, now)
                key = f"{self._prefix}:{budget.period}:{label}"
                meters.append((Meter(key, budget.usd, 0.0, ends - now + 3600), ends, label))
            cached = self._budgets = (min((ends for _, ends, _ in meters), default=float("inf")), meters)
        return cached[1]

    def admission(self, now: float) -> tuple[list[tuple[Meter, float]], list[str], list[float]]:
        """What `take` checks: the meters with amounts, the limit each is, and when budgets reset."""
        budgets = self.budget_meters(now)
        if self._admission is not None and self._admission[0] is budgets:
            return self._admission[1]
        takes: list[tuple[Meter, float]] = []
        kinds: list[str] = []
        resets: list[float] = []
        if self._rpm is not None:
            takes.append((self._rpm, 1.0))
            kinds.append("rpm")
            resets.append(0.0)
        if self._tpm is not None:
            takes.append((self._tpm, 0.0))
            kinds.append("tpm")
            resets.append(0.0)
        for meter, ends, _ in budgets:
            takes.append((meter, 0.0))
            kinds.append("budget")
            resets.append(ends)
        self._admission = (budgets, (takes, kinds, resets))
        return takes, kinds, resets

    def refusal(self, index: int, wait_s: float, now: float) -> Refusal:
        takes, kinds, resets = self.admission(now)
        kind = kinds[index]
        if kind == "budget":
            budget = self.config.budgets[index - (len(kinds) - len(self.config.budgets))]
            until = datetime.fromtimestamp(resets[index], UTC).strftime("%Y-%m-%d %H:%M UTC")
            return Refusal("budget", f"tenant {self.name!r} has used its {ADJECTIVE[budget.period]} budget of "
                           f"${budget.usd:g}; it resets at {until}", resets[index] - now)
        limit = self.config.rpm if kind == "rpm" else self.config.tpm
        unit = "requests" if kind == "rpm" else "tokens"
        return Refusal(kind, f"rate limit reached for tenant {self.name!r}: {limit} {unit} per minute; "
                       f"retry in {wait_s:.1f}s", wait_s)

    def charges(self, tokens: int, cost_usd: float, now: float) -> list[tuple[Meter, float]]:
        charges: list[tuple[Meter, float]] = []
        if self._tpm is not None and tokens:
            charges.append((self._tpm, float(tokens)))
        if cost_usd:
            charges += [(meter, cost_usd) for meter, _, _ in self.budget_meters(now)]
        return charges

    def usage_key(self, period: Period, now: float) -> str:
        return f"{self._usage_prefix}:{period}:{self._period(period, now)[0]}"

    def rate_meters(self) -> list[tuple[str, Meter]]:
        return [(kind, meter) for kind, meter in (("rpm", self._rpm), ("tpm", self._tpm)) if meter is not None]


def usage_counts(model: str, requests: int, prompt: int, completion: int, cost_usd: float) -> dict[str, int]:
    micro = round(cost_usd * MICRO)
    return {"requests": requests, "prompt_tokens": prompt, "completion_tokens": completion, "cost_microusd": micro,
            f"model:{model}:requests": requests, f"model:{model}:prompt_tokens": prompt,
            f"model:{model}:completion_tokens": completion, f"model:{model}:cost_microusd": micro}


def usage_report(fields: dict[str, bytes]) -> dict[str, Any]:
    """Counter fields as the usage endpoint shows them: totals and per model."""
    totals: dict[str, Any] = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
    models: dict[str, dict[str, Any]] = {}
    for name, raw in fields.items():
        value = int(raw)
        target = totals
        if name.startswith("model:"):
            model, _, name = name[6:].rpartition(":")
            target = models.setdefault(model, {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                               "cost_usd": 0.0})
        if name == "cost_microusd":
            target["cost_usd"] = value / MICRO
        else:
            target[name] = value
    return {**totals, "models": models}
