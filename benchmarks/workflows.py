"""Workflow benchmark: Parrot's applications, one call at a time vs the dataflow API.

    python -m benchmarks.workflows                 # full run, a few minutes
    python -m benchmarks.workflows --quick         # smoke test
    python -m benchmarks.workflows --only chain,map_reduce   # sim workloads only
    python -m benchmarks.workflows --only real               # the real vLLM part only

Four applications (benchmarks/_workflow_apps.py): chain summarisation (refine),
map-reduce summarisation, multi-agent rounds, and chat behind a long shared
system prompt (batch 8-64). Each runs through one `semgate serve` in front of
simulated GPU replicas (llama3-8b-h100, real time), with a simulated 250 ms
client<->gateway round trip on every HTTP request, as:

  sequential           the openai SDK, one call at a time (as LangChain would): the baseline
  concurrent           the openai SDK, independent calls of a stage gathered
  dataflow             the dataflow API: the whole graph at once, finals fetched with perf=latency
  dataflow_throughput  (chat only) the same, fetched with perf=throughput

Each variant gets a fresh cluster and gateway, so none inherits another's
prefix cache. Reported per application and variant: end-to-end latency (mean
over the final values), job completion time, the engines' prefix-cache hit
rate, HTTP requests made; speedups = sequential / dataflow latency (and vs
concurrent); whether every variant produced the same text. `--real` also runs
chain and map-reduce on the real SmolLM2 vLLM (CPU), which the full run does
whenever .venv-vllm and the model are there. Writes
benchmarks/results/workflows.json; exit status 1 when something failed to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import uvloop

from benchmarks import _workflow_apps as apps
from benchmarks._report import _fmt, _render, machine_info
from benchmarks._workflow_clients import VARIANTS, Outcome
from benchmarks._workflow_env import ROOT, Gateway, SimCluster, counters, sim_model, vllm_model

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "workflows.json"
PROFILE = "llama3-8b-h100"
TARGETS = {  # Parrot's artifact ratios against vLLM
    "chain_speedup": ("chain", 1.3),
    "map_reduce_speedup": ("map_reduce", 2.0),
    "multi_agent_speedup": ("multi_agent", 2.4),
    "shared_prefix_speedup": ("shared_prefix_{batch}", 1.6),
}
PARTS = (*apps.WORKLOADS, "real")
VARIANT_NOTES = {
    "sequential": "openai SDK, one call at a time (the issue's baseline)",
    "concurrent": "openai SDK, each stage's independent calls gathered",
    "dataflow": "dataflow SDK: whole graph in one request, finals fetched with perf=latency",
    "dataflow_throughput": "the same, fetched with perf=throughput (shared_prefix only)",
}
REAL_REPEATS = 3
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
VLLM_MODEL = ROOT / ".models" / "smollm2-135m-instruct"


def _row(outcome: Outcome, before: dict[str, float], after: dict[str, float] | None, cpu_s: float) -> dict[str, Any]:
    row: dict[str, Any] = {"latency_s": round(outcome.latency_s, 3), "jct_s": round(outcome.jct_s, 3),
                           "requests": outcome.requests, "gateway_cpu_s": round(cpu_s, 3)}
    if after is not None:
        queries = after["queries"] - before["queries"]
        row["prefix_hit_rate"] = round((after["hits"] - before["hits"]) / queries, 4) if queries else None
        row["engine_lag_s"] = round(after["lag_s"] - before["lag_s"], 3)
    return row


async def _run_apps(variant: str, todo: list[apps.App], gw: Gateway, rtt_s: float,
                    engines: list[str]) -> dict[str, tuple[dict[str, Any], Outcome]]:
    """Run `todo` one app after another; the engines' counters and the gateway's CPU time around each."""
    out = {}
    for app in todo:
        before = await counters(engines) if engines else {}
        cpu = gw.cpu_s()
        outcome = await VARIANTS[variant](app, gw.url, rtt_s)
        await asyncio.sleep(0.1)  # the counters of the last step
        cpu = gw.cpu_s() - cpu
        after = await counters(engines) if engines else None
        out[app.name] = (_row(outcome, before, after, cpu), outcome)
        print(f"[workflows] {variant:<20} {app.name:<17} {outcome.latency_s:7.2f} s", file=sys.stderr, flush=True)
    return out


def run_sim(workloads: list[str], sizes: apps.Sizes, rtt_s: float, replicas: int) -> dict[str, Any]:
    """Every variant on a fresh cluster and gateway; per app: rows, speedups, output agreement."""
    todo = {name: apps.build(name, sizes) for name in workloads}
    plan = [(variant, [app for name, built in todo.items() for app in built
                       if variant != "dataflow_throughput" or name == "shared_prefix"]) for variant in VARIANTS]
    rows: dict[str, dict[str, Any]] = {}
    texts: dict[str, dict[str, dict[str, str]]] = {}
    for variant, selected in plan:
        if not selected:
            continue
        try:
            with SimCluster(replicas, PROFILE) as cluster, Gateway(sim_model(cluster.urls)) as gw:
                done = uvloop.run(_run_apps(variant, selected, gw, rtt_s, cluster.urls))
        except Exception as exc:  # recorded; the other variants still run
            print(traceback.format_exc(), file=sys.stderr)
            for app in selected:
                rows.setdefault(app.name, {})[variant] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            continue
        for name, (row, outcome) in done.items():
            rows.setdefault(name, {})[variant] = row
            texts.setdefault(name, {})[variant] = outcome.values
    for name, variants in rows.items():
        variants.update(_speedups(variants))
        reference = texts.get(name, {}).get("sequential")
        variants["outputs_match"] = {v: t == reference for v, t in texts.get(name, {}).items()
                                     if v != "sequential" and reference is not None}
    return rows


def failures(rows: dict[str, Any]) -> list[str]:
    return [f"{name}/{variant}: {row['error']}" for name, variants in rows.items()
            for variant, row in variants.items() if isinstance(row, dict) and row.get("status") == "failed"]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _speedups(variants: dict[str, Any]) -> dict[str, Any]:
    seq, conc, flow = (variants.get(v, {}) for v in ("sequential", "concurrent", "dataflow"))
    return {
        "speedup": _ratio(seq.get("latency_s"), flow.get("latency_s")),
        "jct_speedup": _ratio(seq.get("jct_s"), flow.get("jct_s")),
        "speedup_vs_concurrent": _ratio(conc.get("latency_s"), flow.get("latency_s")),
    }


async def _real_runs(gw: Gateway, rtt_s: float) -> dict[str, dict[str, Any]]:
    engines = gw.engine_urls()
    warm = apps.chain(apps.Sizes(chain_chunks=1, chunk_tokens=20, chain_out=4), seed=99)
    await _run_apps("sequential", [warm], gw, 0.0, [])  # vLLM's first request is slow
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    # A CPU shared with anything else is noisy, and its load drifts: REAL_REPEATS rounds, each running
    # the two variants of an app back to back (which goes first alternates), each on fresh documents
    # of the same sizes (no run hits another's prefix cache). Reported: medians, and the speedup as the
    # median of the per-round ratios.
    for rep in range(REAL_REPEATS):
        for index, build in enumerate((apps.chain, apps.map_reduce)):
            order = ("sequential", "dataflow") if (rep + index) % 2 == 0 else ("dataflow", "sequential")
            for variant in order:
                app = build(apps.REAL, 100 * rep + 10 * index + order.index(variant))
                row, _ = (await _run_apps(variant, [app], gw, rtt_s, engines))[app.name]
                row.pop("engine_lag_s")  # a sim-only series
                runs.setdefault(app.name, {}).setdefault(variant, []).append(row)
    rows: dict[str, dict[str, Any]] = {}
    for name, variants in runs.items():
        for variant, measured in sorted(variants.items(), reverse=True):  # sequential first, whichever ran first
            rows.setdefault(name, {})[variant] = {
                **{key: _median([row[key] for row in measured]) for key in measured[0] if key != "requests"},
                "requests": measured[0]["requests"], "latency_runs_s": [row["latency_s"] for row in measured]}
        ratios = [seq / flow for seq, flow in zip(rows[name]["sequential"]["latency_runs_s"],
                                                  rows[name]["dataflow"]["latency_runs_s"])]
        rows[name].update(_speedups(rows[name]), speedup=round(statistics.median(ratios), 2),
                          speedup_runs=[round(ratio, 2) for ratio in ratios])
    return rows


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.median(known), 4) if known else None


def run_real(rtt_s: float) -> dict[str, Any]:
    """Chain and map-reduce on the real SmolLM2 vLLM (CPU) behind one gateway, medians of REAL_REPEATS runs."""
    if not (VLLM_PYTHON.exists() and (VLLM_MODEL / "config.json").exists()):
        return {"status": "skipped", "reason": "no .venv-vllm or .models/smollm2-135m-instruct "
                                               "(bash scripts/setup-vllm.sh)"}
    with Gateway(vllm_model(str(VLLM_MODEL), str(VLLM_PYTHON)), ready_timeout=600) as gw:
        rows = uvloop.run(_real_runs(gw, rtt_s))
    return {"status": "ok", "sizes": vars(apps.REAL), "apps": rows}


def _targets(rows: dict[str, Any], sizes: apps.Sizes) -> dict[str, Any]:
    out = {}
    for key, (app, limit) in TARGETS.items():
        name = app.format(batch=max(sizes.batches))
        value = rows.get(name, {}).get("speedup")
        out[key] = {"app": name, "value": value, "target": f">= {limit}",
                    "met": None if value is None else value >= limit}
    return out


def table(rows: dict[str, Any]) -> str:
    header = ["app", "variant", "latency s", "JCT s", "requests", "hit rate", "lag s", "gw CPU s", "speedup",
              "same text"]
    lines = []
    for name, variants in rows.items():
        for variant, row in variants.items():
            if isinstance(row, dict) and row.get("status") == "failed":
                lines.append([name, variant, "FAILED", "", "", "", "", "", "", row["error"][:60]])
            if not isinstance(row, dict) or "latency_s" not in row:
                continue
            hit = row.get("prefix_hit_rate")
            speed = variants.get("speedup") if variant == "dataflow" else \
                _ratio(variants.get("sequential", {}).get("latency_s"), row["latency_s"])
            same = variants.get("outputs_match", {}).get(variant)
            lines.append([name, variant, _fmt(row["latency_s"]), _fmt(row["jct_s"]), _fmt(row["requests"]),
                          "-" if hit is None else f"{hit:.1%}", _fmt(row.get("engine_lag_s")),
                          _fmt(row.get("gateway_cpu_s")), _fmt(speed),
                          {True: "yes", False: "NO", None: ""}[same]])
    return _render(header, lines)


def _headline(rows: dict[str, Any], real: dict[str, Any], sizes: apps.Sizes) -> dict[str, float | None]:
    """The issue's ratios: vs one call at a time, and (extra) vs the concurrent client."""
    out: dict[str, float | None] = {}
    for key, target in _targets(rows, sizes).items():
        out[key] = rows.get(target["app"], {}).get("speedup")
        out[key + "_vs_concurrent"] = rows.get(target["app"], {}).get("speedup_vs_concurrent")
    out["real_chain_speedup"] = real.get("chain", {}).get("speedup")
    out["real_map_reduce_speedup"] = real.get("map_reduce", {}).get("speedup")
    return out


