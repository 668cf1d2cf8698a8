"""The dataflow SDK without a gateway: declarations, graph building, ids, and
the wire protocol against a scripted in-process transport (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dataflow import (
    APIConnectionError,
    APIError,
    CallFailed,
    Cancelled,
    DataflowError,
    Input,
    Output,
    SemanticVariable,
    VariableTimeout,
    Workflow,
)
from dataflow.sdk.errors import error_from_body
from dataflow.sdk.ids import IdAllocator, check_id
from dataflow.sdk.signature import parse_function

ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def offline() -> Workflow:
    # Nothing listens on port 1: a test that did I/O by mistake fails loudly.
    return Workflow("http://127.0.0.1:1")


def map_reduce(wf: Workflow, chunks: list[str]) -> SemanticVariable:
    @wf.function(model="auto")
    def summarize(chunk: Input, summary: Output(max_tokens=100)):
        """Summarize the text.\n{{chunk}}\nSummary: {{summary}}"""

    @wf.function(model="auto")
    def merge(summaries: Input, final: Output(max_tokens=200)):
        """Merge these summaries.\n{{summaries}}\nMerged: {{final}}"""

    return merge(summaries=[summarize(chunk=c) for c in chunks])


# ---- declarations ----------------------------------------------------------------


def test_signature_inputs_outputs_and_options() -> None:
    def qa(context: Input, question: Input, answer: Output(max_tokens=50, temperature=0.2, stop="\n"),
           why: Output):
        """
        Context: {{context}}
        Question: {{question}}
        Answer: {{answer}}
        Why: {{why}}
        """

    spec = parse_function(qa, "auto", {"seed": 7})
    assert spec.name == "qa"
    assert spec.inputs == ("context", "question")
    assert [name for name, _ in spec.outputs] == ["answer", "why"]
    assert spec.outputs[0][1].options() == {"max_tokens": 50, "temperature": 0.2, "stop": ["\n"]}
    assert spec.outputs[1][1].options() == {}
    # The docstring's indentation and surrounding blank lines are not part of the prompt.
    assert spec.template == "Context: {{context}}\nQuestion: {{question}}\nAnswer: {{answer}}\nWhy: {{why}}"
    assert spec.params == {"seed": 7}


def test_placeholders_may_have_spaces_and_repeat() -> None:
    def f(x: Input, y: Output):
        """{{ x }} then {{y}}; again {{x}}"""

    assert parse_function(f, "m").inputs == ("x",)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(x: Input, y: Output):\n    pass", "needs a docstring"),
        ("def f(x: Input, y: Output):\n    '''{{x}} {{y}} {{z}}'''", "{{z}} is not a parameter"),
        ("def f(x: Input, w: Input, y: Output):\n    '''{{x}} {{y}}'''", "w do not appear in the docstring"),
        ("def f(x: Input, y: Output(max_tokens=3)):\n    '''{{x}}'''", "y do not appear"),
        ("def f(x, y: Output):\n    '''{{x}} {{y}}'''", "parameter 'x' must be annotated Input or Output"),
        ("def f(x: str, y: Output):\n    '''{{x}} {{y}}'''", "parameter 'x' must be annotated"),
        ("def f(x: Input):\n    '''{{x}}'''", "has no Output parameter"),
        ("def f(x: Input, *rest: Input, y: Output):\n    '''{{x}} {{y}}'''", "*args/**kwargs"),
        ("def f(x: Input, y: Output):\n    '''{{y}} then {{x}}'''", "x appear only after the last output"),
        ("def f(x: Input, y: Output):\n    '''{{x}} {{y}}'''\nf.__annotations__['x'] = 'Nope'", "annotations"),
    ],
)
def test_declaration_errors_name_the_problem(source: str, message: str) -> None:
    namespace: dict[str, Any] = {"Input": Input, "Output": Output}
    exec(source, namespace)  # noqa: S102 - a function defined per case
    with pytest.raises(TypeError) as caught:
        parse_function(namespace["f"], "auto")
    assert message in str(caught.value)
    assert "f" in str(caught.value)


def test_decorator_rejects_reserved_params_and_bad_output_options() -> None:
    wf = offline()
    with pytest.raises(TypeError, match="max_tokens goes in Output"):
        @wf.function(model="auto", max_tokens=5)
        def f(x: Input, y: Output):
            """{{x}}{{y}}"""
    with pytest.raises(ValueError, match="max_tokens"):
        Output(max_tokens=0)
    with pytest.raises(ValueError, match="temperature"):
        Output(temperature="hot")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stop"):
        Output(stop=[""])


def test_bare_decorator_defaults_to_the_auto_route() -> None:
    wf = offline()

    @wf.function
    def f(x: Input, y: Output):
        """{{x}} {{y}}"""

    assert f.spec.model == "auto" and f.__name__ == "f" and f.template == "{{x}} {{y}}"


# ---- calling: futures, no I/O ---------------------------------------------------------


def test_map_reduce_graph_is_one_submission() -> None:
    wf = offline()
    final = map_reduce(wf, ["alpha", "beta"])
    assert isinstance(final, SemanticVariable) and final.id == "final-0" and final.producer == "merge-0"
    assert not final.submitted and final.value is None
    summarize = "Summarize the text.\n{{chunk}}\nSummary: {{summary}}"
    assert wf._pending_graph() == {
        "variables": [{"id": "chunk-0", "value": "alpha"}, {"id": "chunk-1", "value": "beta"}],
        "calls": [
            {"id": "summarize-0", "model": "auto", "template": summarize, "inputs": {"chunk": "chunk-0"},
             "outputs": {"summary": {"id": "summary-0", "max_tokens": 100}}},
            {"id": "summarize-1", "model": "auto", "template": summarize, "inputs": {"chunk": "chunk-1"},
             "outputs": {"summary": {"id": "summary-1", "max_tokens": 100}}},
            {"id": "merge-0", "model": "auto", "template": "Merge these summaries.\n{{summaries}}\nMerged: {{final}}",
             "inputs": {"summaries": ["summary-0", "summary-1"]},
             "outputs": {"final": {"id": "final-0", "max_tokens": 200}}},
        ],
        "lazy": True,
    }
    assert wf._pending_graph() == wf._pending_graph()  # looking does not consume
    assert wf._pending_graph(lazy=False)["lazy"] is False
    assert wf.session_id is None


def test_chain_feeds_outputs_forward_without_waiting() -> None:
    wf = offline()

    @wf.function(model="sim", seed=3)
    def refine(draft: Input, chunk: Input, better: Output(max_tokens=20)):
        """Improve the draft with the new text.\nDraft: {{draft}}\nText: {{chunk}}\nImproved: {{better}}"""

    start = wf.variable(id="draft-0", value="")
    draft = start
    for chunk in ["one", "two", "three"]:
        draft = refine(draft, chunk=chunk)
    graph = wf._pending_graph()
    assert [v["id"] for v in graph["variables"]] == ["draft-0", "chunk-0", "chunk-1", "chunk-2"]
    assert [(c["id"], c["inputs"]["draft"], c["outputs"]["better"]["id"]) for c in graph["calls"]] == [
        ("refine-0", "draft-0", "better-0"), ("refine-1", "better-0", "better-1"), ("refine-2", "better-1", "better-2")
    ]
    assert all(c["params"] == {"seed": 3} for c in graph["calls"])
    assert draft.id == "better-2"


def test_multiple_outputs_come_back_in_declaration_order() -> None:
    wf = offline()

    @wf.function(model="auto")
    def plan(goal: Input, steps: Output(max_tokens=10), risks: Output(max_tokens=5)):
        """Goal: {{goal}}\nRisks: {{risks}}\nSteps: {{steps}}"""

    result = plan(goal="ship it")
    assert isinstance(result, tuple) and [v.id for v in result] == ["steps-0", "risks-0"]
    outputs = wf._pending_graph()["calls"][0]["outputs"]
    assert outputs == {"steps": {"id": "steps-0", "max_tokens": 10}, "risks": {"id": "risks-0", "max_tokens": 5}}


def test_call_argument_errors() -> None:
    wf = offline()
    other = offline()

    @wf.function(model="auto")
    def f(x: Input, y: Output):
        """{{x}} {{y}}"""

    with pytest.raises(TypeError, match="missing a required argument: 'x'"):
        f()
    with pytest.raises(TypeError, match="y is an output"):
        f(x="a", y="b")
    with pytest.raises(TypeError, match="must be a str, a SemanticVariable"):
        f(x=3)
    with pytest.raises(ValueError, match="empty list"):
        f(x=[])
    with pytest.raises(ValueError, match="another Workflow"):
        f(x=other.variable(value="v"))
    with pytest.raises(TypeError, match="value must be a str"):
        wf.variable(value=5)  # type: ignore[arg-type]
    assert wf._pending_graph()["calls"] == []  # nothing half-recorded


# ---- ids -------------------------------------------------------------------------------


def test_ids_are_unique_valid_and_readable() -> None:
    ids = IdAllocator()
    assert ids.claim("x-1") == "x-1"
    made = [ids.new("x") for _ in range(3)]
    assert made == ["x-0", "x-2", "x-3"]  # x-1 was taken by the application
    assert ids.new("my func!") == "my_func_-0"
    long = ids.new("n" * 500)
    assert ID.fullmatch(long) and len(long) <= 128
    with pytest.raises(ValueError, match="already used"):
        ids.claim("x-0")
    with pytest.raises(ValueError, match="1-128 characters"):
        check_id("has space")
    with pytest.raises(ValueError, match="1-128 characters"):
        check_id("")


def test_workflow_ids_never_collide() -> None:
    wf = offline()
    wf.variable(id="summary-0", value="taken")
    final = map_reduce(wf, ["a", "b", "c"])
    graph = wf._pending_graph()
    every = [v["id"] for v in graph["variables"]] + [c["id"] for c in graph["calls"]]
    every += [o["id"] for c in graph["calls"] for o in c["outputs"].values()]
    assert len(every) == len(set(every)) and all(ID.fullmatch(i) for i in every)
    assert "summary-0" not in [c["outputs"]["summary"]["id"] for c in graph["calls"][:3]]
    assert final.id == "final-0"
    with pytest.raises(ValueError, match="already used"):
        wf.variable(id="final-0")


def test_base_url_accepts_the_openai_style_v1() -> None:
    for url in ("http://gw:8080", "http://gw:8080/", "http://gw:8080/v1", "http://gw:8080/v1/"):
        assert Workflow(url).base_url == "http://gw:8080"


def test_error_bodies_map_to_the_hierarchy() -> None:
    failed = error_from_body(424, {"error": {"message": "call 'x' failed", "code": "call_failed"}})
    assert isinstance(failed, CallFailed) and failed.message == "call 'x' failed" and failed.status == 424
    cancelled = error_from_body(409, {"error": {"message": "gone", "code": "cancelled"}})
    assert isinstance(cancelled, Cancelled)
    conflict = error_from_body(409, {"error": {"message": "already has a value", "code": "conflict"}})
    assert type(conflict) is APIError and conflict.code == "conflict"
    in_stream = error_from_body(None, {"error": {"message": "boom", "code": "call_failed"}})
    assert isinstance(in_stream, CallFailed) and in_stream.status == 424
    assert error_from_body(502, "<html>").message == "<html>"
    assert issubclass(VariableTimeout, TimeoutError) and issubclass(APIError, DataflowError)


# ---- the wire protocol, against a scripted transport -----------------------------------------


class FakeGateway:
    """Answers /dataflow/v1 the way docs/dataflow.md says; `script` overrides per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self.values: dict[str, str] = {}
        self.script: list[Callable[[httpx.Request], httpx.Response | None]] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path + ("?" + request.url.query.decode()
                                                                   if request.url.query else ""), body))
        for index, step in enumerate(self.script):  # the first step that answers is used up
            del self.script[index]
            answer = step(request)
            if answer is not None:
                if answer.status_code == 408 and "timeout" in request.url.params:  # a long-poll waits first
                    await asyncio.sleep(float(request.url.params["timeout"]))
                return answer
            self.script.insert(index, step)
        path = request.url.path.removeprefix("/dataflow/v1")
        if request.method == "POST" and path == "/sessions":
            return httpx.Response(201, json={"id": "sess_1", "graph": {"id": "graph_1"}})
        if request.method == "POST" and path.endswith("/graphs"):
            return httpx.Response(201, json={"id": f"graph_{len(self.requests)}"})
        if request.method == "GET" and path.endswith("/stream"):
            var = path.split("/")[-2]
            value = self.values[var]
            events = [{"delta": value[:3]}, {"delta": value[3:]}, {"status": "ready", "value": value}]
            text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})
        if request.method == "GET" and "/variables/" in path:
            var = path.rsplit("/", 1)[-1]
            return httpx.Response(200, json={"id": var, "status": "ready", "value": self.values[var]})
        if request.method in ("PUT", "DELETE"):
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"error": {"message": "no such route", "code": "not_found"}})


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway()


