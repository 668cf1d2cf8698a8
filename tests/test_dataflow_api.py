"""The /dataflow/v1 HTTP API against a real gateway: graphs run server-side
through the same request path as /v1/chat/completions."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.store import MemoryStore
from tests import support
from tests.support import BackgroundLoop, PeerRequest, RunningGateway, ScriptedUpstream

API = "/dataflow/v1"


async def stream_reply(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
    """Streams `<last line of the prompt>` back in two deltas, as vLLM would."""
    prompt = request.json()["messages"][0]["content"]
    text = f"<{prompt.splitlines()[-1].strip()}>"
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    deltas = [{"choices": [{"index": 0, "delta": {"content": part}}]} for part in (text[:2], text[2:])]
    usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
    for event in [*(b"data: " + orjson.dumps(d) + b"\n\n" for d in (*deltas, usage)), b"data: [DONE]\n\n"]:
        writer.write(b"%x\r\n%s\r\n" % (len(event), event))
    writer.write(b"0\r\n\r\n")
    await writer.drain()


class Replica(ScriptedUpstream):
    """A scripted replica that can be switched off: it then hangs up on every request."""

    dead: bool = False

    def __init__(self) -> None:
        async def reply(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
            if self.dead:
                writer.close()
                return
            await stream_reply(request, writer)

        async def paced(request: PeerRequest, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(0.1)
            await stream_reply(request, writer)

        super().__init__(behaviours={"scripted": reply, "paced": paced, "stall": support.stall})


@pytest.fixture(scope="module")
def replicas(bg: BackgroundLoop) -> Iterator[list[Replica]]:
    peers = [bg.run(Replica().start()) for _ in range(2)]
    yield peers  # type: ignore[misc]
    for peer in peers:
        bg.run(peer.stop())


def config(replicas: list[Replica], **dataflow: Any) -> dict[str, Any]:
    return {
        "server": {"read_timeout_s": 10, "health_interval_s": 60},
        "models": [
            {"name": "sim", "engine": "sim", "sim": {"profile": "instant"}},
            {"name": "scripted", "upstreams": [p.base_url for p in replicas],
             "balancer": {"policy": "round_robin", "scrape_metrics": False, "failure_threshold": 100},
             "retry": {"attempts": 3, "backoff_s": 0}},
            {"name": "paced", "upstreams": [replicas[1].base_url]},
            {"name": "stall", "upstreams": [replicas[0].base_url]},
            {"name": "down", "upstreams": ["http://127.0.0.1:1/v1"], "retry": {"attempts": 1}},
        ],
        "dataflow": {"max_calls_per_graph": 20, "max_variables_per_session": 60, "max_template_chars": 2000,
                     "max_value_chars": 5000, "max_prompt_chars": 12000, "call_timeout_s": 3, **dataflow},
    }


@pytest.fixture(scope="module")
def gw(bg: BackgroundLoop, replicas: list[Replica]) -> Iterator[RunningGateway]:
    running = bg.run(support.start_gateway(config(replicas)))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture
def client(gw: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gw.url + API, timeout=20, headers={"authorization": "Bearer tenant-a"}) as c:
        yield c


def call(out: str, template: str, model: str = "scripted", max_tokens: int = 8, **inputs: Any) -> dict[str, Any]:
    name = template.split("{{")[-1].split("}}")[0]
    return {"model": model, "template": template, "inputs": inputs,
            "outputs": {name: {"id": out, "max_tokens": max_tokens}}}


def session(client: httpx.Client, **graph: Any) -> str:
    reply = client.post("/sessions", json={"graph": graph} if graph else {})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def error(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]


# ---- running graphs ----------------------------------------------------------


def test_map_reduce_runs_on_the_server_and_joins_a_list_input(client: httpx.Client, gw: RunningGateway) -> None:
    maps = [call(f"sum-{i}", "Summarize:\n{{chunk}}\npart {{s}}", chunk=f"chunk-{i}") for i in range(3)]
    merge = call("final", "Merge:\n{{parts}}\nall {{f}}", parts=[f"sum-{i}" for i in range(3)])
    sid = session(client, variables=[{"id": f"chunk-{i}", "value": f"text {i}"} for i in range(3)],
                  calls=[*maps, merge])
    reply = client.get(f"/sessions/{sid}/variables/final", params={"timeout": 10})
    assert reply.status_code == 200 and reply.json()["status"] == "ready"
    assert reply.json()["value"] == "<all>"
    assert client.get(f"/sessions/{sid}/variables/sum-1").json()["value"] == "<part>"


def test_every_call_passes_the_chat_completions_path(client: httpx.Client, gw: RunningGateway) -> None:
    sid = session(client, calls=[call("a", "say {{a}}", model="sim")])
    before = gw.gateway.metrics.render().decode()
    assert client.get(f"/sessions/{sid}/variables/a").json()["status"] == "ready"
    after = gw.gateway.metrics.render().decode()
    line = 'semgate_requests_total{endpoint="chat",model="sim",status="200"}'
    assert _counter(after, line) == _counter(before, line) + 1
    done = 'semgate_dataflow_calls_total{status="done"}'
    assert _counter(after, done) == _counter(before, done) + 1
    assert _counter(after, "semgate_dataflow_sessions") >= 1


def test_outputs_fill_in_template_order_and_feed_later_outputs(client: httpx.Client, gw: RunningGateway) -> None:
    template = "Q\nfirst {{x}}\nthen {{y}}"
    graph_call = {"model": "scripted", "template": template, "outputs": {"x": {"id": "x"}, "y": {"id": "y"}}}
    sid = session(client, calls=[graph_call])
    assert client.get(f"/sessions/{sid}/variables/y").json()["value"] == "<then>"
    assert client.get(f"/sessions/{sid}/variables/x").json()["value"] == "<first>"


def test_nothing_runs_until_something_is_fetched(client: httpx.Client, replicas: list[Replica]) -> None:
    seen = sum(len(p.requests) for p in replicas)
    sid = session(client, calls=[call("lazy-a", "hello {{a}}"), call("lazy-b", "{{a}}\nnext {{b}}", a="lazy-a")])
    time.sleep(0.2)
    assert sum(len(p.requests) for p in replicas) == seen
    assert client.get(f"/sessions/{sid}").json()["calls"]["call-1"]["status"] == "idle"
    assert client.get(f"/sessions/{sid}/variables/lazy-a").json()["value"] == "<hello>"
    # only lazy-a's producer was wanted: its consumer stays idle
    assert client.get(f"/sessions/{sid}").json()["calls"]["call-2"]["status"] == "idle"


def test_an_eager_graph_runs_without_a_fetch(client: httpx.Client) -> None:
    sid = session(client, calls=[call("eager", "go {{e}}")], lazy=False)
    deadline = time.monotonic() + 5
    while client.get(f"/sessions/{sid}").json()["variables"]["eager"]["status"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_variable_set_later_unblocks_its_consumers(client: httpx.Client) -> None:
    sid = session(client)
    assert client.post(f"/sessions/{sid}/variables", json={"id": "question"}).json()["status"] == "empty"
    assert client.post(f"/sessions/{sid}/calls", json=call("answer", "{{q}}\nanswer {{a}}", q="question")).is_success
    assert error(client.get(f"/sessions/{sid}/variables/answer", params={"timeout": 0.2}), 408)["code"] == "timeout"
    assert client.put(f"/sessions/{sid}/variables/question", json={"value": "why"}).json()["status"] == "ready"
    assert client.get(f"/sessions/{sid}/variables/answer").json()["value"] == "<answer>"
    assert error(client.put(f"/sessions/{sid}/variables/question", json={"value": "again"}), 409)["code"] == "conflict"
    assert error(client.put(f"/sessions/{sid}/variables/answer", json={"value": "x"}), 409)["code"] == "conflict"


def test_perf_objective_propagates_upstream(client: httpx.Client) -> None:
    sid = session(client, calls=[call("p1", "a {{p1}}"), call("p2", "{{x}}\nb {{p2}}", x="p1")])
    client.get(f"/sessions/{sid}/variables/p2", params={"perf": "throughput"})
    calls = client.get(f"/sessions/{sid}").json()["calls"]
    assert calls["call-1"]["perf"] == calls["call-2"]["perf"] == "throughput"
    assert error(client.get(f"/sessions/{sid}/variables/p2", params={"perf": "fast"}), 400)["param"] == "perf"


def test_the_sse_stream_sends_deltas_then_the_value(client: httpx.Client) -> None:
    sid = session(client, calls=[call("streamed", "say {{s}}")])
    with client.stream("GET", f"/sessions/{sid}/variables/streamed/stream") as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in reply.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    parsed = [orjson.loads(e) for e in events[:-1]]
    deltas = "".join(e["delta"] for e in parsed if "delta" in e)
    assert deltas == parsed[-1]["value"] == "<say>" and len(parsed) == 3


def test_a_stream_resumes_after_the_last_event_id(client: httpx.Client) -> None:
    sid = session(client, calls=[call("resumed", "say {{s}}")])
    client.get(f"/sessions/{sid}/variables/resumed")  # finished: the events stay in the store
    with client.stream("GET", f"/sessions/{sid}/variables/resumed/stream", headers={"last-event-id": "1"}) as reply:
        lines = list(reply.iter_lines())
    ids = [line[4:] for line in lines if line.startswith("id: ")]
    data = [orjson.loads(line[6:]) for line in lines if line.startswith("data: {")]
    assert ids == ["2", "3"] and data[0] == {"delta": "ay>"} and data[-1]["value"] == "<say>"


# ---- failures --------------------------------------------------------------------


def test_a_replica_failing_mid_graph_is_retried_elsewhere(
    client: httpx.Client, replicas: list[Replica], bg: BackgroundLoop
) -> None:
    sid = session(client, calls=[call("s1", "one {{s1}}"), call("s2", "{{x}}\ntwo {{s2}}", x="s1"),
                                 call("s3", "{{x}}\nthree {{s3}}", x="s2")])
    assert client.get(f"/sessions/{sid}/variables/s1").json()["value"] == "<one>"
    replicas[0].dead = True
    tried = len(replicas[0].requests)
    try:
        assert client.get(f"/sessions/{sid}/variables/s3").json()["value"] == "<three>"
    finally:
        replicas[0].dead = False
    assert len(replicas[0].requests) > tried  # round robin sent one of s2, s3 to the dead replica first


def test_a_failed_call_fails_its_dependents_with_its_name(client: httpx.Client) -> None:
    sid = session(client, calls=[call("d1", "x {{d1}}", model="down"), call("d2", "{{x}}\ny {{d2}}", x="d1")])
    failure = error(client.get(f"/sessions/{sid}/variables/d2"), 424)
    assert failure["code"] == "call_failed" and "'call-1' failed" in failure["message"]
    assert "input 'd1' failed" in failure["message"]
    assert client.get(f"/sessions/{sid}").json()["calls"]["call-2"]["status"] == "failed"


def test_a_prompt_rendered_past_its_limit_fails_the_call(client: httpx.Client) -> None:
    sid = session(client, variables=[{"id": "big", "value": "x" * 5000}],
                  calls=[call("huge", "{{v}}{{v}}{{v}} {{h}}", v="big")])
    failure = error(client.get(f"/sessions/{sid}/variables/huge"), 424)
    assert "longer than 12000 characters" in failure["message"]


def test_a_call_past_its_timeout_fails(client: httpx.Client) -> None:
    sid = session(client, calls=[call("slow", "x {{slow}}", model="stall")])
    failure = error(client.get(f"/sessions/{sid}/variables/slow", params={"timeout": 10}), 424)
    assert "did not finish within 3 s" in failure["message"]


def test_cancelling_a_graph_stops_its_calls_and_frees_waiters(client: httpx.Client, bg: BackgroundLoop) -> None:
    sid = session(client)
    graph = client.post(f"/sessions/{sid}/graphs", json={"calls": [call("c1", "x {{c1}}", model="stall")]}).json()
    assert error(client.get(f"/sessions/{sid}/variables/c1", params={"timeout": 0.3}), 408)["code"] == "timeout"
    assert client.get(f"/sessions/{sid}").json()["calls"]["call-1"]["status"] == "running"
    assert client.delete(f"/sessions/{sid}/graphs/{graph['id']}").json()["cancelled"] == 1
    assert error(client.get(f"/sessions/{sid}/variables/c1"), 409)["code"] == "cancelled"
    assert client.get(f"/sessions/{sid}").json()["calls"]["call-1"]["status"] == "cancelled"


def test_deleting_a_session_ends_a_waiting_fetch(gw: RunningGateway, bg: BackgroundLoop) -> None:
    async def scenario() -> tuple[int, int]:
        async with httpx.AsyncClient(base_url=gw.url + API, timeout=10) as c:
            sid = (await c.post("/sessions", json={"graph": {"calls": [call("w", "x {{w}}", model="stall")]}})).json()["id"]
            waiting = asyncio.create_task(c.get(f"/sessions/{sid}/variables/w"))
            await asyncio.sleep(0.2)
            deleted = await c.delete(f"/sessions/{sid}")
            return deleted.status_code, (await waiting).status_code

    assert bg.run(scenario()) == (200, 409)
    assert not gw.gateway.dataflow.sessions or all(not s.tasks for s in gw.gateway.dataflow.sessions.values())


def test_a_session_description_comes_in_pages_with_counts(client: httpx.Client) -> None:
    values = [{"id": f"pv-{i:02d}", "value": "x"} for i in range(5)]
    sid = session(client, variables=values, calls=[call(f"po-{i}", "say {{o}}") for i in range(3)])
    first = client.get(f"/sessions/{sid}", params={"limit": 2}).json()
    assert first["summary"] == {"variables": {"total": 8, "ready": 5, "pending": 3}, "calls": {"total": 3, "idle": 3}}
    assert list(first["variables"]) == ["pv-00", "pv-01"] and list(first["calls"]) == ["call-1", "call-2"]
    assert first["has_more"] is True
    pages, after = [first], first["next_after"]
    while after is not None:
        pages.append(client.get(f"/sessions/{sid}", params={"limit": 2, "after": after}).json())
        after = pages[-1]["next_after"]
    assert [v for p in pages for v in p["variables"]] == [*(v["id"] for v in values), "po-0", "po-1", "po-2"]
    assert [c for p in pages for c in p["calls"]] == ["call-1", "call-2", "call-3"]
    assert pages[-1]["has_more"] is False and len(pages) == 4


@pytest.mark.parametrize(("params", "param"), [
    ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"), ({"limit": "ten"}, "limit"), ({"limit": "-1"}, "limit"),
    ({"after": "-5"}, "after"), ({"after": "x"}, "after"), ({"after": "9" * 40}, "after"), ({"after": "1.5"}, "after"),
])
def test_bad_paging_parameters_are_a_400_naming_them(client: httpx.Client, params: dict[str, str], param: str) -> None:
    failure = error(client.get(f"/sessions/{session(client)}", params=params), 400)
    assert failure["param"] == param and failure["code"] == "invalid_request"


def test_what_start_up_built_is_kept_out_of_full_gc_collections(gw: RunningGateway) -> None:
    # Full collections walk every tracked object; a session of thousands of calls
    # on top of everything start-up built stalled the event loop ~250 ms each.
    assert gc.get_freeze_count() > 10_000


# ---- bad input and isolation ---------------------------------------------------------


@pytest.mark.parametrize(("graph", "message"), [
    ({"calls": [call("a", "{{x}} {{a}}", x="nowhere")]}, "unknown variable 'nowhere'"),
    ({"calls": [call("a", "{{x}} {{a}}", x="b"), call("b", "{{y}} {{b}}", y="a")]}, "cycle"),
    ({"calls": [{"model": "sim", "template": "{{q}} {{a}}", "outputs": {"a": {"id": "a"}}}]}, "{{q}} is bound to no"),
    ({"calls": [call("a", "{{a}}"), call("a", "{{b}}")]}, "produced by both"),
    ({"calls": [call(f"v{i}", "{{o}}") for i in range(21)]}, "the limit is 20"),
    ({"calls": [call("a", "x" * 2001 + "{{a}}")]}, "longer than 2000"),
    ({"variables": [{"id": "big", "value": "x" * 5001}]}, "longer than 5000"),
    ({"variables": [{"id": "bad id!"}]}, "must be 1-128 characters"),
    ({"calls": [{**call("a", "{{a}}"), "params": {"stream": False}}]}, "may not set stream"),
    ({"calls": [{**call("a", "{{a}}"), "colour": "red"}]}, "calls.0.colour"),
    ({"calls": [call("a", "{{a}}", model="nosuch")]}, "model 'nosuch' does not exist"),
])
def test_invalid_graphs_are_rejected_whole_with_a_clear_400(
    client: httpx.Client, graph: dict[str, Any], message: str
) -> None:
    sid = session(client)
    failure = error(client.post(f"/sessions/{sid}/graphs", json=graph), 400)
    assert message in failure["message"]
    assert client.get(f"/sessions/{sid}").json()["variables"] == {}


def test_invalid_json_and_unknown_sessions(client: httpx.Client) -> None:
    assert error(client.post("/sessions", content=b"{nope"), 400)["code"] == "invalid_json"
    assert error(client.get("/sessions/sess_missing"), 404)["code"] == "not_found"
    sid = session(client)
    assert error(client.get(f"/sessions/{sid}/variables/none"), 404)["code"] == "not_found"
    assert error(client.delete(f"/sessions/{sid}/graphs/graph_9"), 404)["code"] == "not_found"


def test_another_tenant_sees_nothing(client: httpx.Client, gw: RunningGateway) -> None:
    sid = session(client, variables=[{"id": "secret", "value": "tenant a's data"}])
    paths = [("GET", f"/sessions/{sid}"), ("GET", f"/sessions/{sid}/variables/secret"),
             ("GET", f"/sessions/{sid}/variables/secret/stream"), ("DELETE", f"/sessions/{sid}"),
             ("PUT", f"/sessions/{sid}/variables/secret"), ("POST", f"/sessions/{sid}/graphs")]
    for key in ("tenant-b", None):
        headers = {"authorization": f"Bearer {key}"} if key else {}
        with httpx.Client(base_url=gw.url + API, headers=headers) as other:
            for method, path in paths:
                body = {"value": "x"} if method == "PUT" else {} if method == "POST" else None
                reply = other.request(method, path, json=body)
                assert reply.status_code == 404, (key, method, path, reply.text)
                assert "tenant a" not in reply.text
    assert client.get(f"/sessions/{sid}/variables/secret").json()["value"] == "tenant a's data"


# ---- scheduling and shared state ----------------------------------------------------


def test_an_earlier_application_goes_before_newer_work(bg: BackgroundLoop, replicas: list[Replica]) -> None:
    """One slot: app A's second stage, ready after app B arrived, still runs before B."""

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(base_url=url + API, timeout=10) as c:
            chain = [call("a1", "app-a-1 {{a1}}", model="paced"), call("a2", "{{x}}\napp-a-2 {{a2}}", "paced", x="a1")]
            sid_a = (await c.post("/sessions", json={"graph": {"calls": chain}})).json()["id"]
            sid_b = (await c.post("/sessions", json={"graph": {"calls": [call("b1", "app-b {{b1}}", "paced")]}})).json()
            fetch_a = asyncio.create_task(c.get(f"/sessions/{sid_a}/variables/a2"))
            await asyncio.sleep(0.03)  # a1 is running, holding the only slot
            fetch_b = asyncio.create_task(c.get(f"/sessions/{sid_b['id']}/variables/b1"))
            assert (await fetch_a).status_code == (await fetch_b).status_code == 200

    running = bg.run(support.start_gateway(config(replicas, max_concurrent_calls=1)))
    seen = len(replicas[1].requests)
    try:
        bg.run(scenario(running.url))
    finally:
        bg.run(support.stop_gateway(running))
    prompts = [r.json()["messages"][0]["content"].splitlines()[-1].strip() for r in replicas[1].requests[seen:]]
    assert prompts == ["app-a-1", "app-a-2", "app-b"]


