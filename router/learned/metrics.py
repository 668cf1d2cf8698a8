"""Cost/quality routing metrics, as RouteLLM defines them.

A router gives each question a score; a threshold sends the questions at or
above it to the strong model. Sweeping the threshold from "nothing" to
"everything" traces quality against the share of strong calls:

- PGR (performance gap recovered) at a point = (quality - weak) / (strong - weak),
  where weak / strong are the accuracies of always using one model;
- APGR = area under PGR over the strong-call share in [0, 1] (trapezoids);
  a random router's curve is the diagonal, so random ~ 0.5;
- CPT(x) = the strong-call share needed to reach PGR x (first crossing).

RouteLLM samples 10 quantile thresholds; this sweeps every distinct score,
the limit of that (no binning noise). Ties never split: one threshold moves a
whole group of equal scores. Pure functions on plain sequences.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

Curve = list[tuple[float, float]]  # (strong-call share, PGR), share ascending


def accuracy(correct: Sequence[bool]) -> float:
    return sum(correct) / len(correct)


def pgr(quality: float, weak: float, strong: float) -> float:
    if strong == weak:
        raise ValueError("PGR is undefined when both models are equally accurate")
    return (quality - weak) / (strong - weak)


def routing_curve(scores: Sequence[float], weak: Sequence[bool], strong: Sequence[bool]) -> Curve:
    """PGR at every threshold, from 0 strong calls to all of them."""
    n = len(scores)
    if not n or len(weak) != n or len(strong) != n:
        raise ValueError("scores, weak and strong must be non-empty and of equal length")
    weak_acc, strong_acc = accuracy(weak), accuracy(strong)
    order = sorted(range(n), key=lambda i: -scores[i])
    correct = sum(weak)  # everything to the weak model
    curve: Curve = [(0.0, 0.0)]
    i = 0
    while i < n:
        j = i
        while j < n and scores[order[j]] == scores[order[i]]:
            moved = order[j]
            correct += strong[moved] - weak[moved]
            j += 1
        curve.append((j / n, pgr(correct / n, weak_acc, strong_acc)))
        i = j
    return curve


def apgr(curve: Curve) -> float:
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(curve))


def cpt(curve: Curve, target: float) -> float:
    """Strong-call share at which PGR first reaches `target` (interpolated)."""
    for (x0, y0), (x1, y1) in itertools.pairwise(curve):
        if y1 >= target:
            if y0 >= target or y1 == y0:
                return x0
            return x0 + (x1 - x0) * (target - y0) / (y1 - y0)
    return 1.0


def threshold_for_share(scores: Sequence[float], share: float) -> float:
    """The score threshold (route when score >= it) that sends about `share`
    of these prompts to the strong model: how a call budget becomes a
    threshold, given scores of representative traffic."""
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    ranked = sorted(scores, reverse=True)
    return ranked[max(1, round(share * len(ranked))) - 1]


def summary(scores: Sequence[float], weak: Sequence[bool], strong: Sequence[bool]) -> dict[str, float]:
    """APGR and CPT(50%) / CPT(80%) (as % of calls) of one router."""
    curve = routing_curve(scores, weak, strong)
    return {
        "apgr": round(apgr(curve), 4),
        "cpt50_pct": round(100 * cpt(curve, 0.5), 2),
        "cpt80_pct": round(100 * cpt(curve, 0.8), 2),
    }


def random_summary(weak: Sequence[bool], strong: Sequence[bool], seeds: int = 10) -> dict[str, float]:
    """`summary` of a random router, averaged over `seeds` fixed seeds."""
    runs = []
    for seed in range(seeds):
        rng = random.Random(seed)
        runs.append(summary([rng.random() for _ in weak], weak, strong))
    return {key: round(sum(r[key] for r in runs) / seeds, 4) for key in runs[0]}
