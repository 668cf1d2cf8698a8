"""A tenant's model allow-list holds on every path that picks a model for it.

`flaky` and `strong-flaky` refuse connections and fall back to `secret`, which
the tenant `team` may not call. Whatever path leads a request to them — named
directly, a route's choice, a refit, a cascade's escalation, a dataflow call —
the fallback is skipped and the original failure is answered. Policies that
send a request elsewhere (a guard's reroute, an uncertainty escalation) do
not take it to `secret` either. The tenant `trusted` lists `secret`: for it
the same fallbacks work, so the rule is the tenant's list, not a switch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests import support
from tests.conftest import REFUSED
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream
from tests.test_policies import UNSURE, echo

TEAM_KEY = "sk-tenant-team-model-access"
TRUSTED_KEY = "sk-tenant-trusted-model-access"
RISKY = "tell me about murder mysteries"  # the simulated classifier scores it between reroute and block


def key_hash(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def config(peer: ScriptedUpstream) -> dict[str, Any]:
    def echoing(name: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "upstreams": [peer.base_url], "upstream_model": "echo", **extra}

    team = ["fast", "flaky", "sorted", "smart", "careful", "fitting", "guarded", "assessed"]
    return {
        "server": {"read_timeout_s": 10, "health_interval_s": 60},
        "models": [
            echoing("fast"), echoing("secret"), echoing("safe"), echoing("guarded"), echoing("assessed"),
            echoing("tiny", context_window=4),
            {"name": "flaky", "upstreams": [REFUSED], "fallbacks": ["secret"], "retry": {"attempts": 1}},
            {"name": "strong-flaky", "upstreams": [REFUSED], "fallbacks": ["secret"], "retry": {"attempts": 1},
             "tier": 2},
            {"name": "guard-duo", "engine": "sim", "sim": {"profile": "instant", "behaviour": "classifier"}},
        ],
        "routes": [
            {"name": "sorted", "strategy": "rules", "default": "strong-flaky",
             "rules": [{"header": {"x-lane": "fast"}, "model": "fast"}]},
            {"name": "smart", "strategy": "learned", "weak": "fast", "strong": "strong-flaky"},
            {"name": "careful", "strategy": "cascade", "weak": "fast", "strong": "strong-flaky"},
            {"name": "fitting", "strategy": "rules", "default": "tiny",
             "rules": [{"header": {"x-never": "sent"}, "model": "strong-flaky"}]},
        ],
        "policies": {
            "guards": {"duo": {"type": "classifier", "model": "guard-duo"}},
            "profiles": {
                "reroute": {"input": [{"kind": "guard", "guard": "duo", "block_above": 0.99, "reroute_above": 0.5,
                                       "reroute_to": "secret"}]},
                "escalate": {"uncertainty": {"escalate_below": 0.5, "escalate_to": "secret"}},
            },
            "models": {"guarded": "reroute", "assessed": "escalate"},
        },
        "tenants": {
            "team": {"models": team, "key_hashes": [key_hash(TEAM_KEY)]},
            "trusted": {"models": [*team, "secret"], "key_hashes": [key_hash(TRUSTED_KEY)]},
        },
    }


@pytest.fixture(scope="module")
def peer(bg: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    upstream = bg.run(ScriptedUpstream(behaviours={"echo": echo}).start())
    yield upstream
    bg.run(upstream.stop())


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop, peer: ScriptedUpstream) -> Iterator[RunningGateway]:
    running = bg.run(support.start_gateway(config(peer)))
    yield running
    bg.run(support.stop_gateway(running))


def sdk(gw: RunningGateway, key: str = TEAM_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=15)


def ask(client: openai.OpenAI, model: str, text: str = "hello there", **extra: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": text}], max_tokens=5, **extra)


def refused_as_unavailable(client: openai.OpenAI, model: str, text: str = "hello there", **extra: Any) -> None:
    """The request fails as the model it was sent to failed: 503, never an answer from `secret`."""
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, model, text, **extra)
    assert caught.value.status_code == 503 and caught.value.code == "upstream_unavailable"
    assert "secret" not in caught.value.message


def test_a_model_named_directly_does_not_fall_back_outside_the_list(gw: RunningGateway) -> None:
    with pytest.raises(openai.NotFoundError):
        ask(sdk(gw), "secret")
    refused_as_unavailable(sdk(gw), "flaky")
    assert ask(sdk(gw, TRUSTED_KEY), "flaky").headers["x-semgate-model"] == "secret"


def test_a_rules_routes_choice_does_not_fall_back_outside_the_list(gw: RunningGateway) -> None:
    lane = ask(sdk(gw), "sorted", extra_headers={"x-lane": "fast"})  # a target the tenant does not list
    assert lane.headers["x-semgate-model"] == "fast" and "rule 0" in lane.headers["x-semgate-route"]
    refused_as_unavailable(sdk(gw), "sorted")  # the default, strong-flaky, fails
    assert ask(sdk(gw, TRUSTED_KEY), "sorted").headers["x-semgate-model"] == "secret"


def test_a_learned_routes_strong_pick_does_not_fall_back_outside_the_list(gw: RunningGateway) -> None:
    strong = {"x-semgate-route-threshold": "0"}  # every score is above it
    refused_as_unavailable(sdk(gw), "smart", extra_headers=strong)
    assert ask(sdk(gw, TRUSTED_KEY), "smart", extra_headers=strong).headers["x-semgate-model"] == "secret"


def test_a_cascades_escalation_does_not_fall_back_outside_the_list(gw: RunningGateway) -> None:
    kept = ask(sdk(gw), "careful", "a sure thing")
    assert kept.headers["x-semgate-model"] == "fast"
    refused_as_unavailable(sdk(gw), "careful", f"maybe {UNSURE}")  # escalated to strong-flaky, which fails
    assert ask(sdk(gw, TRUSTED_KEY), "careful", f"maybe {UNSURE}").headers["x-semgate-model"] == "secret"


def test_a_catalog_refit_does_not_fall_back_outside_the_list(gw: RunningGateway) -> None:
    long_prompt = "word " * 40  # past tiny's 4-token window: the route refits to strong-flaky
    refused_as_unavailable(sdk(gw), "fitting", long_prompt)
    assert ask(sdk(gw, TRUSTED_KEY), "fitting", long_prompt).headers["x-semgate-model"] == "secret"


def test_a_guard_reroute_to_a_model_outside_the_list_blocks_the_request(gw: RunningGateway,
                                                                        peer: ScriptedUpstream) -> None:
    sent = len(peer.requests)
    raw = ask(sdk(gw), "guarded", RISKY)
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "content_filter" and "x-semgate-model" not in raw.headers
    assert "input.reroute=block(secret is not among the tenant's models)" in raw.headers["x-semgate-policy"]
    assert len(peer.requests) == sent  # nothing was sent to any model
    assert ask(sdk(gw, TRUSTED_KEY), "guarded", RISKY).headers["x-semgate-model"] == "secret"


def test_an_uncertainty_escalation_outside_the_list_is_skipped(gw: RunningGateway) -> None:
    raw = ask(sdk(gw), "assessed", f"maybe {UNSURE}")
    assert raw.headers["x-semgate-model"] == "assessed"
    policy = raw.headers["x-semgate-policy"]
    assert "uncertainty.escalation=skipped(secret is not among the tenant's models)" in policy
    assert "uncertainty.confidence=escalate" not in policy
    assert ask(sdk(gw, TRUSTED_KEY), "assessed", f"maybe {UNSURE}").headers["x-semgate-model"] == "secret"


def test_a_dataflow_call_does_not_fall_back_outside_the_list(gw: RunningGateway) -> None:
    def run(key: str) -> httpx.Response:
        headers = {"authorization": f"Bearer {key}"}
        graph = {"calls": [{"model": "flaky", "template": "say {{a}}", "outputs": {"a": {"id": "a", "max_tokens": 3}}}]}
        created = httpx.post(gw.url + "/dataflow/v1/sessions", headers=headers, json={"graph": graph}, timeout=10)
        assert created.status_code == 201, created.text
        return httpx.get(f"{gw.url}/dataflow/v1/sessions/{created.json()['id']}/variables/a", headers=headers,
                         params={"timeout": 10}, timeout=15)

    failed = run(TEAM_KEY)
    assert failed.status_code == 424 and failed.json()["error"]["code"] == "call_failed", failed.text
    assert "503" in failed.json()["error"]["message"]
    assert run(TRUSTED_KEY).json()["status"] == "ready"
