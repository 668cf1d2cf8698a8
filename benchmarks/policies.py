"""Inline policies: how well the guard, PII and uncertainty policies judge, and what they cost.

    python -m benchmarks.policies                 # every part (~10-20 minutes; rps waits for a quiet machine)
    python -m benchmarks.policies --quick         # smoke test (tests/test_bench_policies.py)
    python -m benchmarks.policies --only rps,speculative

Parts: `guards` (the embedded guard on the OpenAI moderation test splits and
XSTest: F1, precision, recall, FPR, latency), `pii` (redaction latency),
`uncertainty` (AUROC per confidence signal), `rps` (the gateway's RPS with
the embedded input guard, PII redaction, both, or nothing; wrk against the
instant upstream, as benchmarks/overhead.py) and `speculative` (streaming time
to first token with a Llama Guard sim run first, speculatively, or not at
all). Writes benchmarks/results/policies.json; see benchmarks/README.md.
Exit status 1 when a part could not run or answered errors, else 0 (targets
missed or not: it is a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _policies_quality, _policies_report, _policies_rps, _policies_ttft, _report
from benchmarks._load import LoadError
from benchmarks._policies_gateway import log
from benchmarks._procs import CpuPlan, ServiceError, plan_cpus

PARTS = ("guards", "pii", "uncertainty", "rps", "speculative")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "policies.json"


@dataclass(frozen=True)
class Settings:
    quick: bool
    rps: _policies_rps.RpsSettings
    ttft: _policies_ttft.TtftSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.policies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, no waiting for a quiet machine (smoke test)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--duration", type=float, help="seconds per wrk point (default 6, quick 2)")
    parser.add_argument("--rounds", type=int, help="rps rounds over the five gateways (default 5, quick 1)")
    parser.add_argument("--quiet-wait", type=float,
                        help="seconds rps waits for a load average below 1 (default 600, quick 0)")
    parser.add_argument("--ttft-requests", type=int, help="streaming requests per speculative variant "
                        "(default 200, quick 10)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write results (default {DEFAULT_JSON})")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    rps = _policies_rps.RpsSettings(
        duration_s=args.duration or (2.0 if quick else 6.0),
        warmup_s=1.0 if quick else 2.0,
        rounds=args.rounds or (1 if quick else 5),
        prompts=500,
        quiet_wait_s=args.quiet_wait if args.quiet_wait is not None else (0.0 if quick else 600.0),
    )
    ttft = _policies_ttft.TtftSettings(requests=args.ttft_requests or (10 if quick else 200), max_tokens=4,
                                       blocked=2 if quick else 5)
    return Settings(quick=quick, rps=rps, ttft=ttft)


def selected(only: str) -> list[str]:
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = set(wanted) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts: {', '.join(sorted(unknown))} (choose from {', '.join(PARTS)})")
    return [name for name in PARTS if name in wanted]


# --- the parts ------------------------------------------------------------------------


def guards(settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    del cpus  # in this process, which runs on one (the load) core
    from benchmarks import _policies_guards

    return _policies_guards.run(settings.quick)


def pii(settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    del cpus
    return _policies_quality.run_pii(settings.quick)


def uncertainty(settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    del cpus
    return _policies_quality.run_uncertainty(settings.quick)


def rps(settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    part = _policies_rps.run(settings.rps, cpus)
    part["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return part


def speculative(settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    return _policies_ttft.run(settings.ttft, cpus)


RUNNERS: dict[str, Callable[[Settings, CpuPlan], dict[str, Any]]] = {
    "guards": guards, "pii": pii, "uncertainty": uncertainty, "rps": rps, "speculative": speculative,
}


def run_part(name: str, settings: Settings, cpus: CpuPlan) -> dict[str, Any]:
    log(f"part {name}")
    started = time.monotonic()
    try:
        part = RUNNERS[name](settings, cpus)
    except (ServiceError, LoadError, OSError, subprocess.SubprocessError, ImportError) as exc:
        log(f"{name} failed: {exc}")
        part = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}", "error": traceback.format_exc(limit=5)}
    part["seconds"] = round(time.monotonic() - started, 1)
    return part


# --- main -----------------------------------------------------------------------------


def pin_self() -> CpuPlan:
    """This script (so wrk and the clients) on the load cores; gateways go on the server core."""
    cpus = plan_cpus()
    os.sched_setaffinity(0, cpus.load)
    log(f"gateways on cores {sorted(cpus.server)}; wrk, upstream, clients and in-process parts on {sorted(cpus.load)}")
    return cpus


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop every started server
    settings, names = settings_from(args), selected(args.only)
    cpus = pin_self()
    document: dict[str, Any] = {
        "benchmark": "policies",
        "machine": _report.machine_info(),
        "settings": {"quick": settings.quick, "parts": names, "rps": settings.rps.__dict__,
                     "speculative": settings.ttft.__dict__},
        "cpu_pinning": cpus.describe(),
    }
    parts = {name: run_part(name, settings, cpus) for name in names}
    document["parts"] = parts
    document["targets"] = _policies_report.evaluate_targets(parts)
    document["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for name, part in parts.items():
        print(_policies_report.format_part(name, part))
        print()
    print(_policies_report.format_targets(document["targets"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    bad = [name for name, part in parts.items() if part.get("status") in ("failed", "invalid")]
    if bad:
        log(f"parts that failed or answered errors: {', '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
