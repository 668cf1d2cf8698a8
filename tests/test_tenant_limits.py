"""TenantLimits: which meters a tenant's request takes from, per calendar period."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.tenants.config import TenantConfig
from gateway.tenants.limits import TenantLimits, period_bounds


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_period_labels_and_ends_are_utc_calendar_periods() -> None:
    now = at("2026-11-28T17:45:10")
    assert period_bounds("hour", now) == ("2026-11-28T17", at("2026-11-28T18:00:00"))
    assert period_bounds("day", now) == ("2026-11-28", at("2026-11-29T00:00:00"))
    assert period_bounds("week", now) == ("2026-W48", at("2026-11-30T00:00:00"))  # ISO weeks start on Monday
    assert period_bounds("month", now) == ("2026-11", at("2026-12-01T00:00:00"))
    assert period_bounds("month", at("2026-12-31T23:59:59")) == ("2026-12", at("2027-01-01T00:00:00"))


def test_budget_meters_roll_over_at_the_period_boundary() -> None:
    limits = TenantLimits("t", TenantConfig(rpm=60, budgets=[{"usd": 5, "period": "day"}]))
    before, after = at("2026-11-28T23:59:59"), at("2026-11-29T00:00:01")
    takes_before, kinds, resets = limits.admission(before)
    assert kinds == ["rpm", "budget"] and resets[1] == at("2026-11-29T00:00:00")
    assert takes_before[1][0].key == "semgate:budget:{t}:day:2026-11-28"
    assert limits.admission(before + 0.5)[0] is takes_before  # built once per period, not per request
    takes_after = limits.admission(after)[0]
    assert takes_after[1][0].key == "semgate:budget:{t}:day:2026-11-29"
    assert takes_after[0][0] is takes_before[0][0]  # the RPM meter is the same one
    # No TPM limit: the tokens charge nothing; the cost goes to the new day's budget.
    assert [m.key for m, _ in limits.charges(10, 0.5, after)] == ["semgate:budget:{t}:day:2026-11-29"]


def test_refusals_name_the_limit_and_when_it_frees_up() -> None:
    limits = TenantLimits("t", TenantConfig(rpm=2, tpm=100, budgets=[{"usd": 1, "period": "month"}]))
    now = at("2026-11-28T12:00:00")
    rpm = limits.refusal(0, 12.5, now)
    assert rpm.limit == "rpm" and "2 requests per minute" in rpm.message and rpm.retry_after_s == 12.5
    assert limits.refusal(1, 3.0, now).limit == "tpm"
    budget = limits.refusal(2, float("inf"), now)
    assert budget.limit == "budget" and "monthly budget of $1" in budget.message
    assert budget.retry_after_s == at("2026-12-01T00:00:00") - now
