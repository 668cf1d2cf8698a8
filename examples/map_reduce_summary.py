"""Map-reduce summarisation as one dataflow graph.

Each chunk of a document is summarised by its own call, and one more call
merges the summaries. The client builds the whole graph in plain Python (no
I/O), then fetches the final summary: the gateway receives every call in one
request, runs the chunk summaries side by side, and starts the merge as soon
as the last one is done, with no client round trip in between.

    semgate serve                    # in another terminal (simulated engines)
    python examples/map_reduce_summary.py [--chunks 8] [--stream]
"""

# No `from __future__ import annotations`: the Output(...) annotations below use local
# values (command-line options), which string annotations could not see.
import argparse
import asyncio
import time
from pathlib import Path

from dataflow import Input, Output, Workflow

SAMPLE = """\
The harbour town grew around a single stone pier, built long before anyone now living could remember.
Fishing boats left before dawn and came back at noon, and the market on the pier sold what they caught
until the light went. When the railway arrived the town changed: visitors came for the summer, hotels went
up along the front, and the old net sheds became cafes. The fishermen complained, then rented their boats
to tourists for trips around the bay. Storms still came every winter and tore at the pier, and every spring
the town rebuilt what the sea had taken. Some years the repairs were small; once, half the pier was lost and
rebuilt in concrete, which the older residents never forgave. Today the market is smaller but still open,
the hotels are flats, and the visitors come mostly at weekends. The pier is a listed structure now, and a
committee argues each year about how to pay for its upkeep. Everyone agrees it must stay; nobody agrees who
should pay. The boats that remain fish less and carry visitors more, and their owners say this is the only
reason there are boats at all.
"""


def chunked(text: str, parts: int) -> list[str]:
    """Split text into about `parts` pieces on word boundaries."""
    words = text.split()
    size = max(1, -(-len(words) // parts))
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://localhost:8080", help="the gateway (a trailing /v1 is fine)")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--model", default="auto", help="a model or route name (default: the 'auto' route)")
    parser.add_argument("--file", type=Path, help="text to summarise (default: a built-in sample)")
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=60, help="per chunk summary; the merge gets twice that")
    parser.add_argument("--perf", choices=["latency", "throughput"], default="latency")
    parser.add_argument("--stream", action="store_true", help="print the final summary as it is generated")
    args = parser.parse_args()

    text = args.file.read_text() if args.file else SAMPLE
    chunks = chunked(text, args.chunks)

    async with Workflow(args.base_url, args.api_key) as wf:

        @wf.function(model=args.model)
        def summarize(chunk: Input, summary: Output(max_tokens=args.max_tokens)):
            """Summarize the text in one or two sentences.
            Text: {{chunk}}
            Summary: {{summary}}"""

        @wf.function(model=args.model)
        def merge(summaries: Input, final: Output(max_tokens=2 * args.max_tokens)):
            """These are summaries of consecutive parts of one document.
            Merge them into a single short summary.
            {{summaries}}
            Merged summary: {{final}}"""

        started = time.perf_counter()
        parts = [summarize(chunk=chunk) for chunk in chunks]  # futures: nothing sent yet
        final = merge(summaries=parts)  # a list input: the gateway joins the values with newlines
        print(f"built {len(parts) + 1} calls in {1e3 * (time.perf_counter() - started):.1f} ms, no I/O")

        if args.stream:
            print("final summary: ", end="", flush=True)
            async for piece in final.stream(perf=args.perf):
                print(piece, end="", flush=True)
            print()
        else:
            print(f"final summary: {await final.get(perf=args.perf)}")
        elapsed = time.perf_counter() - started
        print(f"end to end: {elapsed:.2f} s (one graph submission, session {wf.session_id})")

        # Everything upstream is ready now; fetch the chunk summaries together.
        values = await asyncio.gather(*(part.get() for part in parts))
        for i, (chunk, summary) in enumerate(zip(chunks, values)):
            print(f"  [{i}] {chunk[:50]}... -> {summary}")


if __name__ == "__main__":
    asyncio.run(main())
