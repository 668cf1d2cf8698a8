"""Latency of detection / redaction, for the gateway's benchmark to call.

    from policies.pii import benchmark, sample_prompts
    benchmark(sample_prompts())   # {"p50_ms": ..., "p99_ms": ..., "cpu_p50_ms": ..., "cpu_p99_ms": ..., ...}
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from policies.pii.detect import detect
from policies.pii.redact import Redactor

# Typical prompt material: prose in several languages, code, JSON, logs; some
# paragraphs carry PII or secrets, most don't (as in real traffic).
_PARAGRAPHS: Final[tuple[str, ...]] = (
    "Can you summarise the following meeting notes and list the action items? The team agreed to move the "
    "release to next Tuesday, pending QA sign-off on the payment flow and the new onboarding screens.",
    "Bonjour, je vous écris au sujet de ma commande 48213. Vous pouvez me joindre au 06 12 34 56 78 ou par "
    "courriel à jeanne.martin@exemple.fr. Merci de me rappeler avant vendredi.",
    "Sehr geehrte Damen und Herren, bitte überweisen Sie den Betrag auf das Konto DE89 3704 0044 0532 0130 00. "
    "Bei Rückfragen erreichen Sie mich unter 030 12345678.",
    "Hola, necesito ayuda con mi factura de marzo. El importe de 1.234,56 euros no coincide con el contrato "
    "firmado el 15/03/2024. Mi teléfono es +34 612 34 56 78.",
    "def retry(fn, attempts=3, delay=0.5):\n    for i in range(attempts):\n        try:\n            return fn()\n"
    "        except TimeoutError:\n            time.sleep(delay * 2 ** i)\n    raise RuntimeError('gave up')\n",
    '{"user": {"id": 1842, "name": "Alex", "plan": "pro", "created": "2023-11-02T09:14:00Z"}, '
    '"usage": {"tokens": 128734, "requests": 5123, "errors": 12}}',
    "2024-05-02 10:14:03 INFO server listening on 10.0.3.17:8080 (pid 4412); upstream 2001:db8::42 healthy, "
    "latency p50=12ms p99=48ms, version 1.4.2",
    "Translate into French: 'The quarterly report shows revenue growth of 12% year over year, driven mostly by "
    "the enterprise segment and lower churn in the SMB tier.'",
    "My card 4111 1111 1111 1111 was charged twice for order #1029384. Please refund one of the charges.",
    "export OPENAI_API_KEY=sk-proj-Xk29fQ8LmZr7Tn4Vb1Wc6Ys3Ud0Ea5Hg2Jp9Kq\ncurl -H 'Authorization: Bearer "
    "tok_8fJ2kL9mN3pQ7rS1tV5wX0yZ' https://api.example.com/v1/items",
    "Explain the difference between a process and a thread, with an example in Python and one in Go. Keep it "
    "short and mention the GIL.",
    "Write a haiku about autumn leaves falling on a quiet river, then explain the syllable count of each line.",
    "Customer SSN on file: 123-45-6789. Callback number (415) 555-2671. Do not share outside the support team.",
    "Résume ce texte en trois phrases : la ville a annoncé un plan de rénovation des écoles primaires, financé "
    "sur cinq ans, avec une priorité donnée à l'isolation thermique et aux cantines.",
)


def sample_prompts(n: int = 200, seed: int = 7, min_chars: int = 1024, max_chars: int = 2048) -> list[str]:
    """`n` deterministic 1-2 KB prompts assembled from the paragraphs above."""
    rng = random.Random(seed)
    prompts: list[str] = []
    for _ in range(n):
        target = rng.randint(min_chars, max_chars)
        parts: list[str] = []
        size = 0
        while size < target:
            p = rng.choice(_PARAGRAPHS)
            parts.append(p)
            size += len(p) + 2
        prompts.append("\n\n".join(parts)[:max_chars])
    return prompts


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    # Nearest rank: a value that was actually measured.
    idx = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[idx]


def benchmark(
    samples: Iterable[str],
    *,
    kinds: Iterable[str] | None = None,
    op: Literal["redact", "detect"] = "redact",
    min_runs: int = 2000,
) -> dict[str, float]:
    """Per-call latency over `samples` (cycled until `min_runs` calls), in ms.

    Returns wall-clock p50_ms and p99_ms, the same for thread CPU time
    (cpu_p50_ms, cpu_p99_ms), plus runs and mean_chars for context. The first
    pass over the samples is a warm-up and not counted.
    """
    texts = list(samples)
    if not texts:
        raise ValueError("benchmark needs at least one sample")
    redactor = Redactor(kinds)
    kind_list = redactor.kinds
    call = redactor.redact if op == "redact" else (lambda t: detect(t, kind_list))
    for t in texts:
        call(t)
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    times: list[float] = []
    cpu_times: list[float] = []
    runs = max(min_runs, len(texts))
    for i in range(runs):
        t = texts[i % len(texts)]
        t0, c0 = clock(), cpu_clock()
        call(t)
        c1, t1 = cpu_clock(), clock()
        times.append((t1 - t0) / 1e6)
        cpu_times.append((c1 - c0) / 1e6)
    times.sort()
    cpu_times.sort()
    return {
        "p50_ms": _percentile(times, 0.50),
        "p99_ms": _percentile(times, 0.99),
        # CPU time of this thread: on a loaded machine the wall-clock tail is
        # mostly preemption (a 4 ms scheduler tick), which this leaves out.
        "cpu_p50_ms": _percentile(cpu_times, 0.50),
        "cpu_p99_ms": _percentile(cpu_times, 0.99),
        "runs": float(runs),
        "mean_chars": sum(len(t) for t in texts) / len(texts),
    }
