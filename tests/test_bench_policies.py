"""The policies benchmark runs end to end (quick mode) and its JSON is sound.

The numbers are the benchmark's business, not a test's: this checks that every
part ran, that the five RPS gateways and the three TTFT gateways answered, that guards
blocked what they should, and the JSON's shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._policies_prompts import chat_prompts, render_wrk_script

ROOT = Path(__file__).resolve().parent.parent


def test_prompts_vary_and_render_into_the_wrk_script(tmp_path: Path) -> None:
    prompts = chat_prompts(500)
    texts = [text for text, _ in prompts]
    assert len(set(texts)) == 500
    assert all(50 <= len(text) <= 400 for text in texts)
    assert 0 < sum(unsafe for _, unsafe in prompts) < 50  # mostly safe
    assert chat_prompts(500) == prompts  # seeded
    script = render_wrk_script(tmp_path / "x.lua", texts).read_text()
    assert "{{" not in script and "request = function()" in script
    assert script.count("\n[") >= 500  # one Lua long string per prompt


@pytest.mark.skipif(not (shutil.which("wrk") and shutil.which("nginx")), reason="needs wrk and nginx")
def test_policies_benchmark_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "policies.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.policies", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    parts = result["parts"]
    assert set(parts) == {"guards", "pii", "uncertainty", "rps", "speculative"}
    guards = parts["guards"]
    assert guards["status"] == "ok", guards.get("reason")
    assert [(r["dataset"], r["lang"]) for r in guards["rows"]] == [("moderation", lang) for lang in ("en", "fr", "es", "de")]
    assert guards["xstest"]["n"] == 450 and 0 <= guards["xstest"]["fpr"] <= 1 and 0 <= guards["xstest"]["recall"] <= 1
    assert 0 < guards["latency"]["p50_ms"] <= guards["latency"]["p99_ms"]
    assert parts["pii"]["status"] == "ok" and 0 < parts["pii"]["p50_ms"] <= parts["pii"]["p99_ms"]
    assert parts["uncertainty"]["status"] in ("ok", "skipped")

    rps = parts["rps"]
    assert rps["status"] == "ok", rps.get("reason")
    assert set(rps["variants"]) == {"off", "empty", "guard", "pii", "guard+pii"}
    for row in rps["variants"].values():
        assert row["c32_rps"] > 0 and row["c1_p50_ms"] > 0 and row["valid"]
    assert rps["variants"]["guard"]["guard"]["judged"] > 0  # the guard really ran, in the gateway
    assert rps["costs"]["guard_rps_cost"] is not None
    assert rps["settings"]["distinct_prompts"] == 500

    spec = parts["speculative"]
    assert spec["status"] == "ok", spec.get("reason")
    assert set(spec["variants"]) == {"none", "first", "speculative"}
    for name, row in spec["variants"].items():
        assert row["answered"] == row["requests"] > 0 and row["p50_ms"] > 0, name
    for name in ("first", "speculative"):
        row = spec["variants"][name]
        assert row["unsafe"]["blocked"] == row["unsafe"]["requests"], name
        assert row["policy_header"].startswith("input.guard.llama=allow"), name
    # ~70 ms of modelled guard time: running it alongside the model hides most of it
    assert spec["variants"]["speculative"]["added_p50_ms"] < spec["variants"]["first"]["added_p50_ms"]

    assert set(result["targets"]) == {"guard_mean_f1", "guard_xstest_fpr", "guard_xstest_recall", "guard_p99_ms",
                                      "guard_rps_cost", "uncertainty_default_auroc"}
    for name, target in result["targets"].items():
        assert set(target) == {"what", "value", "target", "met"}, name
        assert target["met"] in (True, False, None), name
    assert result["targets"]["guard_rps_cost"]["met"] in (True, False)
    assert result["machine"]["loadavg_at_end"] and result["cpu_pinning"]
