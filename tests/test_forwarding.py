"""What reaches the upstream, and what comes back, byte for byte where it matters."""

from __future__ import annotations

import json

import httpx
import openai

from tests.support import RunningGateway, ScriptedUpstream

MESSAGES = [{"role": "user", "content": "hi"}]


def seen_by_upstream(reply) -> dict:
    return json.loads(reply.choices[0].message.content)


def test_unknown_fields_reach_the_upstream_unchanged(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="echo", messages=MESSAGES, max_tokens=5, seed=3, user="u1", stop=["\n"],
        response_format={"type": "json_object"},
        extra_body={"top_k": 5, "ignore_eos": True, "guided_choice": ["a", "b"], "nested": {"x": [1, 2]}},
    )
    body = seen_by_upstream(reply)["body"]
    assert body["top_k"] == 5 and body["ignore_eos"] is True
    assert body["guided_choice"] == ["a", "b"] and body["nested"] == {"x": [1, 2]}
    assert body["seed"] == 3 and body["user"] == "u1" and body["stop"] == ["\n"]
    assert body["response_format"] == {"type": "json_object"}


def test_upstream_model_name_is_rewritten_both_ways(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="renamed", messages=MESSAGES)
    assert seen_by_upstream(reply)["body"]["model"] == "echo"
    assert reply.model == "renamed"


def test_body_bytes_are_forwarded_verbatim_when_nothing_changes(gw: RunningGateway, peer: ScriptedUpstream) -> None:
    raw = b'{"model": "echo",  "messages": [{"role": "user", "content": "hi"}], "zzz": 1.50}'
    reply = httpx.post(f"{gw.base_url}/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert reply.status_code == 200
    assert peer.requests[-1].body == raw


def test_client_credentials_never_reach_the_upstream(gw: RunningGateway, peer: ScriptedUpstream) -> None:
    client = openai.OpenAI(base_url=gw.base_url, api_key="sk-client-secret", max_retries=0)
    headers = seen_by_upstream(client.chat.completions.create(model="echo", messages=MESSAGES))["headers"]
    assert "sk-client-secret" not in json.dumps(headers)


def test_request_id_is_echoed_and_forwarded(gw: RunningGateway, peer: ScriptedUpstream) -> None:
    body = {"model": "echo", "messages": MESSAGES}
    reply = httpx.post(f"{gw.base_url}/chat/completions", json=body, headers={"x-request-id": "req-abc-123"})
    assert reply.headers["x-request-id"] == "req-abc-123"
    assert peer.requests[-1].headers["x-request-id"] == "req-abc-123"


def test_request_id_is_generated_when_missing_or_unsafe(gw: RunningGateway) -> None:
    body = {"model": "echo", "messages": MESSAGES}
    plain = httpx.post(f"{gw.base_url}/chat/completions", json=body)
    evil = httpx.post(f"{gw.base_url}/chat/completions", json=body, headers={"x-request-id": "a b\tc"})
    assert len(plain.headers["x-request-id"]) >= 16
    assert evil.headers["x-request-id"] != "a b\tc" and evil.headers["x-request-id"].isalnum()


def test_failover_skips_an_unreachable_replica(client: openai.OpenAI) -> None:
    for _ in range(4):
        reply = client.chat.completions.create(model="failover", messages=MESSAGES)
        assert seen_by_upstream(reply)["body"]["model"] == "echo"


def test_keep_alive_connections_are_reused(client: openai.OpenAI, peer: ScriptedUpstream) -> None:
    before = len(peer.requests)
    for _ in range(5):
        client.chat.completions.create(model="echo", messages=MESSAGES)
    assert len(peer.requests) == before + 5
