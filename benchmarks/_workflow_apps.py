"""Parrot's four workloads, each declared once as a graph of templated calls.

An `App` is the application's dataflow: given variables (documents, role
prompts, queries) and calls, each call one template whose last placeholder is
its output. Every client runs the same `App`:

- the openai-SDK baselines render each prompt client-side (`render`) and send
  it as the single user message of a chat completion, which is exactly what
  the gateway does for a dataflow call (docs/dataflow.md), so both variants
  send the engines the same prompts and get the same answers;
- the dataflow client submits the variables and calls as they are.

Text is drawn from `_sim_cluster.WORDS` with a seeded RNG: one token per
word in the simulator's tokenizer, so sizes below are token counts there.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarks._sim_cluster import words

PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")
OUTPUT = "out"  # every call's single output placeholder, the template's last


@dataclass(frozen=True)
class Call:
    id: str
    template: str  # ends with "{{out}}"
    inputs: dict[str, str | list[str]]  # placeholder -> variable id(s); a list is joined by "\n"
    output: str  # the variable "{{out}}" fills
    max_tokens: int


@dataclass(frozen=True)
class App:
    name: str
    values: dict[str, str]  # the given variables
    calls: list[Call]  # in an order a sequential client can run them
    finals: list[str]  # the variables the application fetches
    depth: dict[str, int] = field(init=False)  # call id -> stage; a stage's calls are independent

    def __post_init__(self) -> None:
        stage_of: dict[str, int] = dict.fromkeys(self.values, -1)
        depth: dict[str, int] = {}
        for call in self.calls:
            sources = [v for ids in call.inputs.values() for v in ([ids] if isinstance(ids, str) else ids)]
            depth[call.id] = 1 + max(stage_of[v] for v in sources)
            stage_of[call.output] = depth[call.id]
        object.__setattr__(self, "depth", depth)

    def stages(self) -> list[list[Call]]:
        """The calls grouped by dependency depth: what a concurrent client can gather."""
        out: list[list[Call]] = [[] for _ in range(1 + max(self.depth.values()))]
        for call in self.calls:
            out[self.depth[call.id]].append(call)
        return out


def render(call: Call, values: Mapping[str, str]) -> str:
    """The prompt the gateway builds for the call: the template before its output, inputs filled in."""
    head = call.template[: call.template.index("{{" + OUTPUT + "}}")]

    def fill(match: re.Match[str]) -> str:
        ids = call.inputs[match.group(1)]
        return values[ids] if isinstance(ids, str) else "\n".join(values[v] for v in ids)

    return PLACEHOLDER.sub(fill, head)


@dataclass(frozen=True)
class Sizes:
    """Workload sizes in (simulator) tokens."""

    chain_chunks: int = 8
    chunk_tokens: int = 500
    chain_out: int = 50
    map_chunks: int = 16
    map_out: int = 50
    reduce_out: int = 50
    agents: int = 4
    rounds: int = 3
    team_tokens: int = 800  # shared by every role
    role_tokens: int = 200  # each role's own part of its prompt
    agent_out: int = 80
    system_tokens: int = 4000
    query_tokens: int = 30
    answer_tokens: int = 100
    batches: tuple[int, ...] = (8, 16, 32, 64)


FULL = Sizes()
QUICK = Sizes(chain_chunks=3, chunk_tokens=100, chain_out=8, map_chunks=4, map_out=8, reduce_out=8, agents=3,
              rounds=2, team_tokens=100, role_tokens=20, agent_out=8, system_tokens=300, query_tokens=10,
              answer_tokens=8, batches=(4, 8))
# The real SmolLM2 on this CPU generates ~12 tokens/s: small jobs.
REAL = Sizes(chain_chunks=4, chunk_tokens=150, chain_out=20, map_chunks=4, map_out=20, reduce_out=20)


def _chunks(rng: random.Random, tag: str, count: int, tokens: int) -> dict[str, str]:
    return {f"{tag}-{i}": f"Part {i} of the report: " + words(rng, tokens) for i in range(count)}


def chain(sizes: Sizes, seed: int = 1) -> App:
    """Refine summarisation: each step reads the summary so far and the next chunk."""
    rng = random.Random(seed)
    values = _chunks(rng, "chunk", sizes.chain_chunks, sizes.chunk_tokens)
    calls = [Call("refine-0", "Summarize the text.\n{{chunk}}\nSummary: {{out}}", {"chunk": "chunk-0"},
                  "summary-0", sizes.chain_out)]
    for i in range(1, sizes.chain_chunks):
        template = "Refine the summary with the new text.\nSummary so far: {{summary}}\nNew text: {{chunk}}\n" \
                   "Refined summary: {{out}}"
        calls.append(Call(f"refine-{i}", template, {"summary": f"summary-{i - 1}", "chunk": f"chunk-{i}"},
                          f"summary-{i}", sizes.chain_out))
    return App("chain", values, calls, [f"summary-{sizes.chain_chunks - 1}"])


def map_reduce(sizes: Sizes, seed: int = 2) -> App:
    """Summarise every chunk independently, then merge the summaries."""
    rng = random.Random(seed)
    values = _chunks(rng, "chunk", sizes.map_chunks, sizes.chunk_tokens)
    calls = [Call(f"map-{i}", "Summarize the text.\n{{chunk}}\nSummary: {{out}}", {"chunk": f"chunk-{i}"},
                  f"part-{i}", sizes.map_out) for i in range(sizes.map_chunks)]
    calls.append(Call("reduce", "Combine these summaries into one.\n{{parts}}\nCombined summary: {{out}}",
                      {"parts": [f"part-{i}" for i in range(sizes.map_chunks)]}, "summary", sizes.reduce_out))
    return App("map_reduce", values, calls, ["summary"])


def multi_agent(sizes: Sizes, seed: int = 3) -> App:
    """MetaGPT-like rounds: every role answers the others' last messages; roles share a long team brief."""
    rng = random.Random(seed)
    team = "You are on a software team. Project brief: " + words(rng, sizes.team_tokens)
    values = {f"role-{k}": f"{team}\nYour role, number {k}: " + words(rng, sizes.role_tokens)
              for k in range(sizes.agents)}
    values["task"] = "The task: " + words(rng, 40)
    calls = []
    for r in range(sizes.rounds):
        for k in range(sizes.agents):
            heard: str | list[str] = "task" if r == 0 else [f"msg-{r - 1}-{j}" for j in range(sizes.agents) if j != k]
            calls.append(Call(f"agent-{r}-{k}", "{{role}}\nRound " + str(r) + ". Messages:\n{{heard}}\nYour reply: "
                              "{{out}}", {"role": f"role-{k}", "heard": heard}, f"msg-{r}-{k}", sizes.agent_out))
    return App("multi_agent", values, calls, [f"msg-{sizes.rounds - 1}-{k}" for k in range(sizes.agents)])


def shared_prefix(sizes: Sizes, batch: int, seed: int = 4) -> App:
    """Bing-Copilot-like chat: a batch of user queries behind one long system prompt."""
    rng = random.Random(seed * 1000 + batch)  # a different system prompt per batch size: no cache across batches
    values = {"system": f"System prompt for batch {batch}: " + words(rng, sizes.system_tokens)}
    values.update({f"query-{i}": words(rng, sizes.query_tokens) for i in range(batch)})
    calls = [Call(f"chat-{i}", "{{system}}\nUser: {{query}}\nAssistant: {{out}}", {"system": "system",
                  "query": f"query-{i}"}, f"answer-{i}", sizes.answer_tokens) for i in range(batch)]
    return App(f"shared_prefix_{batch}", values, calls, [f"answer-{i}" for i in range(batch)])


def build(name: str, sizes: Sizes) -> list[App]:
    """The apps of one workload (shared_prefix: one per batch size)."""
    if name == "shared_prefix":
        return [shared_prefix(sizes, batch) for batch in sizes.batches]
    return [{"chain": chain, "map_reduce": map_reduce, "multi_agent": multi_agent}[name](sizes)]


WORKLOADS = ("chain", "map_reduce", "multi_agent", "shared_prefix")
