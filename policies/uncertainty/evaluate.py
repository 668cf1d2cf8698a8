"""Measure the uncertainty signals against the real SmolLM2 and write the shipped calibration.

    python -m policies.uncertainty.evaluate                  # analyse the cached responses
    python -m policies.uncertainty.evaluate --collect        # start vLLM, ask, cache, analyse
    python -m policies.uncertainty.evaluate --collect --base-url http://127.0.0.1:8000/v1

Protocol (docs/uncertainty.md):

1. Questions: seeded arithmetic in five kinds whose difficulty straddles
   SmolLM2-135M-Instruct's ability (one-digit sums and products it mostly
   gets right, small subtractions about half, two-digit sums mostly wrong),
   so overall accuracy lands near 50 %. Each question has an id
   "<kind>-<nnn>"; MMLU is not used: RouteLLM's CSVs record who answered
   correctly, not the answer letter, so SmolLM2's answers could not be graded.
2. Responses (vLLM's OpenAI API, chat): one greedy answer with
   `logprobs: true, top_logprobs: 5` (the answer being judged; its
   correctness is the label) and n=5 samples at temperature 0.8 for
   self-consistency. Cached, compacted, in data/responses.jsonl.gz, so the
   analysis reruns without vLLM.
3. Split by question id: within each kind, even ordinals calibrate, odd
   ones test. Logistic calibrations (one per single feature, and one over
   all features) are fitted on the calibration half ONLY (scikit-learn, the
   `train` extra), then every signal's AUROC for "the greedy answer is
   right" is measured on the test half, with a seeded bootstrap 95 % CI.
4. The default signal is the inline-cheap one (logprob-based; consistency
   costs k times the decode) with the best AUROC on the calibration half
   (choosing on the test half would flatter it); the annotate / hedge /
   abstain thresholds are its calibration-half confidence quantiles.

Writes policies/uncertainty/calibration.json and benchmarks/results/uncertainty.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from policies.uncertainty import signals

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = HERE / "data" / "responses.jsonl.gz"
RESULTS = ROOT / "benchmarks" / "results" / "uncertainty.json"
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
MODEL_DIR = ROOT / ".models" / "smollm2-135m-instruct"
SERVED = "smollm2"

SEED = 20240605
PER_KIND = 80
SAMPLES = 5
SAMPLE_TEMPERATURE = 0.7
MAX_TOKENS = 16
STOP = ["\n"]
CONCURRENCY = 16
PROMPT = "What is {a} {op} {b}? Reply with only the number."

# Kind -> operand ranges. All (a, b) pairs of a kind are enumerated and a
# seeded sample drawn without replacement, so no question repeats.
KINDS: dict[str, tuple[range, str, range]] = {
    "add_1d": (range(1, 10), "+", range(1, 10)),  # ~75 % right
    "mul_1d": (range(1, 10), "*", range(2, 10)),  # ~85 %
    "sub_small": (range(5, 19), "-", range(1, 6)),  # ~45 %
    "add_2d1d": (range(10, 50), "+", range(1, 10)),  # ~10 %
    "add_2d": (range(10, 100), "+", range(10, 100)),  # ~25 %
}

# Every signal reported. Single features get a one-feature logistic each;
# the combinations below are fitted over several. Length is reported but kept
# out of the default: here it mostly encodes the question's kind (two-digit
# operands make longer answers), a shortcut that would not transfer.
LOGPROB_SIGNALS = signals.FEATURES
COMBINATIONS: dict[str, tuple[str, ...]] = {
    # needs only `logprobs: true`
    "combined_logprobs": ("mean", "min", "p10", "p25", "first",
                          "content_mean", "content_min", "content_p10", "content_p25"),
    # also needs `top_logprobs`
    "combined": ("mean", "min", "p10", "p25", "first", "margin_mean", "margin_min",
                 "content_mean", "content_min", "content_p10", "content_p25", "content_margin_mean",
                 "content_margin_min"),
    "combined_with_length": ("mean", "min", "p10", "p25", "first", "margin_mean", "margin_min",
                             "content_mean", "content_min", "content_p10", "content_p25", "content_margin_mean",
                             "content_margin_min", "n_tokens"),
}
CONSISTENCY_SIGNALS = (
    "consistency_exact", "consistency_semantic", "consistency_combined",
    "consistency_exact_vs_answer", "consistency_semantic_vs_answer", "consistency_combined_vs_answer",
    "consistency_last_number_vs_answer",
)
FOLDS = 5  # cross-validation inside the calibration half, for choosing the default
TIE = 0.005  # CV AUROC differences below this are noise: prefer the simpler signal
TIER_MARGIN = 0.02  # what a signal needing top_logprobs must gain over a logprobs-only one
C = 1.0  # inverse L2 strength of the logistic fits (features standardised for the fit)


# --- questions ----------------------------------------------------------------


def build_questions(seed: int = SEED, per_kind: int = PER_KIND) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for kind, (left, op, right) in KINDS.items():
        pairs = [(a, b) for a in left for b in right]
        for i, (a, b) in enumerate(rng.sample(pairs, min(per_kind, len(pairs)))):
            answer = a + b if op == "+" else a - b if op == "-" else a * b
            out.append({"id": f"{kind}-{i:03d}", "kind": kind, "a": a, "op": op, "b": b, "answer": answer,
                        "prompt": PROMPT.format(a=a, op=op, b=b)})
    return out


def is_calibration(question_id: str) -> bool:
    """Even ordinals within a kind calibrate, odd ones test (ordinals are a seeded shuffle)."""
    return int(question_id.rsplit("-", 1)[1]) % 2 == 0


def parse_answer(text: str, a: int, op: str, b: int) -> int | None:
    """The number SmolLM2 gave: after the last "=" / "is" / "equals", else after an echo of the question."""
    t = signals._THOUSANDS.sub("", text)
    if "=" in t:
        t = t.rsplit("=", 1)[1]
    else:
        t = re.sub(rf"{a}\s*[{re.escape(op)}x×]\s*{b}", " ", t, count=1)
        words = re.split(r"\b(?:is|equals|makes|gives)\b", t)
        t = words[-1] if len(words) > 1 else t
    m = re.search(r"-?\d+(?:\.\d+)?", t)
    if m is None:
        return None
    value = float(m.group())
    return int(value) if value.is_integer() else None


# --- collection -----------------------------------------------------------------


def _post(url: str, body: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    for attempt in range(3):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.load(resp)
        except (urllib.error.URLError, TimeoutError):
            if attempt == 2:
                raise
            time.sleep(2 * (attempt + 1))
    raise AssertionError("unreachable")


def _compact_choice(choice: dict[str, Any], keep_logprobs: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"index": choice.get("index", 0), "text": choice["message"]["content"] or "",
                           "finish_reason": choice.get("finish_reason")}
    if keep_logprobs and choice.get("logprobs"):
        # Drop `bytes` (the UTF-8 of each token, recomputable) to keep the cache small.
        out["logprobs"] = {"content": [
            {"token": t["token"], "logprob": t["logprob"],
             "top_logprobs": [{"token": c["token"], "logprob": c["logprob"]} for c in t.get("top_logprobs") or []]}
            for t in choice["logprobs"]["content"]
        ]}
    return out


def ask(base_url: str, question: dict[str, Any]) -> dict[str, Any]:
    """The greedy answer with logprobs, and SAMPLES sampled ones.

    The samples carry no per-request `seed`: vLLM 0.32's CPU worker crashes
    on seeded requests ("CPU Generator does not use offset") once chunked
    prefill discards a step. The cache, not the sampler, makes reruns repeat.
    """
    url = base_url.rstrip("/") + "/chat/completions"
    messages = [{"role": "user", "content": question["prompt"]}]
    greedy = _post(url, {"model": SERVED, "messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0,
                         "stop": STOP, "logprobs": True, "top_logprobs": 5})
    sampled = _post(url, {"model": SERVED, "messages": messages, "max_tokens": MAX_TOKENS, "n": SAMPLES,
                          "temperature": SAMPLE_TEMPERATURE, "stop": STOP})
    return {
        "id": question["id"],
        "prompt": question["prompt"],
        "greedy": _compact_choice(greedy["choices"][0], keep_logprobs=True),
        "samples": [c["message"]["content"] or "" for c in sorted(sampled["choices"], key=lambda c: c["index"])],
        "usage": {"greedy": greedy.get("usage"), "samples": sampled.get("usage")},
    }


def collect(base_url: str, questions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    t0 = time.monotonic()
    records: list[dict[str, Any]] = []
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        futures = [pool.submit(ask, base_url, q) for q in questions]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            records.append(future.result())
            if done % 50 == 0:
                print(f"  {done}/{len(questions)} answered ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    records.sort(key=lambda r: r["id"])
    return records


def wait_for_idle_cpu(pattern: str = "benchmarks.workflows", poll_s: float = 60.0) -> None:
    """Another benchmark may be timing-sensitive: do not compete with it for the CPUs."""
    while subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0:
        print(f"waiting: {pattern!r} is running", file=sys.stderr)
        time.sleep(poll_s)


def start_vllm(port: int = 8311, timeout_s: float = 300.0) -> tuple[subprocess.Popen[bytes], str]:
    if not VLLM_PYTHON.exists() or not (MODEL_DIR / "config.json").exists():
        raise SystemExit("vLLM is not set up: run scripts/setup-vllm.sh, or pass --base-url")
    env = os.environ | {
        "VLLM_CPU_OMP_THREADS_BIND": os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "0-1"),
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "VLLM_CPU_KVCACHE_SPACE": "1",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    }
    log = open(Path(tempfile.gettempdir()) / "semgate-uncertainty-vllm.log", "wb")  # lives as long as the server
    proc = subprocess.Popen(
        [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(MODEL_DIR),
         "--served-model-name", SERVED, "--enforce-eager", "--max-model-len", "2048",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"vLLM exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, f"http://127.0.0.1:{port}/v1"
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    stop_vllm(proc)
    raise SystemExit(f"vLLM not ready after {timeout_s:.0f} s")


def stop_vllm(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group (the API server and its engine core), SIGKILL after 20 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def save(records: Sequence[dict[str, Any]], path: Path = CACHE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same responses give a byte-identical file.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for r in records:
            fh.write((json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n").encode())


def load(path: Path = CACHE) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# --- analysis --------------------------------------------------------------------


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """P(a random right answer scores above a random wrong one), ties count half (Mann-Whitney)."""
    pairs = sorted(zip(scores, labels), key=lambda p: p[0])
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j + 1) / 2  # ranks i+1 .. j
        rank_sum += avg_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def bootstrap_ci(scores: Sequence[float], labels: Sequence[bool], rounds: int = 1000, seed: int = SEED
                 ) -> tuple[float, float]:
    rng = random.Random(seed)
    n = len(scores)
    values = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        value = auroc([scores[i] for i in idx], [labels[i] for i in idx])
        if value == value:  # not NaN
            values.append(value)
    values.sort()
    return values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]


def fit_logistic(rows: Sequence[dict[str, float]], labels: Sequence[bool], names: Sequence[str]) -> dict[str, Any]:
    """sigmoid(intercept + coef . x) fitted by L2 logistic regression; returned in raw feature units."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([[signals._transform(n, r[n]) for n in names] for r in rows], dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / std, np.array(labels, dtype=int))
    coef = model.coef_[0] / std
    intercept = float(model.intercept_[0] - (coef * mean).sum())
    return {"features": list(names), "intercept": _round(intercept), "coef": [_round(float(c)) for c in coef],
            "needs_top_logprobs": any(n in signals.NEEDS_TOP_LOGPROBS for n in names)}


