"""The workflow benchmark runs end to end (quick mode) and its output is sound.

Speedups are the benchmark's business, not a test's: this checks that every
application ran in every variant, that the dataflow API produced exactly the
text the one-call-at-a-time openai client did (same prompts, same engines),
that the SDK sent each whole graph in one request, and the JSON's shape.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = {"chain": 1, "map_reduce": 1, "multi_agent": 3, "shared_prefix_4": 4, "shared_prefix_8": 8}  # -> finals


def test_workflows_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "workflows.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.workflows", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["apps"]) == set(APPS)
    for name, finals in APPS.items():
        app = result["apps"][name]
        variants = {"sequential", "concurrent", "dataflow"} | ({"dataflow_throughput"} if "shared" in name else set())
        for variant in variants:
            row = app[variant]
            assert 0 < row["latency_s"] <= row["jct_s"], (name, variant, row)
            assert 0 <= row["prefix_hit_rate"] <= 1
        # The gateway ran the graph: same text as the client running it call by call.
        assert app["outputs_match"] == dict.fromkeys(variants - {"sequential"}, True), name
        # One request for the whole graph (the session created with it), then one fetch per final value.
        assert app["dataflow"]["requests"] == 1 + finals, name
        assert app["speedup"] is not None and app["speedup_vs_concurrent"] is not None
    assert set(result["targets"]) == {"chain_speedup", "map_reduce_speedup", "multi_agent_speedup",
                                      "shared_prefix_speedup"}
    assert all(verdict["met"] in (True, False) for verdict in result["targets"].values())
    assert result["targets"]["shared_prefix_speedup"]["app"] == "shared_prefix_8"
    assert {"real_chain_speedup", "real_map_reduce_speedup"} <= set(result["speedups"])
    assert result["real"]["status"] == "skipped"  # --quick leaves the real vLLM out
    assert result["settings"]["rtt_ms"] == 250.0