async def test_first_fetch_creates_the_session_with_the_graph(fake: FakeGateway) -> None:
    fake.values["final-0"] = "merged"
    async with Workflow("http://gw/v1", api_key="k", transport=fake.transport()) as wf:
        final = map_reduce(wf, ["a", "b"])
        expected = wf._pending_graph()
        assert await final.get(perf="throughput", timeout=5) == "merged"
        assert final.submitted and final.value == "merged" and wf.session_id == "sess_1"
        assert fake.requests[0] == ("POST", "/dataflow/v1/sessions", {"graph": expected})
        method, path, _ = fake.requests[1]
        assert method == "GET" and path.startswith("/dataflow/v1/sessions/sess_1/variables/final-0?")
        query = httpx.URL(path).params
        assert query["perf"] == "throughput" and 4 < float(query["timeout"]) <= 5  # what is left of 5 s
        assert await final == "merged" and len(fake.requests) == 2  # known values are not fetched again

        fake.values["summary-2"] = "s"
        @wf.function(model="auto")
        def again(x: Input, summary: Output):
            """{{x}}: {{summary}}"""
        assert await again(final).get() == "s"
        method, path, body = fake.requests[2]
        assert (method, path) == ("POST", "/dataflow/v1/sessions/sess_1/graphs")
        assert body is not None and body["variables"] == [] and body["calls"][0]["inputs"] == {"x": "final-0"}
    assert fake.requests[-1][:2] == ("DELETE", "/dataflow/v1/sessions/sess_1")  # closing frees the session


