"""Routes: a public name whose strategy picks the model; retries and fallbacks."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, RunningGateway, ScriptedUpstream

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
REFUSED = "http://127.0.0.1:1/v1"


def sim(name: str, profile: str, tier: int) -> dict:
    return {"name": name, "engine": "sim", "tier": tier, "sim": {"profile": profile, "speedup": 50},
            "input_cost_per_mtok": tier * 1.0, "output_cost_per_mtok": tier * 2.0}


@pytest.fixture(scope="module")
def peers(bg: BackgroundLoop) -> Iterator[tuple[ScriptedUpstream, ScriptedUpstream]]:
    failing = bg.run(ScriptedUpstream(behaviours={"echo": support.unavailable_503}).start())
    working = bg.run(ScriptedUpstream(behaviours={"echo": support.echo}).start())
    yield failing, working
    bg.run(failing.stop())
    bg.run(working.stop())


@pytest.fixture(scope="module")
def routed(bg: BackgroundLoop, peers: tuple[ScriptedUpstream, ScriptedUpstream]) -> Iterator[RunningGateway]:
    failing, working = peers
    config = {
        "server": {"health_interval_s": 60},
        "models": [
            sim("weak", "llama3-8b-h100", 1),
            sim("strong", "llama3-70b-h100x4", 2),
            {**sim("tiny", "llama3-8b-h100", 0), "capabilities": [], "context_window": 64},
            {"name": "flaky", "upstreams": [REFUSED], "fallbacks": ["weak"]},
            {"name": "half-broken", "upstreams": [failing.base_url, working.base_url], "upstream_model": "echo",
             "balancer": {"policy": "round_robin", "prefix_affinity": False, "scrape_metrics": False}},
            {"name": "all-503", "upstreams": [failing.base_url], "upstream_model": "echo",
             "retry": {"attempts": 2, "backoff_s": 0.001}},
        ],
        "routes": [
            {"name": "by-rules", "strategy": "rules", "default": "weak", "rules": [
                {"model": "strong", "tools": True},
                {"model": "strong", "header": {"x-tier": "premium"}},
                {"model": "strong", "min_prompt_tokens": 200},
            ]},
            {"name": "auto", "strategy": "learned", "weak": "weak", "strong": "strong", "threshold": 0.5},
            {"name": "tiny-first", "strategy": "rules", "default": "tiny",
             "rules": [{"model": "strong", "header": {"x-never": "sent"}}]},
            {"name": "trusting", "strategy": "cascade", "weak": "weak", "strong": "strong", "min_mean_logprob": -100},
            {"name": "doubting", "strategy": "cascade", "weak": "weak", "strong": "strong", "min_mean_logprob": 0},
            {"name": "calibrated-trust", "strategy": "cascade", "weak": "weak", "strong": "strong",
             "judge": "confidence", "min_confidence": 0.0},
            {"name": "calibrated-doubt", "strategy": "cascade", "weak": "weak", "strong": "strong",
             "judge": "confidence", "min_confidence": 1.0},
        ],
    }
    running = bg.run(support.start_gateway(config))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture
def rclient(routed: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=routed.base_url, api_key="unused", max_retries=0)


def chat(client: openai.OpenAI, **kwargs) -> tuple[httpx.Headers, object]:
    raw = client.chat.completions.with_raw_response.create(**{"messages": QUESTION, "max_tokens": 8, **kwargs})
    return raw.headers, raw.parse()


@pytest.mark.parametrize("kwargs, model, reason", [
    ({}, "weak", "rules: default"),
    ({"tools": TOOLS}, "strong", "rules: rule 0 (tools)"),
    ({"extra_headers": {"x-tier": "premium"}}, "strong", "rules: rule 1 (header x-tier)"),
    ({"messages": [{"role": "user", "content": "word " * 200}]}, "strong", "rules: rule 2"),
])
def test_rules_pick_the_model_and_say_why(rclient: openai.OpenAI, kwargs: dict, model: str, reason: str) -> None:
    headers, reply = chat(rclient, model="by-rules", **kwargs)
    assert headers["x-semgate-model"] == model
    assert headers["x-semgate-route"].startswith(reason)
    assert reply.model == model


def test_direct_model_requests_say_so(rclient: openai.OpenAI) -> None:
    headers, _ = chat(rclient, model="weak")
    assert headers["x-semgate-model"] == "weak" and headers["x-semgate-route"] == "direct"


def test_routes_are_listed_as_models(rclient: openai.OpenAI) -> None:
    assert {"by-rules", "trusting", "doubting", "weak", "strong"} <= {m.id for m in rclient.models.list()}


def test_cascade_keeps_a_trusted_weak_answer(rclient: openai.OpenAI) -> None:
    headers, reply = chat(rclient, model="trusting")
    assert headers["x-semgate-model"] == "weak"
    assert "weak answer kept" in headers["x-semgate-route"]
    assert reply.choices[0].message.content and reply.choices[0].logprobs is None  # not asked for


def test_cascade_replays_a_trusted_answer_as_a_stream(rclient: openai.OpenAI) -> None:
    whole = rclient.chat.completions.create(model="trusting", messages=QUESTION, max_tokens=8)
    chunks = list(rclient.chat.completions.create(
        model="trusting", messages=QUESTION, max_tokens=8, stream=True, stream_options={"include_usage": True}
    ))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole.choices[0].message.content
    assert chunks[-1].usage is not None


def test_cascade_escalates_an_unsure_answer(rclient: openai.OpenAI) -> None:
    headers, reply = chat(rclient, model="doubting")
    assert headers["x-semgate-model"] == "strong"
    assert "escalated" in headers["x-semgate-route"]
    stream = rclient.chat.completions.create(model="doubting", messages=QUESTION, max_tokens=8, stream=True)
    assert all(c.model == "strong" for c in stream)


def test_cascade_can_judge_by_the_calibrated_confidence(rclient: openai.OpenAI) -> None:
    kept, _ = chat(rclient, model="calibrated-trust")
    assert kept["x-semgate-model"] == "weak" and "confidence 0." in kept["x-semgate-route"]
    escalated, _ = chat(rclient, model="calibrated-doubt")
    assert escalated["x-semgate-model"] == "strong" and "bar 1" in escalated["x-semgate-route"]


def test_fallback_model_answers_when_every_replica_is_down(rclient: openai.OpenAI) -> None:
    headers, reply = chat(rclient, model="flaky")
    assert headers["x-semgate-model"] == "weak" and reply.choices[0].message.content


def test_a_503_is_retried_on_another_replica(rclient: openai.OpenAI) -> None:
    for _ in range(6):  # round robin: every other first attempt lands on the failing replica
        headers, reply = chat(rclient, model="half-broken")
        assert headers["x-semgate-model"] == "half-broken"


def test_when_every_attempt_fails_the_last_status_is_relayed(rclient: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        chat(rclient, model="all-503")
    assert caught.value.status_code == 503 and "overloaded" in caught.value.message


def test_decisions_and_cost_are_in_metrics(routed: RunningGateway, rclient: openai.OpenAI) -> None:
    chat(rclient, model="by-rules", tools=TOOLS)
    text = httpx.get(f"{routed.url}/metrics").text
    assert 'semgate_route_decisions_total{kind="rule0",model="strong",route="by-rules"}' in text
    assert 'semgate_cost_usd_total{model="strong"}' in text


def test_client_leaving_a_cascade_cancels_the_weak_call(routed: RunningGateway) -> None:
    from tests.test_disconnect import eventually

    engine = routed.gateway.engines.get("weak").server.engine
    before = engine.stats().aborted
    body = {"model": "trusting", "messages": QUESTION, "max_tokens": 4000, "ignore_eos": True}
    with httpx.Client(timeout=0.2) as http, pytest.raises(httpx.ReadTimeout):
        http.post(f"{routed.base_url}/chat/completions", json=body)
    assert eventually(lambda: engine.stats().aborted > before, timeout=3)


@pytest.mark.parametrize("kwargs, why", [
    ({"tools": TOOLS}, "tiny: no tool calling, so"),
    ({"response_format": {"type": "json_object"}}, "tiny: no JSON mode, so"),
    ({"messages": [{"role": "user", "content": "word " * 100}]}, "prompt tokens exceed its 64-token window"),
])
def test_a_model_that_cannot_serve_the_request_is_passed_over(rclient: openai.OpenAI, kwargs: dict, why: str) -> None:
    headers, _ = chat(rclient, model="tiny-first", **kwargs)
    assert why in headers["x-semgate-route"]
    assert headers["x-semgate-model"] == "strong"


@pytest.mark.parametrize("threshold, model", [("0", "strong"), ("1", "weak"), ("0.0", "strong"), ("1.0", "weak")])
def test_learned_route_threshold_override(rclient: openai.OpenAI, threshold: str, model: str) -> None:
    headers, reply = chat(rclient, model="auto", extra_headers={"x-semgate-route-threshold": threshold})
    assert headers["x-semgate-model"] == model and reply.model == model
    assert headers["x-semgate-route"].startswith("learned: score 0.")
    assert headers["x-semgate-route"].endswith(f"threshold {float(threshold):.3f}")


def test_learned_route_scores_the_prompt(rclient: openai.OpenAI) -> None:
    from router.learned import LearnedScorer

    score = LearnedScorer.load().score(QUESTION[0]["content"])
    headers, _ = chat(rclient, model="auto")
    assert headers["x-semgate-route"] == f"learned: score {score:.3f} vs threshold 0.500"
    assert headers["x-semgate-model"] == ("strong" if score > 0.5 else "weak")


@pytest.mark.parametrize("threshold", ["abc", "1.5", "-0.1", "nan"])
def test_learned_route_rejects_a_bad_threshold(rclient: openai.OpenAI, threshold: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        chat(rclient, model="auto", extra_headers={"x-semgate-route-threshold": threshold})
    assert "x-semgate-route-threshold" in caught.value.message


def test_impatient_clients_do_not_trip_the_circuit_breaker(routed: RunningGateway) -> None:
    from tests.test_disconnect import eventually

    replica = routed.gateway.routes["strong"].replicas.replicas[0]
    body = {"model": "strong", "messages": QUESTION, "max_tokens": 4000, "ignore_eos": True, "stream": True}
    for _ in range(8):  # more than failure_threshold (5)
        with httpx.Client(timeout=5) as http, http.stream("POST", f"{routed.base_url}/chat/completions", json=body) as r:
            next(r.iter_raw())
    assert eventually(lambda: replica.in_flight == 0)
    assert replica.available
