"""The `guards` part of benchmarks/policies.py: the embedded guard's quality and
latency, from its own evaluation (`policies.guards.embedded.evaluate`), which
runs the runtime guard on the OpenAI moderation test splits (en, fr, es, de)
and on all of XSTest, one prompt at a time in this process (one core).
"""

from __future__ import annotations

from typing import Any

METRICS = ("n", "n_unsafe", "f1", "precision", "recall", "fpr")


def _latency(raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = raw or {}
    return {"n": raw.get("n"), "p50_ms": raw.get("p50"), "p99_ms": raw.get("p99"), "max_ms": raw.get("max"),
            "mean_ms": raw.get("mean")}


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """The evaluation's result in this benchmark's shape (rows per data set and language)."""
    rows = [{"dataset": "moderation", "lang": lang, **{k: row.get(k) for k in METRICS}}
            for lang, row in raw["moderation"].items()]
    xs = raw["xstest"]
    return {
        "status": "ok",
        "rows": rows,
        "moderation_mean_f1": raw["moderation_mean_f1"],
        "xstest": {**{k: xs.get(k) for k in METRICS},
                   "fpr": xs["safe_fpr"], "recall": xs["unsafe_recall"],  # on the 250 safe / 200 unsafe prompts
                   "flagged_share_by_type": xs.get("flagged_share_by_type")},
        "recall_by_category": {lang: row.get("recall_by_category") for lang, row in raw["moderation"].items()},
        # As served: the guard's token cache warm from earlier prompts (the target); cold: emptied before each call.
        "latency": _latency(raw.get("latency_ms")),
        "latency_cold": _latency(raw.get("latency_cold_ms")),
    }


def run(quick: bool) -> dict[str, Any]:
    del quick  # the evaluation is one pass over ~3,100 prompts either way
    from policies.guards.embedded.evaluate import evaluate

    return normalise(evaluate())