async def test_long_poll_loops_on_408_until_the_callers_timeout(fake: FakeGateway,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dataflow.sdk.http.POLL_S", 0.01)  # each poll asks the gateway to hold it this long
    not_yet = httpx.Response(408, json={"error": {"message": "not ready", "code": "timeout"}})
    fake.script = [lambda r: not_yet if r.method == "GET" else None] * 2
    fake.values["y-0"] = "late"
    wf = Workflow("http://gw", transport=fake.transport())

    @wf.function(model="auto")
    def f(x: Input, y: Output):
        """{{x}} {{y}}"""

    y = f("a")
    assert await y.get() == "late"
    assert [m for m, _, _ in fake.requests] == ["POST", "GET", "GET", "GET"]
    assert httpx.URL(fake.requests[1][1]).params["timeout"] == "0.010"

    fake.script = [lambda r: not_yet if r.method == "GET" else None] * 100
    with pytest.raises(VariableTimeout, match="'y-1' was not ready within 0.05 s"):
        await f("b").get(timeout=0.05)
    await wf.aclose()


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(424, "call_failed", CallFailed), (409, "cancelled", Cancelled), (404, "not_found", APIError)],
)
async def test_fetch_errors_carry_the_servers_message(fake: FakeGateway, status: int, code: str, kind: type) -> None:
    answer = httpx.Response(status, json={"error": {"message": f"the server says {code}", "code": code}})
    fake.script = [lambda r: answer if r.method == "GET" else None]
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        with pytest.raises(kind) as caught:
            await map_reduce(wf, ["a"]).get()
    assert type(caught.value) is kind
    assert caught.value.status == status and caught.value.message == f"the server says {code}"


