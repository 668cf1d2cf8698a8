"""The dataflow memory benchmark runs end to end (quick mode) and its output is sound.

Its numbers are the benchmark's business; this checks that both scenarios
ran to the end they describe and the JSON carries every measure and verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEASURES = {"rss_before_mb", "rss_peak_mb", "rss_after_delete_mb", "describe_first_page_bytes", "describe_all_bytes",
            "max_error_chars", "max_stall_ms", "run_s"}


def test_dataflow_memory_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "dataflow_memory.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.dataflow_memory", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["settings"]["quick"] is True
    failing, succeeding = result["scenarios"]["failing_root"], result["scenarios"]["all_succeed"]
    assert MEASURES <= set(failing) and MEASURES <= set(succeeding)
    assert failing["final_statuses"] == ["call_failed"] and succeeding["final_statuses"] == ["ready"]
    assert 0 < failing["max_error_chars"] and succeeding["max_error_chars"] == 0
    assert failing["rss_before_mb"] > 0 and failing["rss_peak_mb"] >= failing["rss_before_mb"]
    assert failing["describe_all_bytes"] >= failing["describe_first_page_bytes"] > 0
    assert all(verdict["met"] in (True, False) for verdict in result["targets"].values())
