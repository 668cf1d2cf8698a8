"""The `rps` part of benchmarks/policies.py: what inline input policies cost the
gateway in throughput.

Same method as benchmarks/overhead.py's semgate row (its helpers, imported):
the instant nginx upstream, one gateway process pinned to the server core,
wrk (-t1) and the upstream on the load core, non-streaming requests at c=32
for RPS and at c=1 for p50. Five gateways run side by side, differing only in
their policies: `off` (none configured: the plain proxy path), `empty` (a
profile without policies: the policy path alone), `guard` (the embedded
guard alone), `pii` (PII redaction alone) and `guard+pii`. They are measured
in turn, the order rotating each round. RPS is the best round's (other work
on the machine only ever lowers it; the median is reported too), latencies
the medians over the rounds.

Every request carries a different user prompt (benchmarks/wrk/policies.lua,
filled with `_policies_prompts.chat_prompts`), so a guard cannot answer from
a cache. About 2 % of the prompts are unsafe: the guard blocks them (a 200
refusal that never reaches the upstream), as it would in real traffic.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _servers
from benchmarks._load import check_completion, run_wrk
from benchmarks._policies_gateway import (
    EMBEDDED_GUARDS,
    GUARD_POLICY,
    PII_POLICY,
    guard_stats,
    instant_upstream_config,
    log,
    policies_section,
    start_gateway,
    wait_for_quiet,
)
from benchmarks._policies_prompts import chat_prompts, render_wrk_script, variants_per_prompt
from benchmarks._procs import CpuPlan, ServiceError
from benchmarks._servers import Endpoint
from benchmarks.overhead import Settings as OverheadSettings
from benchmarks.overhead import _counted_run

# variant -> its profile's input policies; None: no policies configured at all (the plain proxy path)
VARIANTS: dict[str, list[dict[str, Any]] | None] = {
    "off": None,
    "empty": [],  # a profile without policies: what the policy path itself costs
    "guard": [GUARD_POLICY],
    "pii": [PII_POLICY],
    "guard+pii": [PII_POLICY, GUARD_POLICY],
}
# variant -> the cost it reports, relative to `off`
COSTS = {"empty": "profile_rps_cost", "guard": "guard_rps_cost", "pii": "pii_rps_cost",
         "guard+pii": "guard_pii_rps_cost"}


@dataclass(frozen=True)
class RpsSettings:
    duration_s: float
    warmup_s: float
    rounds: int
    prompts: int
    quiet_wait_s: float


def _config(upstream: Endpoint, inputs: list[dict[str, Any]] | None) -> dict[str, Any]:
    if inputs is None:
        return instant_upstream_config(upstream, None)
    guards = EMBEDDED_GUARDS if any(p["kind"] == "guard" for p in inputs) else {}
    return instant_upstream_config(upstream, policies_section(inputs, guards))


def _point(endpoint: Endpoint, script: Path, settings: RpsSettings, upstream: Endpoint) -> dict[str, Any]:
    """Warm-up, then c=1 and c=32, as overhead.py times a row."""
    timing = OverheadSettings(duration_s=settings.duration_s, warmup_s=settings.warmup_s, ttft_requests=0,
                              soak_requests=0, soak_max_s=0.0)
    url = endpoint.url(False)
    run_wrk(url, str(script), 32, settings.warmup_s)
    out: dict[str, Any] = {"loadavg": round(os.getloadavg()[0], 2)}
    for conc in (1, 32):
        log(f"rps {endpoint.row}: c={conc} for {settings.duration_s:g}s")
        out[f"c{conc}"] = _counted_run(url, str(script), conc, timing, upstream.plain_port)
    assert endpoint.service is not None
    endpoint.service.check_alive()
    return out


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    cells = [r[c] for r in rounds for c in ("c1", "c32")]
    return {
        # Other work on the machine only ever lowers throughput: the best round is
        # the closest to the gateway's own capacity (the median is kept too).
        "c32_rps": max(r["c32"]["rps"] for r in rounds),
        "c32_rps_median": _median([r["c32"]["rps"] for r in rounds]),
        "c32_p50_ms": _median([r["c32"]["p50_ms"] for r in rounds]),
        "c32_p99_ms": _median([r["c32"]["p99_ms"] for r in rounds]),
        "c1_rps": _median([r["c1"]["rps"] for r in rounds]),
        "c1_p50_ms": _median([r["c1"]["p50_ms"] for r in rounds]),
        "c1_p99_ms": _median([r["c1"]["p99_ms"] for r in rounds]),
        # requests that reached the upstream / requests wrk counted: 1 unless the guard blocked some
        "upstream_ratio": _median([r["c32"]["upstream_ratio"] for r in rounds]),
        "valid": all(cell["valid"] for cell in cells),
        "rounds": rounds,
    }


def _costs(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    off = variants["off"]
    out: dict[str, Any] = {}
    for name, key in COSTS.items():
        row = variants.get(name)
        if not row or not off.get("c32_rps") or row.get("c32_rps") is None:
            out[key] = None
            continue
        out[key] = round(1 - row["c32_rps"] / off["c32_rps"], 4)
        out[f"{key}_median"] = round(1 - row["c32_rps_median"] / off["c32_rps_median"], 4)
        row["added_c1_p50_ms"] = round(row["c1_p50_ms"] - off["c1_p50_ms"], 3)
        # the one core's time per request at c=32, beyond the plain proxy's (compare with the guard's own time)
        row["added_core_ms_per_request"] = round(1000 / row["c32_rps"] - 1000 / off["c32_rps"], 4)
    return out


def _start(tmp: Path, name: str, upstream: Endpoint, cpus: CpuPlan, stack: ExitStack) -> Endpoint:
    log(f"rps: starting the {name} gateway")
    endpoint = start_gateway(tmp, name.replace("+", "-"), _config(upstream, VARIANTS[name]), cpus.server)
    assert endpoint.service is not None
    stack.enter_context(endpoint.service)
    problem = check_completion(endpoint.url(False), False)
    if problem:
        raise ServiceError(f"the {name} gateway does not answer a completion: {problem}")
    return endpoint


def run(settings: RpsSettings, cpus: CpuPlan) -> dict[str, Any]:
    quiet = wait_for_quiet(settings.quiet_wait_s)
    prompts = chat_prompts(settings.prompts)
    result: dict[str, Any] = {
        **quiet,
        "settings": {**settings.__dict__, "concurrency": [1, 32], "wrk_threads": 1,
                     "distinct_prompts": len(prompts), "unsafe_prompts": sum(u for _, u in prompts),
                     "texts_per_prompt": variants_per_prompt(),
                     "prompt_chars": [min(len(p) for p, _ in prompts), max(len(p) for p, _ in prompts)],
                     "script": "benchmarks/wrk/policies.lua"},
        "variants": {name: {"policies": inputs} for name, inputs in VARIANTS.items()},
    }
    variants = result["variants"]
    with tempfile.TemporaryDirectory(prefix="semgate-policies-rps-") as tmpdir, ExitStack() as stack:
        tmp = Path(tmpdir)
        script = render_wrk_script(tmp / "policies-rendered.lua", [p for p, _ in prompts])
        upstream = _servers.start_upstream(tmp, cpus)
        assert upstream.service is not None
        stack.enter_context(upstream.service)
        gateways: dict[str, Endpoint] = {}
        for name in VARIANTS:
            try:
                gateways[name] = _start(tmp, name, upstream, cpus, stack)
            except ServiceError as exc:  # one gateway that cannot start does not stop the others
                if name == "off":
                    raise
                log(f"rps: {name} failed: {exc}")
                variants[name].update(status="failed", reason=str(exc), valid=False, c32_rps=None)
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in gateways}
        names = list(gateways)
        for index in range(settings.rounds):
            for name in names[index % len(names):] + names[:index % len(names)]:
                rounds[name].append(_point(gateways[name], script, settings, upstream))
        for name in gateways:
            variants[name].update(status="ok", **_summarise(rounds[name]))
            if GUARD_POLICY in (VARIANTS[name] or []):
                variants[name]["guard"] = guard_stats(gateways[name].plain_port, "local")
    result["costs"] = _costs(variants)
    failed = [name for name, row in variants.items() if row["status"] == "failed"]
    invalid = [name for name, row in variants.items() if row["status"] == "ok" and not row["valid"]]
    result["valid"] = not failed and not invalid
    result["status"] = "ok" if result["valid"] else "invalid"
    if not result["valid"]:
        result["reason"] = "; ".join([*(f"{n}: could not start" for n in failed),
                                      *(f"{n}: non-2xx answers or socket errors under load" for n in invalid)])
    return result