def test_any_replica_sharing_the_store_serves_a_fetch(bg: BackgroundLoop, replicas: list[Replica]) -> None:
    store = MemoryStore()
    store.shared = True  # two gateways, one store: what Redis gives a fleet
    first = bg.run(support.start_gateway(config(replicas), store=store))
    second = bg.run(support.start_gateway(config(replicas), store=store))
    try:
        with httpx.Client(base_url=first.url + API, timeout=10) as a, httpx.Client(base_url=second.url + API) as b:
            sid = session(a, calls=[call("r1", "remote {{r1}}")])
            assert b.get(f"/sessions/{sid}/variables/r1", params={"timeout": 5}).json()["value"] == "<remote>"
            assert b.post(f"/sessions/{sid}/graphs", json={}).status_code == 201  # forwarded to its replica
            page = b.get(f"/sessions/{sid}", params={"limit": 1}).json()  # forwarded, paged by its replica
            assert (list(page["variables"]), page["has_more"]) == (["r1"], False)
            other = b.get(f"/sessions/{sid}/variables/r1", headers={"authorization": "Bearer intruder"})
            assert other.status_code == 404
    finally:
        bg.run(support.stop_gateway(first))
        bg.run(support.stop_gateway(second))


def test_idle_sessions_expire_and_are_freed(bg: BackgroundLoop, replicas: list[Replica]) -> None:
    running = bg.run(support.start_gateway(config(replicas, session_ttl_s=0.3)))
    try:
        with httpx.Client(base_url=running.url + API) as c:
            sid = session(c, variables=[{"id": "v", "value": "x"}])
            time.sleep(0.8)
            assert error(c.get(f"/sessions/{sid}"), 404)["code"] == "not_found"
        assert not running.gateway.dataflow.sessions
    finally:
        bg.run(support.stop_gateway(running))


def _counter(metrics: str, line: str) -> float:
    for row in metrics.splitlines():
        if row.startswith(line + " "):
            return float(row.split()[-1])
    return 0.0
