"""Three agents (writer, critic, editor) over a few rounds, as one dataflow graph.

Each round the writer drafts (using the editor's last notes), the critic
reviews the draft, and the editor produces a revised text and notes for the
next round. Every output feeds the next call's input directly, so the Python
loop below builds all rounds without waiting; one fetch of the last revision
runs the whole conversation on the gateway with no client round trips
between turns.

Each role's template starts with the same team preamble followed by its own
fixed instructions: calls of a role share a long constant prefix, which the
gateway uses to send them to the same replica, where the prefix cache
serves it.

    semgate serve                    # in another terminal (simulated engines)
    python examples/agent_loop.py [--rounds 3] [--step-by-step]

`--step-by-step` fetches every turn before building the next one, as a
client driving the loop itself would, to compare the timings.
"""

# No `from __future__ import annotations`: the Output(...) annotations below use local
# values (command-line options), which string annotations could not see.
import argparse
import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any, TypeVar

from dataflow import Input, Output, SemanticVariable, Workflow

F = TypeVar("F", bound=Callable[..., Any])

TEAM = """\
You are one member of a three-person writing team: a writer, a critic and an editor.
The team writes one short piece of text on a topic over several rounds. The writer drafts,
the critic points out the weakest parts of the draft, and the editor revises the draft and
leaves notes for the writer's next round. Keep every answer short, concrete and on topic.
"""


def team_role(fn: F) -> F:
    """Prefix the role's template with the team preamble (a constant, shared prefix)."""
    fn.__doc__ = TEAM + inspect.cleandoc(fn.__doc__ or "")
    return fn


def declare(wf: Workflow, model: str, max_tokens: int) -> tuple[Any, Any, Any]:
    @wf.function(model=model)
    @team_role
    def write(topic: Input, notes: Input, draft: Output(max_tokens=max_tokens)):
        """
        Your role: the writer.
        Topic: {{topic}}
        Editor's notes from the last round: {{notes}}
        Draft: {{draft}}"""

    @wf.function(model=model)
    @team_role
    def criticize(topic: Input, draft: Input, critique: Output(max_tokens=max_tokens // 2)):
        """
        Your role: the critic.
        Topic: {{topic}}
        Draft: {{draft}}
        The three weakest points of the draft: {{critique}}"""

    @wf.function(model=model)
    @team_role
    def edit(draft: Input, critique: Input, revised: Output(max_tokens=max_tokens),
             notes: Output(max_tokens=max_tokens // 2)):
        """
        Your role: the editor.
        Draft: {{draft}}
        Critique: {{critique}}
        Revised text: {{revised}}
        Notes for the writer's next round: {{notes}}"""

    return write, criticize, edit


async def run(wf: Workflow, topic: str, rounds: int, model: str, max_tokens: int,
              step_by_step: bool) -> tuple[SemanticVariable, list[tuple[SemanticVariable, ...]]]:
    write, criticize, edit = declare(wf, model, max_tokens)
    topic_var = wf.variable(value=topic)  # one constant, shared by every round
    notes: str | SemanticVariable = "None yet: this is the first round."
    turns: list[tuple[SemanticVariable, ...]] = []
    revised: SemanticVariable | None = None
    for _ in range(rounds):
        draft = write(topic=topic_var, notes=notes)
        critique = criticize(topic=topic_var, draft=draft)
        revised, notes = edit(draft=draft, critique=critique)
        turns.append((draft, critique, revised, notes))
        if step_by_step:  # a client-driven loop: wait for each turn before the next
            for var in (draft, critique, revised, notes):
                await var.get()
    assert revised is not None
    return revised, turns


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://localhost:8080", help="the gateway (a trailing /v1 is fine)")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--model", default="auto", help="a model or route name (default: the 'auto' route)")
    parser.add_argument("--topic", default="why a small town should keep its old pier")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=60)
    parser.add_argument("--step-by-step", action="store_true", help="fetch each turn before building the next")
    args = parser.parse_args()

    async with Workflow(args.base_url, args.api_key) as wf:
        started = time.perf_counter()
        final, turns = await run(wf, args.topic, args.rounds, args.model, args.max_tokens, args.step_by_step)
        text = await final.get(perf="latency")
        elapsed = time.perf_counter() - started
        mode = "step by step (one fetch per turn)" if args.step_by_step else "as one graph"
        print(f"{args.rounds} rounds, {3 * args.rounds} calls, {mode}: {elapsed:.2f} s")

        values = await asyncio.gather(*(var.get() for turn in turns for var in turn))
        for round_no in range(args.rounds):
            draft, critique, revised, notes = values[4 * round_no : 4 * round_no + 4]
            print(f"--- round {round_no + 1}")
            print(f"writer:  {draft}")
            print(f"critic:  {critique}")
            print(f"editor:  {revised}")
            print(f"notes:   {notes}")
        print(f"=== final text: {text}")


if __name__ == "__main__":
    asyncio.run(main())