def _cost(model: dict[str, Any] | None) -> str:
    if model is None:
        return f"{SAMPLES}x decode (n={SAMPLES} samples)"
    return "logprobs + top_logprobs" if model["needs_top_logprobs"] else "logprobs"


def cv_auroc(rows: Sequence[dict[str, float]], labels: Sequence[bool], names: Sequence[str], folds: int = FOLDS
             ) -> float:
    """Pooled out-of-fold AUROC of the logistic over `names`, K-fold inside these rows.

    In-sample AUROC flatters a many-feature fit; this is what choosing the
    default looks at (for one feature the two agree: a monotone map keeps the ranking).
    """
    scores = [0.0] * len(rows)
    for k in range(folds):
        train = [i for i in range(len(rows)) if i % folds != k]
        model = fit_logistic([rows[i] for i in train], [labels[i] for i in train], names)
        cal = {"signals": {"m": model}, "default_signal": "m"}
        for i in range(k, len(rows), folds):
            scores[i] = signals.logprob_confidence(rows[i], cal)  # type: ignore[assignment]
    return auroc(scores, labels)


def _round(x: float) -> float:
    return float(f"{x:.5g}")


def analyse(questions: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    by_id = {q["id"]: q for q in questions}
    rows = []
    for r in records:
        q = by_id[r["id"]]
        if r.get("prompt", q["prompt"]) != q["prompt"]:
            raise SystemExit(f"{r['id']}: the cache was built from other questions; rerun with --collect")
        text = r["greedy"]["text"]
        feats = signals.logprob_features(r["greedy"])
        samples = r["samples"]
        row = {"id": r["id"], "kind": q["kind"], "correct": parse_answer(text, q["a"], q["op"], q["b"]) == q["answer"],
               "features": feats,
               "consistency_exact": signals.exact_agreement(samples),
               "consistency_semantic": signals.semantic_agreement(samples),
               "consistency_combined": signals.consistency_confidence(samples),
               "consistency_exact_vs_answer": signals.exact_agreement(samples, reference=text),
               "consistency_semantic_vs_answer": signals.semantic_agreement(samples, reference=text),
               "consistency_combined_vs_answer": signals.consistency_confidence(samples, reference=text),
               "consistency_last_number_vs_answer": signals.exact_agreement(samples, reference=text,
                                                                              key="last_number"),
               "usage": r.get("usage")}
        rows.append(row)
    usable = [r for r in rows if all(v is not None for v in r["features"].values())]
    calib = [r for r in usable if is_calibration(r["id"])]
    test = [r for r in usable if not is_calibration(r["id"])]
    y_cal = [r["correct"] for r in calib]
    y_test = [r["correct"] for r in test]

    models: dict[str, dict[str, Any]] = {}
    for name in LOGPROB_SIGNALS:
        models[name] = fit_logistic([r["features"] for r in calib], y_cal, [name])
    for name, names in COMBINATIONS.items():
        models[name] = fit_logistic([r["features"] for r in calib], y_cal, names)
    calibration = {"format": signals.FORMAT, "signals": models}

    def score_fn(name: str) -> Callable[[dict[str, Any]], float]:
        if name in models:
            return lambda r: signals.logprob_confidence(r["features"], calibration, signal=name)  # type: ignore[return-value]
        return lambda r: r[name]

    table = []
    feature_rows = [r["features"] for r in calib]
    for name in (*LOGPROB_SIGNALS, *COMBINATIONS, *CONSISTENCY_SIGNALS):
        fn = score_fn(name)
        s_cal = [fn(r) for r in calib]
        s_test = [fn(r) for r in test]
        lo, hi = bootstrap_ci(s_test, y_test)
        within = _within_kind_auroc(test, s_test)
        table.append({
            "signal": name,
            "inline": name in models,
            "cost": _cost(models.get(name)),
            "auroc_calibration": round(auroc(s_cal, y_cal), 4),
            "auroc_calibration_cv": round(cv_auroc(feature_rows, y_cal, models[name]["features"]), 4)
            if name in models else None,
            "auroc_test": round(auroc(s_test, y_test), 4),
            "auroc_test_ci95": [round(lo, 4), round(hi, 4)],
            "auroc_test_within_kind": round(within, 4),
            "brier_test": round(sum((s - y) ** 2 for s, y in zip(s_test, y_test)) / len(y_test), 4)
            if name in models else None,
        })

    inline = [row for row in table if row["inline"] and "n_tokens" not in models[row["signal"]]["features"]]
    default = choose_default(inline, models)
    cal_conf = sorted(score_fn(default)(r) for r in calib)
    thresholds = {"annotate": _round(signals.quantile(cal_conf, 0.50)),
                  "hedge": _round(signals.quantile(cal_conf, 0.25)),
                  "abstain": _round(signals.quantile(cal_conf, 0.10))}
    bands = _bands(test, score_fn(default), thresholds)

    kinds = {}
    for kind in KINDS:
        ks = [r for r in rows if r["kind"] == kind]
        kinds[kind] = {"n": len(ks), "accuracy": round(sum(r["correct"] for r in ks) / len(ks), 4)}
    tokens = {"greedy_completion": sum((r["usage"] or {}).get("greedy", {}).get("completion_tokens", 0) for r in rows),
              "samples_completion": sum((r["usage"] or {}).get("samples", {}).get("completion_tokens", 0)
                                        for r in rows)}
    dataset = {
        "questions": len(rows), "usable": len(usable),
        "calibration": {"n": len(calib), "accuracy": round(sum(y_cal) / len(y_cal), 4)},
        "test": {"n": len(test), "accuracy": round(sum(y_test) / len(y_test), 4)},
        "accuracy": round(sum(r["correct"] for r in rows) / len(rows), 4),
        "kinds": kinds,
        "completion_tokens": tokens,
    }
    return {"calibration": calibration, "table": table, "default": default, "thresholds": thresholds,
            "bands_test": bands, "dataset": dataset}


def choose_default(rows: Sequence[dict[str, Any]], models: dict[str, dict[str, Any]]) -> str:
    """The cheapest good signal, by CV AUROC inside the calibration half (never the test half).

    Tier 0 needs only `logprobs: true`; tier 1 also `top_logprobs` (k
    alternatives per token: a bigger upstream answer to parse and strip).
    The cheapest tier whose best is within TIER_MARGIN of the overall best
    wins; inside it, near-ties (TIE) go to the signal with fewer features.
    """
    def tier(row: dict[str, Any]) -> int:
        return int(models[row["signal"]]["needs_top_logprobs"])

    best = max(row["auroc_calibration_cv"] for row in rows)
    cheapest = min(tier(row) for row in rows if row["auroc_calibration_cv"] >= best - TIER_MARGIN)
    pool = [row for row in rows if tier(row) == cheapest]
    top = max(row["auroc_calibration_cv"] for row in pool)
    near = [row for row in pool if row["auroc_calibration_cv"] >= top - TIE]
    return min(near, key=lambda row: (len(models[row["signal"]]["features"]), -row["auroc_calibration_cv"]))["signal"]


def _within_kind_auroc(test: Sequence[dict[str, Any]], scores: Sequence[float]) -> float:
    """AUROC averaged over kinds (weighted by size), kinds with one class skipped.

    Separating easy kinds from hard ones is part of the job, but a signal
    that only did that would be a difficulty detector; this number shows how
    much it also ranks answers within one kind of question.
    """
    total, weight = 0.0, 0
    for kind in KINDS:
        idx = [i for i, r in enumerate(test) if r["kind"] == kind]
        value = auroc([scores[i] for i in idx], [test[i]["correct"] for i in idx])
        if value == value:
            total += value * len(idx)
            weight += len(idx)
    return total / weight if weight else float("nan")


def _bands(test: Sequence[dict[str, Any]], fn: Callable[[dict[str, Any]], float], thresholds: dict[str, float]
           ) -> dict[str, dict[str, Any]]:
    """Test-half answers per action the thresholds would take, with their accuracy."""
    out: dict[str, dict[str, Any]] = {}
    for r in test:
        action = signals.level(fn(r), thresholds)
        band = out.setdefault(action, {"n": 0, "right": 0})
        band["n"] += 1
        band["right"] += r["correct"]
    order = ["ok", "annotate", "hedge", "abstain"]
    return {a: {"n": out[a]["n"], "share": round(out[a]["n"] / len(test), 4),
                "accuracy": round(out[a]["right"] / out[a]["n"], 4)} for a in order if a in out}


def write(result: dict[str, Any], calibration_path: Path = signals.DEFAULT_CALIBRATION,
          results_path: Path = RESULTS) -> None:
    import sklearn

    default_row = next(r for r in result["table"] if r["signal"] == result["default"])
    calibration = {
        "format": signals.FORMAT,
        "model": "SmolLM2-135M-Instruct on vLLM (CPU), chat, greedy answers",
        "default_signal": result["default"],
        "signals": result["calibration"]["signals"],
        "thresholds": result["thresholds"],
        "thresholds_note": "confidence below a threshold triggers that action; set at the 50/25/10 % quantiles "
                           "of the default signal's confidence on the calibration half",
        "evaluation": {"auroc_test": default_row["auroc_test"], "auroc_test_ci95": default_row["auroc_test_ci95"],
                       "test_n": result["dataset"]["test"]["n"], "generated_by": "python -m policies.uncertainty.evaluate",
                       "sklearn": sklearn.__version__},
    }
    calibration_path.write_text(_dumps(calibration))
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "benchmark": "uncertainty signals: AUROC for correctness of SmolLM2-135M-Instruct's greedy answers",
        "protocol": {"questions": "seeded arithmetic, 5 kinds", "seed": SEED, "per_kind": PER_KIND,
                     "greedy": {"temperature": 0, "max_tokens": MAX_TOKENS, "logprobs": True, "top_logprobs": 5},
                     "samples": {"n": SAMPLES, "temperature": SAMPLE_TEMPERATURE, "max_tokens": MAX_TOKENS},
                     "split": "by question id: even ordinal within kind = calibration, odd = test",
                     "fit": f"L2 logistic regression (C={C}) on the calibration half only",
                     "default_choice": f"{FOLDS}-fold CV AUROC inside the calibration half, inline (logprob) "
                                       f"signals without length; top_logprobs only if it gains > {TIER_MARGIN}; "
                                       f"ties within {TIE} to fewer features"},
        "dataset": result["dataset"],
        "table": result["table"],
        "default_signal": result["default"],
        "thresholds": result["thresholds"],
        "bands_test": result["bands_test"],
    }
    results_path.write_text(_dumps(results))


