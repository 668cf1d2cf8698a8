"""The three ways the benchmark runs an `App` through the gateway.

- `sequential`: the openai SDK, one call at a time, as LangChain would: each
  call's prompt rendered client-side once its inputs have come back.
- `concurrent`: the openai SDK, with the independent calls of each stage
  (map steps, agents of a round, a chat batch) sent together (asyncio.gather).
- `dataflow`: the whole graph declared with the dataflow SDK (`dataflow.Workflow`),
  sent to the gateway in one request, the final variables fetched with a `perf`
  objective.

All share the gateway, the model, the prompts, temperature 0 and fixed-length
outputs (`ignore_eos`), and pay the same simulated round trip per HTTP request
(`RttTransport`). Each returns an `Outcome`: the final values and when each came
back to the client, plus how many HTTP requests it made.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from benchmarks._workflow_apps import OUTPUT, App, Call, render
from benchmarks._workflow_env import MODEL, RttTransport
from dataflow import Input, Output, SemanticFunction, SemanticVariable, Workflow
from dataflow.sdk.variable import Perf

TIMEOUT_S = 600.0
PARAMS: dict[str, Any] = {"temperature": 0, "ignore_eos": True}  # the same for every variant


@dataclass
class Outcome:
    values: dict[str, str] = field(default_factory=dict)  # final variable -> its text
    done_at: dict[str, float] = field(default_factory=dict)  # final variable -> seconds after the start
    requests: int = 0  # HTTP requests the client made (each paid one round trip)

    @property
    def jct_s(self) -> float:
        """Job completion time: until the last final value was back."""
        return max(self.done_at.values())

    @property
    def latency_s(self) -> float:
        """Mean end-to-end latency of the final values (one value: the JCT)."""
        return sum(self.done_at.values()) / len(self.done_at)


Runner = Callable[[App, str, float], Coroutine[Any, Any, Outcome]]


class _Clock:
    def __init__(self, app: App, outcome: Outcome) -> None:
        self.finals = set(app.finals)
        self.outcome = outcome
        self.start = time.perf_counter()

    def record(self, var: str, value: str) -> None:
        if var in self.finals:
            self.outcome.values[var] = value
            self.outcome.done_at[var] = time.perf_counter() - self.start


async def _openai_run(app: App, base_url: str, rtt_s: float, staged: bool) -> Outcome:
    transport = RttTransport(rtt_s)
    http = httpx.AsyncClient(transport=transport, timeout=TIMEOUT_S)
    client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="unused", http_client=http, max_retries=0)
    values = dict(app.values)
    outcome = Outcome()

    async def one(call: Call) -> None:
        reply = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": render(call, values)}],
            max_tokens=call.max_tokens, temperature=PARAMS["temperature"],
            extra_body={"ignore_eos": PARAMS["ignore_eos"]})
        values[call.output] = reply.choices[0].message.content or ""
        clock.record(call.output, values[call.output])

    try:
        clock = _Clock(app, outcome)
        if staged:
            for stage in app.stages():
                await asyncio.gather(*(one(call) for call in stage))
        else:
            for call in app.calls:
                await one(call)
    finally:
        await client.close()
    outcome.requests = transport.requests
    return outcome


async def sequential(app: App, base_url: str, rtt_s: float) -> Outcome:
    return await _openai_run(app, base_url, rtt_s, staged=False)


async def concurrent(app: App, base_url: str, rtt_s: float) -> Outcome:
    return await _openai_run(app, base_url, rtt_s, staged=True)


# ---- dataflow -------------------------------------------------------------------------


def _function(wf: Workflow, call: Call, made: dict[tuple[Any, ...], SemanticFunction]) -> SemanticFunction:
    """The semantic function for a call's template, as an application would declare it:

        @wf.function(model=MODEL, temperature=0, ignore_eos=True)
        def refine(summary: Input, chunk: Input, out: Output(max_tokens=50)):
            \"\"\"<the template>\"\"\"

    built from the `App` so that both clients run the very same templates. One per distinct template.
    """
    key = (call.template, tuple(call.inputs), call.max_tokens)
    if key not in made:
        def declared() -> None: ...

        declared.__doc__ = call.template
        declared.__name__ = declared.__qualname__ = call.id.rsplit("-", 1)[0]
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        declared.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(name, kind, annotation=Input) for name in call.inputs]
            + [inspect.Parameter(OUTPUT, kind, annotation=Output(max_tokens=call.max_tokens))])
        made[key] = wf.function(model=MODEL, **PARAMS)(declared)
    return made[key]


async def _dataflow_run(app: App, base_url: str, rtt_s: float, perf: Perf) -> Outcome:
    """Declare everything (no I/O), then fetch the finals together: the SDK sends the graph
    with the first fetch (creating the session in the same request), then one GET per final."""
    transport = RttTransport(rtt_s)
    outcome = Outcome()
    wf = Workflow(base_url, transport=transport, timeout=TIMEOUT_S)
    try:
        clock = _Clock(app, outcome)
        variables: dict[str, SemanticVariable] = {var: wf.variable(var, value) for var, value in app.values.items()}
        made: dict[tuple[Any, ...], SemanticFunction] = {}
        for call in app.calls:
            arguments = {name: variables[ids] if isinstance(ids, str) else [variables[v] for v in ids]
                         for name, ids in call.inputs.items()}
            produced = _function(wf, call, made)(**arguments)
            assert isinstance(produced, SemanticVariable)
            variables[call.output] = produced

        async def fetch(var: str) -> None:
            clock.record(var, await variables[var].get(perf=perf, timeout=TIMEOUT_S))

        await asyncio.gather(*(fetch(var) for var in app.finals))
        outcome.requests = transport.requests
    finally:
        await wf.aclose()
    return outcome


def dataflow(perf: Perf) -> Runner:
    async def run(app: App, base_url: str, rtt_s: float) -> Outcome:
        return await _dataflow_run(app, base_url, rtt_s, perf)

    return run


VARIANTS: dict[str, Runner] = {
    "sequential": sequential,
    "concurrent": concurrent,
    "dataflow": dataflow("latency"),
    "dataflow_throughput": dataflow("throughput"),
}