async def test_a_refused_graph_fails_its_variables_not_later_ones(fake: FakeGateway) -> None:
    refused = httpx.Response(400, json={"error": {"message": "call 'merge-0': bad", "code": "invalid_graph"}})
    fake.script = [lambda r: refused]
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        final = map_reduce(wf, ["a"])
        with pytest.raises(APIError, match="call 'merge-0': bad"):
            await final.get()
        with pytest.raises(APIError, match="call 'merge-0': bad"):  # the same error, without I/O
            await final.get()
        with pytest.raises(DataflowError, match="unusable"):
            map_reduce(wf, [final])
        fake.values["final-1"] = "fine"
        assert await map_reduce(wf, ["b"]).get() == "fine"
        assert sum(1 for m, p, _ in fake.requests if p == "/dataflow/v1/sessions") == 2


async def test_an_unreachable_gateway_keeps_the_graph_for_the_next_try(fake: FakeGateway) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.script = [refuse]
    fake.values["final-0"] = "ok"
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        final = map_reduce(wf, ["a"])
        with pytest.raises(APIConnectionError) as caught:
            await final.get()
        assert caught.value.sent is False
        assert await final.get() == "ok"
        assert len(fake.requests[1][2]["graph"]["calls"]) == 2  # type: ignore[index]


async def test_stream_yields_deltas_that_add_up_to_the_value(fake: FakeGateway) -> None:
    fake.values["final-0"] = "hello world"
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        final = map_reduce(wf, ["a"])
        pieces = [piece async for piece in final.stream(perf="throughput")]
        assert pieces == ["hel", "lo world"] and final.value == "hello world"
        assert "perf=throughput" in fake.requests[-1][1]


