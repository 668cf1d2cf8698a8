"""Tables and targets for benchmarks/policies.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks._policies_rps import COSTS
from benchmarks._report import _fmt, _render

Part = dict[str, Any]

# name -> (part, path to the value, op, limit, what)
TARGETS: dict[str, tuple[str, tuple[str, ...], str, float, str]] = {
    "guard_mean_f1": ("guards", ("moderation_mean_f1",), ">=", 0.75,
                      "embedded guard: mean F1 over OpenAI moderation en/fr/es/de test splits"),
    "guard_xstest_fpr": ("guards", ("xstest", "fpr"), "<=", 0.10, "embedded guard: XSTest FPR on the 250 safe prompts"),
    "guard_xstest_recall": ("guards", ("xstest", "recall"), ">=", 0.80,
                            "embedded guard: XSTest recall on the 200 unsafe prompts"),
    "guard_p99_ms": ("guards", ("latency", "p99_ms"), "<=", 5.0, "embedded guard: p99 ms per prompt, one core"),
    "guard_rps_cost": ("rps", ("costs", "guard_rps_cost"), "<=", 0.20,
                       "gateway RPS lost to the embedded input guard (1 - on/off, c=32)"),
    "uncertainty_default_auroc": ("uncertainty", ("default_auroc_test",), ">=", 0.70,
                                  "uncertainty: test AUROC of the default signal"),
}


def _get(part: Part | None, path: tuple[str, ...]) -> Any:
    value: Any = part
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def evaluate_targets(parts: dict[str, Part]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, (part, path, op, limit, what) in TARGETS.items():
        usable = (parts.get(part) or {}).get("status") == "ok"
        value = _get(parts.get(part), path) if usable else None
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        out[name] = {"what": what, "value": value, "target": f"{op} {limit:g}", "met": met}
    return out


def format_targets(targets: dict[str, dict[str, Any]]) -> str:
    lines = ["targets:"]
    for name, item in targets.items():
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[item["met"]]
        lines.append(f"  {verdict:6}  {name}: {_fmt(item['value'], 4)} (target {item['target']}) - {item['what']}")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _table(title: str, header: list[str], lines: list[list[Any]]) -> str:
    cells = [[c if isinstance(c, str) else _fmt(c, 3) for c in line] for line in lines]
    return f"{title}\n{_render(header + [''], [c + [''] for c in cells])}"


def guards_table(part: Part) -> str:
    lines = [[row.get("dataset", ""), row.get("lang", ""), row.get("n"), row.get("f1"), row.get("precision"),
              row.get("recall"), row.get("fpr")] for row in part.get("rows", [])]
    xs = part.get("xstest") or {}
    lines.append(["xstest", "en", xs.get("n"), xs.get("f1"), xs.get("precision"), xs.get("recall"), xs.get("fpr")])
    text = _table("guards (embedded, input; XSTest: FPR on the safe prompts, recall on the unsafe ones)",
                  ["dataset", "lang", "n", "F1", "precision", "recall", "FPR"], lines)
    lat, cold = part.get("latency") or {}, part.get("latency_cold") or {}
    return (f"{text}\nmean F1 over the moderation test splits: {_fmt(part.get('moderation_mean_f1'), 4)}\n"
            f"latency per prompt, one core: p50 {_fmt(lat.get('p50_ms'), 3)} ms, p99 {_fmt(lat.get('p99_ms'), 3)} ms, "
            f"max {_fmt(lat.get('max_ms'), 3)} ms (as served); token cache emptied before each call: "
            f"p50 {_fmt(cold.get('p50_ms'), 3)} ms, p99 {_fmt(cold.get('p99_ms'), 3)} ms")


def pii_table(part: Part) -> str:
    return _table("pii (redact, all kinds; 1-2 KB prompts)",
                  ["op", "prompts", "p50 ms", "p99 ms", "cpu p50 ms", "cpu p99 ms", "runs", "mean chars"],
                  [[part["op"], part["prompts"], part["p50_ms"], part["p99_ms"], part["cpu_p50_ms"],
                    part["cpu_p99_ms"], part["runs"], part["mean_chars"]]])


def uncertainty_table(part: Part) -> str:
    lines = []
    for row in part["table"]:
        mark = " (default)" if row["signal"] == part["default_signal"] else ""
        lo, hi = row.get("auroc_test_ci95") or (None, None)
        lines.append([row["signal"] + mark, "yes" if row.get("inline") else "no", row.get("auroc_calibration"),
                      row.get("auroc_test"), f"[{_fmt(lo, 3)}, {_fmt(hi, 3)}]", row.get("auroc_test_within_kind")])
    text = _table(f"uncertainty (AUROC for a right answer; {part['source']})",
                  ["signal", "inline", "AUROC cal", "AUROC test", "95% CI", "within kind"], lines)
    notes = "".join(f"\nnote: {n}" for n in part.get("notes", []))
    return text + notes


def _variant_note(row: dict[str, Any]) -> str:
    if row.get("status") == "failed":
        last = (row.get("reason") or "?").strip().splitlines()[-1]
        return "FAILED: " + last.split("ERROR semgate: ")[-1][:80]
    return "" if row.get("valid") else "INVALID"


def rps_table(part: Part) -> str:
    lines = []
    for name, row in part["variants"].items():
        guard = row.get("guard") or {}
        key = COSTS.get(name, "")
        lines.append([name, row.get("c32_rps"), _pct(part["costs"].get(key)), row.get("c32_rps_median"),
                      _pct(part["costs"].get(f"{key}_median")), row.get("c32_p50_ms"),
                      row.get("c32_p99_ms"), row.get("c1_p50_ms"), row.get("added_c1_p50_ms"),
                      row.get("added_core_ms_per_request"), row.get("upstream_ratio"), guard.get("mean_ms"),
                      _variant_note(row)])
    settings = part["settings"]
    title = (f"rps (non-streaming, instant upstream; RPS: best of {settings['rounds']} rounds of "
             f"{settings['duration_s']:g} s, latencies: medians; {settings['distinct_prompts']} prompts x "
             f"{settings['texts_per_prompt']})")
    text = _table(title, ["policies", "RPS c=32", "cost", "median RPS", "cost", "p50 c=32", "p99 c=32", "p50 c=1",
                          "+p50 c=1", "+ms/req", "upstream", "guard ms", "note"], lines)
    return (f"{text}\nload average at start {part['loadavg_at_start']} (waited {part['waited_s']:g} s, "
            f"quiet: {part['quiet']}), at end {part.get('loadavg_at_end')}")


def speculative_table(part: Part) -> str:
    lines = []
    for name, row in part["variants"].items():
        unsafe = row.get("unsafe") or {}
        blocked = f"{unsafe['blocked']}/{unsafe['requests']}" if unsafe else "-"
        lines.append([name, row.get("p50_ms"), row.get("p99_ms"), row.get("added_p50_ms"), row.get("added_p99_ms"),
                      row["first_byte"].get("p50_ms"), (row.get("guard") or {}).get("mean_ms"), blocked])
    settings = part["settings"]
    title = (f"speculative (streaming TTFT; sim {settings['profile']}; {settings['requests']} prompts of "
             f"{settings['min_tokens']}-{settings['max_prompt_tokens']} tokens per variant)")
    text = _table(title, ["guard", "TTFT p50", "TTFT p99", "+p50", "+p99", "1st byte p50", "guard ms", "unsafe blocked"],
                  lines)
    seen, expected = part.get("guard_as_seen_ms") or {}, part.get("expected_speculative_added_ms") or {}
    return (f"{text}\nguard as a request sees it (first - none): p50 {_fmt(seen.get('p50_ms'), 3)} ms; expected "
            f"speculative cost max(0, guard - model TTFT): p50 {_fmt(expected.get('p50_ms'), 3)} ms; speculation "
            f"removes {_pct(part.get('speculative_saves'))} of the guard-first TTFT cost")


FORMATTERS: dict[str, Callable[[Part], str]] = {
    "guards": guards_table, "pii": pii_table, "uncertainty": uncertainty_table, "rps": rps_table,
    "speculative": speculative_table,
}


def format_part(name: str, part: Part) -> str:
    if part.get("status") in ("skipped", "failed"):
        return f"{name}: {part['status'].upper()} - {part.get('reason', '')}"
    text = FORMATTERS[name](part)
    if part.get("status") == "invalid":
        text += f"\nINVALID: {part.get('reason', '')}"
    return text
