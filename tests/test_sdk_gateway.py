"""The dataflow SDK end to end against a real gateway: in-process (the `bg`
loop) for the API, and `semgate serve` subprocesses for the examples."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dataflow import (
    APIError,
    CallFailed,
    Cancelled,
    Input,
    Output,
    SemanticVariable,
    VariableTimeout,
    Workflow,
)
from tests import support
from tests.conftest import REFUSED
from tests.support import BackgroundLoop, RunningGateway, free_socket
from tests.test_cli import start, wait_ready

ROOT = Path(__file__).resolve().parent.parent
MAX_CALLS = 16
CONFIG = {
    "server": {"health_interval_s": 60},
    "dataflow": {"max_calls_per_graph": MAX_CALLS},
    "models": [
        {"name": "sim", "engine": "sim", "sim": {"profile": "llama3-8b-h100", "speedup": 20}},
        # Real time, for work still running when it is cancelled.
        {"name": "slow", "engine": "sim", "sim": {"profile": "llama3-70b-h100x4"}},
        {"name": "down", "upstreams": [REFUSED]},
    ],
}


@pytest.fixture(scope="module")
def gateway(bg: BackgroundLoop) -> Iterator[RunningGateway]:
    running = bg.run(support.start_gateway(CONFIG))
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture
async def wf(gateway: RunningGateway) -> AsyncIterator[Workflow]:
    workflow = Workflow(gateway.base_url, api_key="sdk-test")  # the OpenAI-style /v1 URL is accepted
    yield workflow
    await workflow.aclose()


def declare(wf: Workflow, model: str = "sim") -> tuple:
    @wf.function(model=model)
    def summarize(chunk: Input, summary: Output(max_tokens=12)):
        """Summarize the text.\n{{chunk}}\nSummary: {{summary}}"""

    @wf.function(model=model)
    def merge(summaries: Input, final: Output(max_tokens=16)):
        """Merge these summaries.\n{{summaries}}\nMerged: {{final}}"""

    return summarize, merge


def session_of(gateway: RunningGateway, wf: Workflow) -> dict:
    executor = gateway.gateway.dataflow
    session = next(s for s in executor.sessions.values() if s.id == wf.session_id)
    return executor.describe(session)


async def test_map_reduce(gateway: RunningGateway, wf: Workflow) -> None:
    summarize, merge = declare(wf)
    parts = [summarize(chunk=f"part {i}: " + "words of the document " * 10) for i in range(4)]
    final = merge(summaries=parts)
    value = await final.get(perf="latency", timeout=30)
    assert value and final.value == value
    state = session_of(gateway, wf)
    assert set(state["calls"]) == {"summarize-0", "summarize-1", "summarize-2", "summarize-3", "merge-0"}
    assert all(c["status"] == "done" and c["perf"] == "latency" for c in state["calls"].values())
    # Every input had a value when the merge ran; fetching them now needs no work.
    assert all(await asyncio.gather(*(part.get(timeout=5) for part in parts)))


async def test_chain_runs_with_the_fetch_objective(gateway: RunningGateway, wf: Workflow) -> None:
    @wf.function(model="sim", seed=1)
    def refine(draft: Input, chunk: Input, better: Output(max_tokens=8, temperature=0.5)):
        """Improve the draft.\nDraft: {{draft}}\nNew text: {{chunk}}\nImproved: {{better}}"""

    draft: SemanticVariable | str = "nothing yet"
    for i in range(5):
        draft = refine(draft, chunk=f"chunk {i}")
    assert isinstance(draft, SemanticVariable)
    assert await draft.get(perf="throughput", timeout=30)
    calls = session_of(gateway, wf)["calls"]
    assert [calls[f"refine-{i}"]["status"] for i in range(5)] == ["done"] * 5
    assert {c["perf"] for c in calls.values()} == {"throughput"}


async def test_multiple_outputs(wf: Workflow) -> None:
    @wf.function(model="sim")
    def plan(goal: Input, steps: Output(max_tokens=10), risks: Output(max_tokens=6)):
        """Goal: {{goal}}\nSteps: {{steps}}\nRisks: {{risks}}"""

    steps, risks = plan(goal="ship the release")
    assert (steps.id, risks.id) == ("steps-0", "risks-0")
    both = await asyncio.gather(risks.get(timeout=30), steps.get(timeout=30))
    assert all(both) and both[0] != both[1]


async def test_stream_pieces_add_up_to_the_value(wf: Workflow) -> None:
    summarize, merge = declare(wf)
    final = merge(summaries=[summarize(chunk="one"), summarize(chunk="two")])
    pieces = [piece async for piece in final.stream(perf="latency")]
    assert len(pieces) > 1 and "".join(pieces) == final.value == await final.get()
    # A variable that is ready already streams as one piece.
    assert [piece async for piece in final.stream()] == [final.value]


def test_sync_result_from_plain_code(gateway: RunningGateway) -> None:
    assert threading.current_thread() is threading.main_thread()
    with Workflow(gateway.url, api_key="sdk-test") as wf:
        summarize, merge = declare(wf)
        final = merge(summaries=[summarize(chunk=c) for c in ("a", "b", "c")])
        value = final.result(perf="latency", timeout=30)
        assert value and "".join(final.iter_stream()) == value
        sid = wf.session_id
    assert sid is not None and all(s.id != sid for s in gateway.gateway.dataflow.sessions.values())  # freed


async def test_failed_call_names_the_cause(wf: Workflow) -> None:
    summarize, _ = declare(wf, model="down")
    _, merge = declare(wf)
    final = merge(summaries=[summarize(chunk="x")])
    with pytest.raises(CallFailed) as caught:
        await final.get(timeout=30)
    assert caught.value.status == 424 and "summarize-0" in caught.value.message


async def test_a_graph_over_the_limit_is_refused_whole(wf: Workflow) -> None:
    summarize, merge = declare(wf)
    final = merge(summaries=[summarize(chunk=str(i)) for i in range(MAX_CALLS)])
    with pytest.raises(APIError) as caught:
        await final.get()
    assert caught.value.status == 400 and f"the limit is {MAX_CALLS}" in caught.value.message
    assert wf.session_id is None  # created with the graph, so not created at all
    assert await summarize(chunk="after").get(timeout=30)


async def test_an_empty_variable_waits_for_set(wf: Workflow) -> None:
    summarize, _ = declare(wf)
    question = wf.variable(id="question")
    answer = summarize(chunk=question)
    with pytest.raises(VariableTimeout):
        await answer.get(timeout=0.3)
    await wf.set(question, "now it has a value")  # PUT: its graph was sent by the fetch
    assert await answer.get(timeout=30)


async def test_cancel_stops_running_work(gateway: RunningGateway, wf: Workflow) -> None:
    @wf.function(model="slow", ignore_eos=True)
    def ramble(topic: Input, text: Output(max_tokens=2000)):
        """Write at length about {{topic}}: {{text}}"""

    text = ramble(topic="the sea")
    await wf.submit(lazy=False)
    fetch = asyncio.ensure_future(text.get(timeout=30))
    await asyncio.sleep(0.3)
    assert not fetch.done()
    sid = wf.session_id
    await wf.cancel()
    with pytest.raises(Cancelled):
        await fetch
    assert all(s.id != sid for s in gateway.gateway.dataflow.sessions.values())
    with pytest.raises(Cancelled):
        ramble(topic="again")


# ---- the examples, against `semgate serve` ------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    proc = start([], port)
    try:
        wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def run_example(name: str, *args: str) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, time.monotonic() - started


def test_map_reduce_example(served: str) -> None:
    out, _ = run_example("map_reduce_summary.py", "--base-url", served + "/v1", "--chunks", "3", "--max-tokens", "12")
    assert "built 4 calls" in out and "final summary: " in out and "one graph submission" in out
    assert out.count("  [") == 3
    streamed, _ = run_example("map_reduce_summary.py", "--base-url", served, "--chunks", "3", "--max-tokens", "12",
                              "--stream", "--perf", "throughput")
    assert "final summary: " in streamed


def test_agent_loop_example(served: str) -> None:
    out, _ = run_example("agent_loop.py", "--base-url", served, "--rounds", "2", "--max-tokens", "16")
    assert "2 rounds, 6 calls, as one graph" in out
    assert out.count("--- round") == 2 and "=== final text: " in out
    step, _ = run_example("agent_loop.py", "--base-url", served, "--rounds", "1", "--max-tokens", "16",
                          "--step-by-step")
    assert "1 rounds, 3 calls, step by step" in step