async def test_stream_error_event_raises_and_408_reconnects(fake: FakeGateway) -> None:
    broken = "".join(f"data: {json.dumps(e)}\n\n" for e in [
        {"delta": "par"}, {"error": {"message": "call 'merge-0' failed: engine down", "code": "call_failed"}},
    ]) + "data: [DONE]\n\n"
    timed_out = "".join(f"data: {json.dumps(e)}\n\n" for e in [
        {"delta": "hel"}, {"error": {"message": "fetch again", "code": "timeout"}},
    ]) + "data: [DONE]\n\n"
    sse = {"content-type": "text/event-stream"}
    fake.values["final-1"] = "hello"
    fake.script = [
        lambda r: httpx.Response(200, text=broken, headers=sse) if r.url.path.endswith("final-0/stream") else None,
        lambda r: httpx.Response(408, json={"error": {"message": "wait", "code": "timeout"}})
        if r.url.path.endswith("final-1/stream") else None,
        lambda r: httpx.Response(200, text=timed_out, headers=sse) if r.url.path.endswith("final-1/stream") else None,
    ]
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        pieces: list[str] = []
        with pytest.raises(CallFailed, match="engine down"):
            async for piece in map_reduce(wf, ["a"]).stream():
                pieces.append(piece)
        assert pieces == ["par"]
        # 408 before the first event, then a stream cut short by the gateway's max wait,
        # then the full replay: nothing is yielded twice.
        assert [p async for p in map_reduce(wf, ["b"]).stream()] == ["hel", "lo"]


async def test_set_fills_a_client_variable_buffered_or_submitted(fake: FakeGateway) -> None:
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        early, late = wf.variable(), wf.variable(id="question")
        await wf.set(early, "known before submission")
        assert await wf.submit() == {"id": "graph_1"}
        assert fake.requests[0][2]["graph"]["variables"] == [  # type: ignore[index]
            {"id": "var-0", "value": "known before submission"}, {"id": "question"}]
        assert fake.requests[0][2]["graph"]["lazy"] is False  # type: ignore[index]
        await wf.set(late, "later")
        assert fake.requests[1] == ("PUT", "/dataflow/v1/sessions/sess_1/variables/question", {"value": "later"})
        with pytest.raises(DataflowError, match="already has a value"):
            await wf.set(late, "again")
        produced = map_reduce(wf, ["a"])
        with pytest.raises(DataflowError, match="produced by call 'merge-0'"):
            await wf.set(produced, "x")
        assert await wf.submit() is not None and await wf.submit() is None


async def test_cancel_deletes_the_session_and_refuses_new_work(fake: FakeGateway) -> None:
    wf = Workflow("http://gw", transport=fake.transport())
    final = map_reduce(wf, ["a"])
    await wf.submit(lazy=True)
    await wf.cancel()
    assert fake.requests[-1][:2] == ("DELETE", "/dataflow/v1/sessions/sess_1")
    with pytest.raises(Cancelled):
        await final.get()
    with pytest.raises(Cancelled):
        map_reduce(wf, ["b"])
    await wf.aclose()
    assert fake.requests[-1][0] == "DELETE" and len(fake.requests) == 2  # not deleted twice
    with pytest.raises(DataflowError, match="closed"):
        await final.get()


def test_sync_use_without_an_event_loop(fake: FakeGateway) -> None:
    fake.values["final-0"] = "sync value"
    with Workflow("http://gw", transport=fake.transport()) as wf:
        final = map_reduce(wf, ["a"])
        assert final.result(perf="latency", timeout=5) == "sync value"
        fake.values["final-1"] = "streamed"
        assert list(map_reduce(wf, ["b"]).iter_stream()) == ["str", "eamed"]
        # An async caller on its own loop hops to the Workflow's private one.
        fake.values["final-2"] = "from asyncio.run"
        assert asyncio.run(map_reduce(wf, ["c"]).get()) == "from asyncio.run"
        thread = wf._runner._thread
        assert thread is not None and thread.is_alive()
    assert fake.requests[-1][0] == "DELETE"
    assert not thread.is_alive()


async def test_blocking_calls_inside_the_home_loop_are_refused(fake: FakeGateway) -> None:
    fake.values["final-0"] = "v"
    async with Workflow("http://gw", transport=fake.transport()) as wf:
        final = map_reduce(wf, ["a"])
        assert await final.get() == "v"
        with pytest.raises(RuntimeError, match="use the async form"):
            final.result()


def test_perf_is_checked() -> None:
    wf = offline()
    with pytest.raises(ValueError, match="perf must be"):
        map_reduce(wf, ["a"]).result(perf="fast")  # type: ignore[arg-type]