def summary(rows: dict[str, Any], targets: dict[str, Any]) -> str:
    header = ["app", "same text", "sequential s", "concurrent s", "dataflow s", "speedup", "JCT speedup",
              "vs concurrent", "target"]
    verdicts = {t["app"]: f"{t['target']} {'MET' if t['met'] else 'MISSED'}" for t in targets.values()
                if t["met"] is not None}
    lines = []
    for name, v in rows.items():
        same = v.get("outputs_match", {}).values()
        latencies = (_fmt(v.get(variant, {}).get("latency_s")) for variant in ("sequential", "concurrent", "dataflow"))
        lines.append([name, ("yes" if all(same) else "NO") if same else "-", *latencies,
                      _fmt(v.get("speedup")), _fmt(v.get("jct_speedup")), _fmt(v.get("speedup_vs_concurrent")),
                      verdicts.get(name, "")])
    return _render(header, lines)


def report(result: dict[str, Any]) -> str:
    rows, real = result["apps"] if "status" not in result["apps"] else {}, result["real"]
    parts = [table(rows), summary(rows, result["targets"])] if rows else []
    if real.get("apps"):
        parts.append("real SmolLM2 vLLM (CPU):\n" + table(real["apps"]))
    elif "reason" in real or "error" in real:
        parts.append(f"real vLLM part {real['status']}: {real.get('reason') or real.get('error')}")
    lines = ["targets (speedup = sequential / dataflow end-to-end latency, mean over an app's final values):"]
    for key, verdict in result["targets"].items():
        state = {True: "MET", False: "MISSED", None: "n/a"}[verdict["met"]]
        lines.append(f"  {state:<7} {key}: {_fmt(verdict['value'])} (target {verdict['target']}, {verdict['app']}; "
                     f"vs concurrent {_fmt(result['speedups'][key + '_vs_concurrent'])})")
    for key in ("real_chain_speedup", "real_map_reduce_speedup"):
        lines.append(f"  {'info':<7} {key}: {_fmt(result['speedups'][key])}")
    busy = max(result["machine"]["loadavg_at_start"][0], result["machine"]["loadavg_at_end"][0])
    if busy > 1.5:
        lines.append(f"note: the machine was busy (1-minute load up to {busy}); the real vLLM part shares its CPU")
    return "\n\n".join([*parts, "\n".join(lines)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workflows", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny apps (smoke test); no real vLLM unless --real")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    real = parser.add_mutually_exclusive_group()
    real.add_argument("--real", action="store_true", default=None, help="also run the real SmolLM2 vLLM part")
    real.add_argument("--no-real", dest="real", action="store_false", help="skip the real vLLM part")
    parser.add_argument("--rtt-ms", type=float, default=250.0, help="client<->gateway round trip (default 250)")
    parser.add_argument("--replicas", type=int, default=2, help="simulated replicas (default 2)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := set(wanted) - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    workloads = [name for name in wanted if name != "real"]
    sizes = apps.QUICK if args.quick else apps.FULL
    run_real_part = ("real" in wanted and not args.quick) if args.real is None else args.real
    rtt_s = args.rtt_ms / 1000
    result: dict[str, Any] = {
        "benchmark": "workflows",
        "machine": machine_info(),
        "settings": {"quick": args.quick, "rtt_ms": args.rtt_ms, "profile": PROFILE, "sim_speedup": 1.0,
                     "replicas": args.replicas, "workloads": workloads, "sizes": vars(sizes),
                     "variants": VARIANT_NOTES},
    }
    failed = False
    started = time.monotonic()
    try:
        result["apps"] = run_sim(workloads, sizes, rtt_s, args.replicas) if workloads else {}
    except Exception:
        failed = True
        result["apps"] = {"status": "failed", "error": traceback.format_exc(limit=5)}
        print(traceback.format_exc(), file=sys.stderr)
    if run_real_part:
        try:
            result["real"] = run_real(rtt_s)
        except Exception:
            failed = True
            result["real"] = {"status": "failed", "error": traceback.format_exc(limit=5)}
            print(traceback.format_exc(), file=sys.stderr)
    else:
        result["real"] = {"status": "skipped", "reason": "not asked for (--quick, --no-real or --only)"}
    rows = result["apps"] if "status" not in result["apps"] else {}
    result["speedups"] = _headline(rows, result["real"].get("apps", {}), sizes)
    result["targets"] = _targets(rows, sizes)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(report(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    failed = failed or bool(failures(rows)) or result["real"].get("status") == "failed"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
