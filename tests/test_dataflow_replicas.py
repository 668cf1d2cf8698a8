"""Dataflow sessions behind a load balancer: two gateways that share only a real
redis-server answer every request the same way, whichever one gets it; a
change made on the replica that does not run the session is forwarded to the
one that does, and a dead owner is a quick 503, never a hang."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dataflow.state import INLINE_ARGS
from gateway.store import MemoryStore
from tests import support
from tests.support import BackgroundLoop, RunningGateway

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")

API = "/dataflow/v1"
TENANT = {"authorization": "Bearer tenant-a"}


def config(redis_url: str | None) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "server": {"health_interval_s": 60},
        "models": [{"name": "sim", "engine": "sim", "sim": {"profile": "instant"}}],
        "dataflow": {"max_calls_per_graph": 20, "call_timeout_s": 5},
    }
    if redis_url is not None:
        cfg["store"] = {"backend": "redis", "url": redis_url}
    return cfg


@pytest.fixture
def pair(bg: BackgroundLoop, redis_url: str) -> Iterator[tuple[RunningGateway, RunningGateway]]:
    first = bg.run(support.start_gateway(config(redis_url)))
    second = bg.run(support.start_gateway(config(redis_url)))
    yield first, second
    bg.run(support.stop_gateway(first))
    bg.run(support.stop_gateway(second))


def clients(*gateways: RunningGateway, **headers: str) -> list[httpx.Client]:
    return [httpx.Client(base_url=g.url + API, timeout=20, headers={**TENANT, **headers}) for g in gateways]


def call(out: str, template: str, **inputs: Any) -> dict[str, Any]:
    name = template.split("{{")[-1].split("}}")[0]
    return {"model": "sim", "template": template, "inputs": inputs, "params": {"seed": 1, "temperature": 0},
            "outputs": {name: {"id": out, "max_tokens": 6}}}


def scenario(a: httpx.Client, b: httpx.Client) -> list[tuple[int, Any]]:
    """A client whose load balancer alternates replicas; every answer, with the session id masked."""
    answers: list[tuple[int, Any]] = []

    def note(reply: httpx.Response) -> Any:
        body = reply.json()
        answers.append((reply.status_code, mask(body, sid)))
        return body

    sid = ""
    graph = {"variables": [{"id": "q", "value": "hello"}], "calls": [call("x", "{{q}}\nfirst {{x}}", q="q")]}
    created = a.post("/sessions", json={"graph": graph})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    note(created)
    more = {"variables": [{"id": "later"}], "calls": [call("y", "{{x}} {{later}}\nthen {{y}}", x="x", later="later")]}
    note(b.post(f"/sessions/{sid}/graphs", json=more))
    note(a.put(f"/sessions/{sid}/variables/later", json={"value": "world"}))
    note(b.get(f"/sessions/{sid}/variables/y", params={"timeout": 10}))
    note(a.get(f"/sessions/{sid}/variables/x"))
    note(b.get(f"/sessions/{sid}"))
    note(b.post(f"/sessions/{sid}/variables", json={"id": "free", "value": "v"}))
    note(a.post(f"/sessions/{sid}/calls", json={"id": "c-lazy", **call("z", "{{free}}\n{{z}}", free="free")}))
    lazy = note(b.post(f"/sessions/{sid}/graphs", json={"calls": [call("w", "{{q}}\nlast {{w}}", q="q")]}))
    note(b.delete(f"/sessions/{sid}/graphs/{lazy['id']}"))
    note(b.get(f"/sessions/{sid}/variables/w"))
    note(a.put(f"/sessions/{sid}/variables/later", json={"value": "again"}))  # 409: it has a value
    note(b.post(f"/sessions/{sid}/graphs", json={"calls": [call("v", "{{nope}}\n{{v}}", nope="nope")]}))  # 400
    note(b.post(f"/sessions/{sid}/calls", json={**call("u", "{{u}}"), "params": {"stream": True}}))  # 400 param
    note(b.put(f"/sessions/{sid}/variables/missing", json={"value": "x"}))  # 404
    note(b.delete(f"/sessions/{sid}/graphs/graph_99"))  # 404
    note(b.get(f"/sessions/{sid}"))
    note(b.delete(f"/sessions/{sid}"))
    note(a.get(f"/sessions/{sid}"))
    note(b.get(f"/sessions/{sid}"))
    return answers


def mask(body: Any, sid: str) -> Any:
    if isinstance(body, dict):
        return {k: ("<created>" if k == "created" else mask(v, sid)) for k, v in body.items()}
    if isinstance(body, list):
        return [mask(v, sid) for v in body]
    return body.replace(sid, "<sid>") if isinstance(body, str) and sid else body


def test_alternating_replicas_answer_like_one_gateway(
    bg: BackgroundLoop, pair: tuple[RunningGateway, RunningGateway]
) -> None:
    alone = bg.run(support.start_gateway(config(None)))
    try:
        one, = clients(alone)
        expected = scenario(one, one)
        assert alone.gateway.dataflow.remote is None  # one gateway, memory store: no forwarding machinery
    finally:
        bg.run(support.stop_gateway(alone))
    a, b = clients(*pair)
    got = scenario(a, b)
    assert got == expected
    statuses = [status for status, _ in got]
    assert statuses == [201, 201, 200, 200, 200, 200, 201, 201, 201, 200, 409, 409, 400, 400, 404, 404, 200, 200,
                        404, 404]
    assert got[12][1]["error"]["code"] == "invalid_graph" and "unknown variable 'nope'" in got[12][1]["error"]["message"]
    metrics = pair[1].gateway.metrics.render().decode()
    assert 'semgate_dataflow_forwarded_writes_total{outcome="ok"} 7.0' in metrics  # b's changes and descriptions
    assert 'semgate_dataflow_forwarded_writes_total{outcome="error"} 4.0' in metrics
    owner = pair[0].gateway.metrics.render().decode()
    assert "semgate_dataflow_graph_calls_count 4.0" in owner  # every graph was counted where it ran
    assert 'semgate_dataflow_call_duration_seconds_count{status="done"} 2.0' in owner
    assert "semgate_dataflow_call_queue_seconds_count 2.0" in owner


def test_a_graph_error_on_the_other_replica_is_the_same_400(pair: tuple[RunningGateway, RunningGateway]) -> None:
    a, b = clients(*pair)
    sid = a.post("/sessions", json={}).json()["id"]
    bad = {"calls": [{"id": "c1", **call("y", "{{x}}\n{{y}}", x="x")}, {"id": "c2", **call("x", "{{y}}\n{{x}}", y="y")}]}
    here, there = a.post(f"/sessions/{sid}/graphs", json=bad), b.post(f"/sessions/{sid}/graphs", json=bad)
    assert here.status_code == there.status_code == 400
    assert here.json() == there.json() and "cycle" in there.json()["error"]["message"]
    typo = b.post(f"/sessions/{sid}/graphs", json={"calls": [], "lazzy": True})
    assert typo.status_code == 400 and typo.json() == a.post(f"/sessions/{sid}/graphs", json={"lazzy": 1}).json()


def test_a_large_forwarded_graph_travels_beside_the_inbox(pair: tuple[RunningGateway, RunningGateway]) -> None:
    a, b = clients(*pair)
    sid = a.post("/sessions", json={}).json()["id"]
    big = "x" * (INLINE_ARGS * 2)
    reply = b.post(f"/sessions/{sid}/graphs", json={"variables": [{"id": "big", "value": big}]})
    assert reply.status_code == 201, reply.text
    assert a.get(f"/sessions/{sid}/variables/big").json()["value"] == big


def test_another_tenant_reaches_nothing_on_either_replica(pair: tuple[RunningGateway, RunningGateway]) -> None:
    a, b = clients(*pair)
    sid = a.post("/sessions", json={"graph": {"variables": [{"id": "s", "value": "secret"}]}}).json()["id"]
    for intruder in clients(*pair, authorization="Bearer tenant-b"):
        for method, path, body in [("GET", f"/sessions/{sid}", None), ("DELETE", f"/sessions/{sid}", None),
                                   ("POST", f"/sessions/{sid}/graphs", {}),
                                   ("PUT", f"/sessions/{sid}/variables/s", {"value": "x"}),
                                   ("GET", f"/sessions/{sid}/variables/s", None)]:
            reply = intruder.request(method, path, json=body)
            assert reply.status_code == 404, (method, path, reply.text)
    assert b.get(f"/sessions/{sid}/variables/s").json()["value"] == "secret"


def test_a_hung_owner_is_a_503_after_the_timeout_and_never_applies_the_change_later(
    bg: BackgroundLoop, pair: tuple[RunningGateway, RunningGateway]
) -> None:
    owner, other = pair
    other.gateway.dataflow.remote.timeout_s = 0.5  # type: ignore[union-attr]
    a, b = clients(*pair)
    sid = a.post("/sessions", json={"graph": {"variables": [{"id": "v"}]}}).json()["id"]
    remote = owner.gateway.dataflow.remote
    assert remote is not None and remote.reader is not None
    remote.reader.cancel()  # the owner stops reading its inboxes but still beats: hung, or partitioned

    started = time.monotonic()
    reply = b.put(f"/sessions/{sid}/variables/v", json={"value": "late"})
    assert 0.4 < time.monotonic() - started < 3
    assert reply.status_code == 503 and reply.json()["error"]["code"] == "session_owner_unavailable"
    assert "must be recreated" in reply.json()["error"]["message"]

    async def recover() -> None:  # the owner reads its inboxes again, from where it stopped
        await remote.start()

    bg.run(recover())
    time.sleep(0.2)
    assert a.get(f"/sessions/{sid}").json()["variables"]["v"]["status"] == "empty"  # the refused change stays out
    assert b.put(f"/sessions/{sid}/variables/v", json={"value": "now"}).status_code == 200
    assert a.get(f"/sessions/{sid}/variables/v").json()["value"] == "now"
    metrics = other.gateway.metrics.render().decode()
    assert 'semgate_dataflow_forwarded_writes_total{outcome="unavailable"} 1.0' in metrics


def test_a_dead_owner_is_a_503_at_once_and_its_finished_values_stay_readable(
    bg: BackgroundLoop, pair: tuple[RunningGateway, RunningGateway]
) -> None:
    owner, _ = pair
    a, b = clients(*pair)
    graph = {"variables": [{"id": "q", "value": "hi"}], "calls": [call("x", "{{q}}\n{{x}}", q="q"),
                                                                  call("y", "{{q}}\nother {{y}}", q="q")]}
    sid = a.post("/sessions", json={"graph": graph}).json()["id"]
    assert b.get(f"/sessions/{sid}/variables/x", params={"timeout": 10}).status_code == 200

    async def crash() -> None:  # what a killed process leaves: its records, no heartbeat, nobody reading
        dataflow = owner.gateway.dataflow
        dataflow.sessions.clear()
        await dataflow.remote.stop()  # type: ignore[union-attr]  # its inbox reader with it

    bg.run(crash())
    for method, path, body in [("POST", f"/sessions/{sid}/graphs", {}), ("DELETE", f"/sessions/{sid}", None),
                               ("GET", f"/sessions/{sid}", None), ("GET", f"/sessions/{sid}/variables/y", None)]:
        for client in (a, b):  # the restarted owner does not run it either
            started = time.monotonic()
            reply = client.request(method, path, json=body)
            assert time.monotonic() - started < 1, (method, path)
            assert reply.status_code == 503 and reply.json()["error"]["code"] == "session_owner_unavailable"
    assert b.get(f"/sessions/{sid}/variables/x").json()["status"] == "ready"


def test_a_session_deleted_while_a_change_waits_is_a_404(bg: BackgroundLoop, redis_url: str) -> None:
    """The store alone says the session is gone: a MemoryStore shared in-process behaves the same."""
    store = MemoryStore()
    store.shared = True
    first = bg.run(support.start_gateway(config(None), store=store))
    second = bg.run(support.start_gateway(config(None), store=store))
    try:
        a, b = clients(first, second)
        sid = a.post("/sessions", json={}).json()["id"]
        assert b.post(f"/sessions/{sid}/variables", json={"id": "v", "value": "1"}).status_code == 201
        assert b.delete(f"/sessions/{sid}").status_code == 200
        assert not first.gateway.dataflow.sessions
        assert b.post(f"/sessions/{sid}/variables", json={"id": "w"}).status_code == 404
    finally:
        bg.run(support.stop_gateway(first))
        bg.run(support.stop_gateway(second))


def test_many_sessions_on_one_replica_do_not_starve_its_inbox(bg: BackgroundLoop, redis_url: str) -> None:
    """Far more sessions than blocking connections: the owner still reads every inbox (one reader
    for all of them), so a change forwarded to any session is applied, not a false 503."""
    cfg = config(redis_url)
    cfg["store"]["max_connections"] = 16
    owner = bg.run(support.start_gateway(cfg))
    other = bg.run(support.start_gateway(cfg))
    try:
        other.gateway.dataflow.remote.timeout_s = 2  # type: ignore[union-attr]  # a starved owner fails fast
        a, b = clients(owner, other)
        sids = [a.post("/sessions", json={}).json()["id"] for _ in range(300)]
        assert len(owner.gateway.dataflow.sessions) == 300
        for sid in [*sids[:2], *sids[100::60], sids[-1]]:
            started = time.monotonic()
            reply = b.post(f"/sessions/{sid}/variables", json={"id": "v", "value": sid})
            assert reply.status_code == 201, reply.text
            assert time.monotonic() - started < 1.5
            assert a.get(f"/sessions/{sid}/variables/v").json()["value"] == sid
        fetch = b.get(f"/sessions/{sids[-2]}/variables/missing")  # a fetch on the other replica still answers
        assert fetch.status_code == 404
    finally:
        bg.run(support.stop_gateway(owner))
        bg.run(support.stop_gateway(other))