def _dumps(data: dict[str, Any]) -> str:
    """Indented JSON with each innermost object or list on one line (a table row per line)."""
    def leafy(value: Any) -> bool:
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        return not any(isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v))
                       for v in children)

    def dump(value: Any, depth: int) -> str:
        if not isinstance(value, (dict, list)) or leafy(value):
            return json.dumps(value)
        pad, inner = " " * depth, " " * (depth + 1)
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(k)}: {dump(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + f"\n{pad}}}"
        return "[\n" + ",\n".join(f"{inner}{dump(v, depth + 1)}" for v in value) + f"\n{pad}]"

    return dump(data, 0) + "\n"


def print_report(result: dict[str, Any]) -> None:
    d = result["dataset"]
    print(f"questions {d['questions']} (usable {d['usable']}), accuracy {d['accuracy']:.1%}; "
          f"calibration n={d['calibration']['n']} acc={d['calibration']['accuracy']:.1%}, "
          f"test n={d['test']['n']} acc={d['test']['accuracy']:.1%}")
    print("  " + ", ".join(f"{k} {v['accuracy']:.0%} (n={v['n']})" for k, v in d["kinds"].items()))
    print(f"{'signal':34} {'AUROC cal':>9} {'cal CV':>6} {'AUROC test':>10} {'95% CI':>15} {'within kind':>11} "
          f"{'Brier':>6}")
    for row in result["table"]:
        lo, hi = row["auroc_test_ci95"]
        brier = f"{row['brier_test']:.3f}" if row["brier_test"] is not None else "-"
        cv = f"{row['auroc_calibration_cv']:.3f}" if row["auroc_calibration_cv"] is not None else "-"
        print(f"{row['signal']:34} {row['auroc_calibration']:9.3f} {cv:>6} {row['auroc_test']:10.3f} "
              f"{f'[{lo:.3f}, {hi:.3f}]':>15} {row['auroc_test_within_kind']:11.3f} {brier:>6}")
    print(f"default signal: {result['default']}; thresholds {result['thresholds']}")
    print("test bands: " + ", ".join(f"{a} n={b['n']} acc={b['accuracy']:.0%}" for a, b in result["bands_test"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.uncertainty.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collect", action="store_true", help="ask vLLM again (else analyse the cache)")
    parser.add_argument("--base-url", help="a running vLLM's /v1 URL serving the model as 'smollm2' (else started)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--no-write", action="store_true", help="print only; leave calibration.json and results")
    args = parser.parse_args(argv)

    questions = build_questions()
    if args.collect or not args.cache.exists():
        proc = None
        base_url = args.base_url
        if base_url is None:
            wait_for_idle_cpu()
            t0 = time.monotonic()
            proc, base_url = start_vllm()
            print(f"vLLM ready in {time.monotonic() - t0:.0f} s at {base_url}", file=sys.stderr)
        try:
            t0 = time.monotonic()
            records = collect(base_url, questions)
            print(f"collected {len(records)} answers in {time.monotonic() - t0:.0f} s", file=sys.stderr)
        finally:
            if proc is not None:
                stop_vllm(proc)
        save(records, args.cache)
    records = load(args.cache)
    result = analyse(questions, records)
    print_report(result)
    if not args.no_write:
        write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
