"""The overhead benchmark runs end to end (quick mode) and its output is sound.

Speed targets are the benchmark's business, not a test's: this checks that the
script still works, that every measured request was a real, forwarded
completion, and that the JSON carries the target verdicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_overhead_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.overhead", "--quick", "--only", "semgate", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "targets (semgate)" in done.stdout
    result = json.loads(out.read_text())
    semgate = result["rows"]["semgate"]
    assert semgate["status"] == "ok"
    for mode in ("plain", "stream"):
        for point in ("c1", "c32"):
            run = semgate[mode][point]
            assert run["valid"] and run["non_2xx"] == 0 and run["requests"] > 0
            assert run["upstream_ratio"] >= 0.99  # answers really came from the upstream
    assert set(result["targets"]) == {
        "semgate_plain_c32_rps", "semgate_added_p50_c1_ms", "semgate_ttft_overhead_ms",
        "semgate_rss_max_mb", "semgate_rss_soak_growth_pct",
    }
    assert all("met" in verdict for verdict in result["targets"].values())


def test_routing_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "routing.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.routing", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    cluster = result["parts"]["cluster"]["scenarios"]
    for runs in cluster.values():
        for row in runs.values():
            assert row["errors"] == 0 and row["ok"] == row["requests"] > 0
    assert result["parts"]["quality"]["n_questions"] > 1000
    assert set(result["targets"]) == {
        "learned_apgr_held_out", "decision_p99_ms", "p99_ratio_skew", "hit_rate_ratio_prefix",
    }
