"""Tenants end to end, through the official openai SDK: keys from the admin
API, authentication, model access, RPM/TPM limits, budgets, usage, isolation."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from gateway.store import MemoryStore
from tests import support
from tests.support import BackgroundLoop, RunningGateway

ADMIN_ENV = "SEMGATE_TEST_ADMIN_KEY"
ADMIN_KEY = "admin-key-for-the-tests"
CHEAP = {"engine": "sim", "sim": {"profile": "instant"}}


def config() -> dict[str, Any]:
    return {
        "server": {"health_interval_s": 60},
        "models": [
            # $0.01 per token either way: a few requests reach a dollar.
            {"name": "small", **CHEAP, "input_cost_per_mtok": 10_000, "output_cost_per_mtok": 10_000},
            {"name": "large", **CHEAP},
        ],
        "auth": {"admin_key_env": ADMIN_ENV},
        "tenants": {
            "alpha": {"models": ["small"]},
            "beta": {},
            "limited": {"rpm": 2},
            "frugal": {"budgets": [{"usd": 0.5, "period": "day"}, {"usd": 100, "period": "month"}]},
            "wordy": {"tpm": 40},
            "burst": {"rpm": 120},
        },
    }


@pytest.fixture(scope="module")
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(scope="module")
def tgw(bg: BackgroundLoop, store: MemoryStore) -> Iterator[RunningGateway]:
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        running = bg.run(support.start_gateway(config(), store=store))
    finally:
        del os.environ[ADMIN_ENV]
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture(scope="module")
def admin(tgw: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tgw.url, headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10) as client:
        yield client


def new_key(admin: httpx.Client, tenant: str) -> str:
    reply = admin.post("/admin/v1/keys", json={"tenant": tenant, "name": "test"})
    assert reply.status_code == 201, reply.text
    return reply.json()["key"]


def sdk(tgw: RunningGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=tgw.base_url, api_key=key, max_retries=0, timeout=10)


def ask(client: openai.OpenAI, model: str = "small", **extra: Any) -> Any:
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                          max_tokens=5, **extra)


def test_requests_without_a_valid_key_are_refused(tgw: RunningGateway) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        ask(sdk(tgw, "sk-sg-not-a-real-key"))
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    missing = httpx.post(tgw.url + "/v1/chat/completions", json={"model": "small", "messages": []})
    assert missing.status_code == 401 and "Authorization: Bearer" in missing.json()["error"]["message"]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert httpx.get(tgw.url + "/v1/models").status_code == 401
    assert httpx.get(tgw.url + "/health").status_code == 200  # probes need no key
    assert httpx.get(tgw.url + "/metrics").status_code == 200


def test_a_created_key_works_once_shown_and_stops_when_revoked(tgw: RunningGateway, admin: httpx.Client,
                                                               store: MemoryStore) -> None:
    created = admin.post("/admin/v1/keys", json={"tenant": "beta", "name": "ci"}).json()
    key = created["key"]
    assert key.startswith("sk-sg-") and created["tenant"] == "beta"
    assert ask(sdk(tgw, key)).choices[0].message.content
    listed = admin.get("/admin/v1/keys", params={"tenant": "beta"}).json()["data"]
    mine = [record for record in listed if record["id"] == created["id"]]
    assert mine and "key" not in mine[0] and "hash" not in mine[0] and mine[0]["revoked"] is None
    stored = repr(store._values) + repr(store._hashes)
    assert key not in stored and key[6:] not in stored  # only its hash is kept
    assert admin.delete(f"/admin/v1/keys/{created['id']}").json()["revoked"]
    with pytest.raises(openai.AuthenticationError):
        ask(sdk(tgw, key))
    assert admin.delete("/admin/v1/keys/key_missing").status_code == 404


def test_the_admin_api_needs_the_admin_key(tgw: RunningGateway, admin: httpx.Client) -> None:
    tenant_key = new_key(admin, "beta")
    for headers in ({}, {"authorization": f"Bearer {tenant_key}"}):
        reply = httpx.get(tgw.url + "/admin/v1/keys", headers=headers)
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "invalid_api_key"
    reply = admin.post("/admin/v1/keys", json={"tenant": "nobody"})
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "tenant_not_found"
    assert {t["id"] for t in admin.get("/admin/v1/tenants").json()["data"]} >= {"alpha", "beta", "frugal"}


def test_a_tenant_sees_and_calls_only_its_models(tgw: RunningGateway, admin: httpx.Client) -> None:
    client = sdk(tgw, new_key(admin, "alpha"))
    assert [model.id for model in client.models.list()] == ["small"]
    with pytest.raises(openai.NotFoundError) as caught:
        ask(client, "large")
    assert caught.value.code == "model_not_found" and "no access" in caught.value.message
    assert ask(sdk(tgw, new_key(admin, "beta")), "large").choices  # another tenant may


def test_over_its_rpm_a_tenant_gets_429_with_retry_after(tgw: RunningGateway, admin: httpx.Client) -> None:
    client = sdk(tgw, new_key(admin, "limited"))
    ask(client)
    ask(client)
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client)
    error = caught.value
    assert error.code == "rate_limit_exceeded" and "2 requests per minute" in error.message
    assert 1 <= int(error.response.headers["retry-after"]) <= 31
    assert ask(sdk(tgw, new_key(admin, "beta"))).choices  # other tenants are not affected


def test_tokens_per_minute_count_what_the_upstream_reported(tgw: RunningGateway, admin: httpx.Client) -> None:
    client = sdk(tgw, new_key(admin, "wordy"))
    used = 0
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(20):
            used += ask(client).usage.total_tokens
            wait_for_usage(tgw)
    assert used >= 40 and "40 tokens per minute" in caught.value.message
    wait_for_usage(tgw)


def test_a_spent_budget_is_refused_with_an_error_that_says_so(tgw: RunningGateway, admin: httpx.Client) -> None:
    client = sdk(tgw, new_key(admin, "frugal"))
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(20):
            # Streams count too: the gateway asks for their usage even when the client does not.
            chunks = list(client.chat.completions.create(
                model="small", messages=[{"role": "user", "content": "hi"}], max_tokens=5, stream=True))
            assert all(chunk.usage is None for chunk in chunks)
            wait_for_usage(tgw)
    error = caught.value
    assert error.status_code == 429 and error.code == "budget_exceeded"
    assert error.type == "insufficient_quota" and "daily budget of $0.5" in error.message
    assert int(error.response.headers["retry-after"]) <= 86400


def test_usage_counts_requests_tokens_and_cost_streams_included(tgw: RunningGateway, admin: httpx.Client) -> None:
    key = new_key(admin, "beta")
    client = sdk(tgw, key)
    before = usage(tgw, key)["usage"]["day"]
    whole = ask(client)
    chunks = list(client.chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}],
                                                 max_tokens=5, stream=True, stream_options={"include_usage": True}))
    streamed = chunks[-1].usage
    wait_for_usage(tgw)
    report = usage(tgw, key)
    day = report["usage"]["day"]
    assert report["tenant"] == "beta" and day["requests"] == before["requests"] + 2
    tokens = whole.usage.total_tokens + streamed.total_tokens
    assert day["prompt_tokens"] + day["completion_tokens"] == before["prompt_tokens"] + before["completion_tokens"] + tokens
    assert day["cost_usd"] == pytest.approx(before["cost_usd"] + 0.01 * tokens)
    assert day["models"]["small"]["requests"] >= 2
    assert admin.get("/admin/v1/tenants/beta/usage").json()["usage"]["day"] == day
    assert admin.get("/admin/v1/tenants/nobody/usage").status_code == 404


def test_budgets_and_limits_show_in_the_usage_report(tgw: RunningGateway, admin: httpx.Client) -> None:
    report = admin.get("/admin/v1/tenants/frugal/usage").json()
    assert [b["period"] for b in report["budgets"]] == ["day", "month"]
    assert report["budgets"][1]["usd"] == 100 and report["budgets"][1]["remaining_usd"] <= 100
    assert admin.get("/admin/v1/tenants/limited/usage").json()["limits"]["rpm"]["per_minute"] == 2


def test_tenants_cannot_see_each_others_sessions(tgw: RunningGateway, admin: httpx.Client) -> None:
    alpha, beta = new_key(admin, "alpha"), new_key(admin, "beta")
    created = httpx.post(tgw.url + "/dataflow/v1/sessions", headers={"authorization": f"Bearer {alpha}"}, json={})
    assert created.status_code in (200, 201), created.text
    sid = created.json()["id"]
    assert httpx.get(f"{tgw.url}/dataflow/v1/sessions/{sid}", headers={"authorization": f"Bearer {alpha}"}).status_code == 200
    assert httpx.get(f"{tgw.url}/dataflow/v1/sessions/{sid}", headers={"authorization": f"Bearer {beta}"}).status_code == 404


def test_workflow_calls_over_the_rpm_wait_for_it_instead_of_failing(tgw: RunningGateway, admin: httpx.Client) -> None:
    """124 parallel calls against 120 requests per minute: four wait for the meter to drain."""
    headers = {"authorization": f"Bearer {new_key(admin, 'burst')}"}
    calls = [{"model": "small", "template": f"question {i}: {{{{a{i}}}}}", "outputs": {f"a{i}": {"id": f"a{i}",
              "max_tokens": 2}}} for i in range(124)]
    created = httpx.post(tgw.url + "/dataflow/v1/sessions", headers=headers, timeout=30,
                         json={"graph": {"calls": calls, "lazy": False}})
    assert created.status_code in (200, 201), created.text
    sid = created.json()["id"]
    for i in range(124):
        reply = httpx.get(f"{tgw.url}/dataflow/v1/sessions/{sid}/variables/a{i}", headers=headers,
                          params={"timeout": 30}, timeout=40)
        assert reply.status_code == 200 and reply.json()["status"] == "ready", reply.text
    refused = httpx.get(tgw.url + "/metrics").text
    assert 'semgate_limit_rejections_total{limit="rpm",tenant="burst"}' in refused


def test_without_auth_config_no_key_is_needed(bg: BackgroundLoop) -> None:
    running = bg.run(support.start_gateway({"models": [{"name": "small", **CHEAP}],
                                            "server": {"health_interval_s": 60}}))
    try:
        assert ask(sdk(running, "anything")).choices
        assert httpx.get(running.url + "/admin/v1/keys").status_code == 404
    finally:
        bg.run(support.stop_gateway(running))


def usage(tgw: RunningGateway, key: str) -> dict[str, Any]:
    reply = httpx.get(tgw.url + "/v1/usage", headers={"authorization": f"Bearer {key}"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_for_usage(tgw: RunningGateway) -> None:
    """Usage is written in batches after the replies: write it now."""
    access = tgw.gateway.access
    assert access is not None
    asyncio.run_coroutine_threadsafe(access.flush(), tgw.task.get_loop()).result(10)  # type: ignore[union-attr]


def test_usage_still_buffered_at_shutdown_is_written(bg: BackgroundLoop) -> None:
    store = MemoryStore()
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        running = bg.run(support.start_gateway(config(), store=store))
    finally:
        del os.environ[ADMIN_ENV]
    with httpx.Client(base_url=running.url, headers={"authorization": f"Bearer {ADMIN_KEY}"}) as admin:
        key = new_key(admin, "beta")
    answer = ask(sdk(running, key))
    bg.run(support.stop_gateway(running))  # at once: the 50 ms flush has not run yet
    access = running.gateway.access
    assert access is not None
    limits = access.tenants["beta"]
    fields = bg.run(store.hash_get(limits.usage_key("day", time.time())))
    assert int(fields["requests"]) == 1 and int(fields["completion_tokens"]) == answer.usage.completion_tokens


def test_a_tenants_policy_profile_applies_to_its_requests_only(bg: BackgroundLoop) -> None:
    cfg = config()
    cfg["policies"] = {"profiles": {"private": {"input": [{"kind": "pii", "action": "block"}],
                                                      "block_response": "error"}}}
    cfg["tenants"]["alpha"]["policy"] = "private"
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        running = bg.run(support.start_gateway(cfg))
    finally:
        del os.environ[ADMIN_ENV]
    try:
        with httpx.Client(base_url=running.url, headers={"authorization": f"Bearer {ADMIN_KEY}"}) as admin:
            strict, relaxed = sdk(running, new_key(admin, "alpha")), sdk(running, new_key(admin, "beta"))
        message = [{"role": "user", "content": "mail me at jane.doe@example.com"}]
        with pytest.raises(openai.BadRequestError) as caught:
            strict.chat.completions.create(model="small", messages=message, max_tokens=3)
        assert caught.value.code == "content_policy_violation"
        assert relaxed.chat.completions.create(model="small", messages=message, max_tokens=3).choices
    finally:
        bg.run(support.stop_gateway(running))



@pytest.mark.parametrize(("change", "message"), [
    ({"tenants": {}}, "auth needs at least one tenant"),
    ({"tenants": {"t": {"models": ["nope"]}}}, "tenants.t.models names unknown model 'nope'"),
    ({"tenants": {"t": {"policy": "nope"}}}, "unknown profile 'nope'"),
    ({"tenants": {"t": {"key_hashes": ["md5:abc"]}}}, "is not 'sha256:'"),
    ({"tenants": {"t": {"budgets": [{"usd": 1, "period": "day"}, {"usd": 2, "period": "day"}]}}}, "one budget per period"),
    ({"tenants": {"Bad Name": {}}}, "should match pattern"),
    ({"tenants": {"t": {"rpm": 0}}}, "greater than 0"),
])
def test_tenant_config_mistakes_fail_at_start(change: dict[str, Any], message: str) -> None:
    from gateway.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_config({"models": [{"name": "small", **CHEAP}], "auth": {}, **change})


def test_a_key_with_an_expiry_stops_working_then(tgw: RunningGateway, admin: httpx.Client) -> None:
    created = admin.post("/admin/v1/keys", json={"tenant": "beta", "expires_in_s": 0.5}).json()
    assert created["expires"] > created["created"] and isinstance(created["expires"], int)
    assert ask(sdk(tgw, created["key"])).choices
    time.sleep(created["expires"] - time.time() + 0.05)  # the positive cache never outlives the expiry
    with pytest.raises(openai.AuthenticationError):
        ask(sdk(tgw, created["key"]))
    refused = admin.post("/admin/v1/keys", json={"tenant": "beta", "expires_in_s": -1})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "expires_in_s"
