"""The in-process parts of benchmarks/policies.py: how well the policies judge
and what one decision costs, without a gateway.

- `pii`: `policies.pii.benchmark(policies.pii.sample_prompts())`.
- `uncertainty`: AUROC of each confidence signal, recomputed from the cached
  SmolLM2 responses (`policies.uncertainty.evaluate.analyse`, no vLLM) when
  that works here (it needs scikit-learn, the `train` extra), else read from
  what `python -m policies.uncertainty.evaluate` wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks._servers import ROOT

UNCERTAINTY_RESULTS = ROOT / "benchmarks" / "results" / "uncertainty.json"
UNCERTAINTY_CALIBRATION = ROOT / "policies" / "uncertainty" / "calibration.json"


def run_pii(quick: bool) -> dict[str, Any]:
    from policies.pii import benchmark, sample_prompts

    samples = sample_prompts(50 if quick else 200)
    numbers = benchmark(samples, min_runs=500 if quick else 2000)
    return {"status": "ok", "op": "redact (all kinds)", "prompts": len(samples),
            **{k: int(v) if k == "runs" else round(v, 4) for k, v in numbers.items()}}


def _signal_rows(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("signal", "inline", "cost", "auroc_calibration", "auroc_test", "auroc_test_ci95", "auroc_test_within_kind")
    return [{k: row.get(k) for k in keep} for row in table]


def _recompute() -> dict[str, Any]:
    from policies.uncertainty import evaluate

    result = evaluate.analyse(evaluate.build_questions(), evaluate.load())
    return {"source": f"recomputed from the cached responses ({evaluate.CACHE.relative_to(ROOT)}), no vLLM",
            "table": _signal_rows(result["table"]), "default_signal": result["default"],
            "thresholds": result["thresholds"], "dataset": result["dataset"]}


def _read_results(path: Path) -> dict[str, Any]:
    saved = json.loads(path.read_text())
    return {"source": f"read from {path.relative_to(ROOT)}", "table": _signal_rows(saved["table"]),
            "default_signal": saved["default_signal"], "thresholds": saved.get("thresholds"),
            "dataset": saved.get("dataset")}


def run_uncertainty(quick: bool) -> dict[str, Any]:
    del quick  # the analysis takes a few seconds either way
    notes: list[str] = []
    try:
        out = _recompute()
    except (ImportError, OSError, KeyError, ValueError) as exc:
        notes.append(f"could not recompute ({type(exc).__name__}: {exc})")
        if not UNCERTAINTY_RESULTS.exists():
            return {"status": "skipped", "reason": "; ".join([*notes, f"{UNCERTAINTY_RESULTS.name} does not exist"])}
        out = _read_results(UNCERTAINTY_RESULTS)
    default = next((row for row in out["table"] if row["signal"] == out["default_signal"]), None)
    out["default_auroc_test"] = default["auroc_test"] if default else None
    if UNCERTAINTY_CALIBRATION.exists():
        shipped = json.loads(UNCERTAINTY_CALIBRATION.read_text())
        out["shipped_default_signal"] = shipped.get("default_signal")
        if shipped.get("default_signal") != out["default_signal"]:
            notes.append(f"the shipped calibration's default signal is {shipped.get('default_signal')!r}, "
                         f"this analysis chose {out['default_signal']!r}")
    else:
        notes.append(f"{UNCERTAINTY_CALIBRATION.relative_to(ROOT)} does not exist yet")
    return {"status": "ok", **out, "notes": notes}
