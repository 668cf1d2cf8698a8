"""The three ways the benchmark runs an `App` through the gateway.

- `sequential`: the openai SDK, one call at a time, as LangChain would: each
  call's prompt rendered client-side once its inputs have come back.
- `concurrent`: the openai SDK, with the independent calls of each stage
  (map steps, agents of a round, a chat batch) sent together (asyncio.gather).
- `dataflow`: the whole graph submitted to the gateway's dataflow API with the
  dataflow SDK; the final variables fetched with a `perf` objective.

All share the gateway, the model, the prompts, temperature 0 and fixed-length
outputs (`ignore_eos`), and pay the same simulated round trip per HTTP request
(`RttTransport`). Each returns an `Outcome`: the final values and when each came
back to the client, plus how many HTTP requests it made.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from benchmarks._workflow_apps import OUTPUT, App, Call, render
from benchmarks._workflow_env import MODEL, RttTransport

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


def graph_of(app: App) -> dict[str, Any]:
    """The app as a dataflow graph (docs/dataflow.md)."""
    calls = [{"id": call.id, "model": MODEL, "template": call.template, "inputs": call.inputs,
              "outputs": {OUTPUT: {"id": call.output, "max_tokens": call.max_tokens}},
              "params": PARAMS} for call in app.calls]
    variables = [{"id": var, "value": value} for var, value in app.values.items()]
    return {"variables": variables, "calls": calls, "lazy": True}


async def _dataflow_http(app: App, base_url: str, rtt_s: float, perf: str) -> Outcome:
    """The dataflow variant over the raw HTTP API: one POST (session + graph), one GET per final value."""
    transport = RttTransport(rtt_s)
    outcome = Outcome()
    async with httpx.AsyncClient(transport=transport, base_url=f"{base_url}/dataflow/v1", timeout=TIMEOUT_S) as http:
        clock = _Clock(app, outcome)
        created = await http.post("/sessions", json={"graph": graph_of(app)})
        created.raise_for_status()
        sid = created.json()["id"]

        async def fetch(var: str) -> None:
            reply = await http.get(f"/sessions/{sid}/variables/{var}", params={"perf": perf, "timeout": 300})
            reply.raise_for_status()
            clock.record(var, reply.json()["value"])

        try:
            await asyncio.gather(*(fetch(var) for var in app.finals))
        finally:
            outcome.requests = transport.requests
            await http.delete(f"/sessions/{sid}")
    return outcome


def dataflow(perf: str) -> Runner:
    async def run(app: App, base_url: str, rtt_s: float) -> Outcome:
        return await _dataflow_http(app, base_url, rtt_s, perf)

    return run


VARIANTS: dict[str, Runner] = {
    "sequential": sequential,
    "concurrent": concurrent,
    "dataflow": dataflow("latency"),
    "dataflow_throughput": dataflow("throughput"),
}
