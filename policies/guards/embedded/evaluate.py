"""Measure a guard on the test splits: quality per data set and language, and latency.

`evaluate()` is what the training run records in the artifact and what the
benchmark calls. Stdlib only. Every number comes from the runtime guard
itself (`EmbeddedGuard.classify`), quantised weights and all.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from policies.guards.embedded import data as D
from policies.guards.embedded.model import EmbeddedGuard, GuardVerdict


def binary_metrics(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float]:
    """Precision, recall, F1 and false-positive rate of the unsafe class."""
    tp = sum(t and p for t, p in zip(truth, predicted))
    fp = sum(p and not t for t, p in zip(truth, predicted))
    fn = sum(t and not p for t, p in zip(truth, predicted))
    tn = len(truth) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(truth),
        "n_unsafe": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fpr": round(fp / (fp + tn) if fp + tn else 0.0, 4),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _latency(calls: list[float]) -> dict[str, float]:
    ms = [c * 1000 for c in calls]
    return {
        "n": len(ms),
        "p50": round(_percentile(ms, 0.50), 4),
        "p99": round(_percentile(ms, 0.99), 4),
        "max": round(max(ms), 4),
        "mean": round(statistics.fmean(ms), 4),
    }


def evaluate(guard: EmbeddedGuard | None = None, data: str | Path | None = None, *, latency: bool = True) -> dict[str, Any]:
    """Quality on the test splits, and latency per prompt (one thread).

    - moderation: the 672 test prompts of the OpenAI moderation set in each
      of en, fr, es, de: precision, recall, F1, FPR of "unsafe"; `mean_f1`
      over the four languages;
    - xstest: all 450 prompts (never trained on): FPR on the 250 safe ones,
      recall on the 200 unsafe ones, and per prompt type;
    - latency_ms: `classify()` time per prompt over all those prompts, in
      order, as served (the token cache warms up as it goes); latency_cold_ms:
      the same with the token cache emptied before every call (worst case).
    """
    guard = guard if guard is not None else EmbeddedGuard.load()
    timings: list[float] = []
    cold: list[float] = []

    def run(texts: list[str]) -> list[GuardVerdict]:
        out = []
        clock = time.perf_counter
        for text in texts:
            start = clock()
            out.append(guard.classify(text))
            timings.append(clock() - start)
        return out

    result: dict[str, Any] = {"moderation": {}}
    all_texts: list[str] = []
    for lang in D.LANGS:
        _, test = D.moderation_split(lang, data)
        texts = [p.text for p in test]
        all_texts += texts
        verdicts = run(texts)
        row = binary_metrics([p.unsafe for p in test], [v.unsafe for v in verdicts])
        # Recall per category, on the prompts labelled with it.
        row["recall_by_category"] = {
            name: round(sum(v.unsafe for p, v in zip(test, verdicts) if p.labels.get(name) == 1)
                        / max(1, sum(p.labels.get(name) == 1 for p in test)), 4)
            for name in D.CODES.values()
        }
        result["moderation"][lang] = row
    result["moderation_mean_f1"] = round(statistics.fmean(result["moderation"][lang]["f1"] for lang in D.LANGS), 4)

    xs = D.xstest(data)
    verdicts = run([p.text for p in xs])
    all_texts += [p.text for p in xs]
    safe = [v.unsafe for p, v in zip(xs, verdicts) if not p.unsafe]
    unsafe = [v.unsafe for p, v in zip(xs, verdicts) if p.unsafe]
    by_type: dict[str, list[bool]] = {}
    for p, v in zip(xs, verdicts):
        by_type.setdefault(p.type, []).append(v.unsafe)
    result["xstest"] = {
        **binary_metrics([p.unsafe for p in xs], [v.unsafe for v in verdicts]),
        "safe_fpr": round(sum(safe) / len(safe), 4),
        "unsafe_recall": round(sum(unsafe) / len(unsafe), 4),
        "flagged_share_by_type": {t: round(sum(f) / len(f), 4) for t, f in sorted(by_type.items())},
    }
    if latency:
        result["latency_ms"] = _latency(timings)
        clear: Callable[[], None] = guard._cache.clear
        clock = time.perf_counter
        for text in all_texts:
            clear()
            start = clock()
            guard.classify(text)
            cold.append(clock() - start)
        result["latency_cold_ms"] = _latency(cold)
    return result


def table(result: dict[str, Any]) -> str:
    """The result as a small text table."""
    lines = ["data set          n    prec   recall  F1     FPR"]
    for lang in D.LANGS:
        r = result["moderation"][lang]
        lines.append(f"moderation {lang:3s} {r['n']:5d}  {r['precision']:.3f}  {r['recall']:.3f}  {r['f1']:.3f}  {r['fpr']:.3f}")
    lines.append(f"moderation mean F1: {result['moderation_mean_f1']:.3f}")
    x = result["xstest"]
    lines.append(f"XSTest: FPR on safe {x['safe_fpr']:.3f} (250), recall on unsafe {x['unsafe_recall']:.3f} (200)")
    for key in ("latency_ms", "latency_cold_ms"):
        if key in result:
            lat = result[key]
            lines.append(f"{key}: p50 {lat['p50']:.3f}  p99 {lat['p99']:.3f}  max {lat['max']:.3f}  (n={lat['n']})")
    return "\n".join(lines)
