"""Routing benchmark (issue #4).

    python -m benchmarks.routing            # full run, about two minutes
    python -m benchmarks.routing --quick    # smoke test
    python -m benchmarks.routing --only cluster

Parts, each in its own module with `run(quick) -> dict` and `table(dict) -> str`:
  quality  (_routing_quality)  the learned router's cost/quality curve on held-out
           MMLU subjects: APGR, CPT(50%), CPT(80%) against random; decision latency
  cluster  (_routing_cluster)  4 simulated replicas under skewed load and shared-prefix
           traffic: p50/p99 latency and prefix-cache hit rate, round robin vs Semgate
Prints a table per part and writes benchmarks/results/routing.json with every
number and a `targets` section. Exit status 0 when every part ran (targets met
or not), 1 when a part failed to run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

PARTS = {"quality": "benchmarks._routing_quality", "cluster": "benchmarks._routing_cluster"}
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "routing.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.routing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts ({', '.join(PARTS)})")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    args = parser.parse_args(argv)
    wanted = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(wanted) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    result: dict[str, Any] = {
        "benchmark": "routing",
        "machine": {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "platform": platform.platform(),
                    "python": platform.python_version()},
        "quick": args.quick,
        "parts": {},
        "targets": {},
    }
    failed = False
    for part in wanted:
        module = importlib.import_module(PARTS[part])
        print(f"[routing] {part} ...", file=sys.stderr, flush=True)
        try:
            outcome = module.run(quick=args.quick)
        except Exception:  # report the part as failed, still write what the others measured
            failed = True
            result["parts"][part] = {"status": "failed", "error": traceback.format_exc(limit=5)}
            print(traceback.format_exc(), file=sys.stderr)
            continue
        result["parts"][part] = outcome
        result["targets"].update(outcome.get("targets", {}))
        print(f"\n== {part} ==\n{module.table(outcome)}")

    print("\ntargets:")
    for name, verdict in result["targets"].items():
        state = {True: "MET", False: "MISSED", None: "n/a"}[verdict.get("met")]
        print(f"  {state:<7} {name}: {verdict.get('value')} (target {verdict.get('target')})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
