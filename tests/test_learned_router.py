"""The learned cost/quality router: its metrics, its scorer, its artifact.

The metric tests use hand-made cases whose curves can be worked out on
paper. The artifact tests read the shared RouteLLM data and re-measure the
committed scorer, so an artifact that no longer matches the code (features
changed, split changed, retrained badly) fails here.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from router.learned import DEFAULT_ARTIFACT, LearnedScorer, data, features, metrics

# Eight questions: the weak model gets 3 right, the strong one 6; questions
# 1, 2 and 5 are the only ones where the strong model is needed.
WEAK = [True, False, False, True, False, False, True, False]
STRONG = [True, True, True, True, False, True, True, False]
NEEDED = [float(s and not w) for w, s in zip(WEAK, STRONG)]


# --- metrics ----------------------------------------------------------------


def test_pgr_is_the_share_of_the_gap_recovered() -> None:
    assert metrics.pgr(0.70, weak=0.60, strong=0.80) == pytest.approx(0.5)
    assert metrics.pgr(0.60, weak=0.60, strong=0.80) == 0.0
    with pytest.raises(ValueError):
        metrics.pgr(0.7, weak=0.5, strong=0.5)


def test_oracle_recovers_the_whole_gap_with_the_fewest_strong_calls() -> None:
    curve = metrics.routing_curve(NEEDED, WEAK, STRONG)
    # The three needed questions move together (tied scores), then the rest.
    assert curve == [(0.0, 0.0), (3 / 8, 1.0), (1.0, 1.0)]
    assert metrics.apgr(curve) == pytest.approx(3 / 8 * 0.5 + 5 / 8)
    assert metrics.cpt(curve, 0.5) == pytest.approx(3 / 16)


def test_anti_oracle_scores_low() -> None:
    curve = metrics.routing_curve([1 - x for x in NEEDED], WEAK, STRONG)
    assert curve == [(0.0, 0.0), (5 / 8, 0.0), (1.0, 1.0)]
    assert metrics.apgr(curve) == pytest.approx(3 / 8 * 0.5)
    assert metrics.cpt(curve, 0.8) > 0.9


def test_ties_never_split_so_a_constant_router_is_the_diagonal() -> None:
    curve = metrics.routing_curve([0.3] * 8, WEAK, STRONG)
    assert curve == [(0.0, 0.0), (1.0, 1.0)]
    assert metrics.apgr(curve) == 0.5
    assert metrics.cpt(curve, 0.8) == pytest.approx(0.8)


def test_cpt_interpolates_and_caps_at_all_calls() -> None:
    curve = [(0.0, 0.0), (0.5, 1.0), (1.0, 1.0)]
    assert metrics.cpt(curve, 0.5) == pytest.approx(0.25)
    assert metrics.cpt(curve, 0.8) == pytest.approx(0.4)
    assert metrics.cpt([(0.0, 0.0), (1.0, 0.9)], 0.95) == 1.0


def test_threshold_for_share_turns_a_call_budget_into_a_threshold() -> None:
    scores = [0.1, 0.9, 0.5, 0.7, 0.3, 0.2, 0.8, 0.6, 0.4, 0.0]
    threshold = metrics.threshold_for_share(scores, 0.3)
    assert threshold == 0.7
    assert sum(s >= threshold for s in scores) == 3
    assert metrics.threshold_for_share(scores, 1.0) == 0.0
    assert metrics.threshold_for_share(scores, 0.01) == 0.9  # at least one call
    with pytest.raises(ValueError):
        metrics.threshold_for_share(scores, 0)


def test_random_router_scores_about_half() -> None:
    rng = random.Random(7)
    weak = [rng.random() < 0.6 for _ in range(20_000)]
    strong = [rng.random() < 0.8 for _ in range(20_000)]
    result = metrics.random_summary(weak, strong, seeds=3)
    assert result["apgr"] == pytest.approx(0.5, abs=0.02)
    assert result["cpt50_pct"] == pytest.approx(50, abs=3)
    assert result["cpt80_pct"] == pytest.approx(80, abs=3)


def test_routing_curve_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError):
        metrics.routing_curve([0.1, 0.2], WEAK, STRONG)
    with pytest.raises(ValueError):
        metrics.routing_curve([], [], [])


# --- scorer -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scorer() -> LearnedScorer:
    return LearnedScorer.load()


PROMPTS = [
    "",
    "What is the capital of France?",
    (
        "Statement 1 | Every group of order 4 is cyclic. Statement 2 | Z_4 is cyclic.\n"
        "A. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer:"
    ),
    "Calculate 17 * 23 - 5^3 and explain each step. ∑ π √2",
    "word " * 100_000,  # far past the n-gram window
]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_score_is_a_probability(scorer: LearnedScorer, prompt: str) -> None:
    value = scorer.score(prompt)
    assert isinstance(value, float)
    assert 0.0 <= value <= 1.0


def test_huge_prompts_cost_a_bounded_time(scorer: LearnedScorer) -> None:
    # Features read a bounded window; without it this would take ~0.5 s.
    # (The real latency numbers are benchmarks/_routing_quality.py's.)
    huge = "+-" * 500_000
    start = time.perf_counter()
    scorer.score(huge)
    assert time.perf_counter() - start < 0.05


def test_score_is_deterministic_across_loads(scorer: LearnedScorer) -> None:
    again = LearnedScorer.load(DEFAULT_ARTIFACT)
    for prompt in PROMPTS:
        assert scorer.score(prompt) == scorer.score(prompt) == again.score(prompt)


def test_prompts_are_told_apart(scorer: LearnedScorer) -> None:
    assert len({round(scorer.score(p), 9) for p in PROMPTS}) == len(PROMPTS)


def test_text_hashing_is_stable() -> None:
    # CRC-32 buckets, not hash(): the same across processes and machines.
    assert features.extract("Answer: 42")[0] == features.extract("answer: 7")[0]
    buckets, value, _ = features.extract("the cat")
    assert buckets == [28134, 17320, 61870] and value == pytest.approx(3**-0.5)


def test_artifact_from_other_feature_code_is_refused(tmp_path: Path) -> None:
    doc = json.loads(DEFAULT_ARTIFACT.read_text())
    doc["feature_version"] = features.VERSION + 1
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="retrain"):
        LearnedScorer.load(stale)


# --- the committed artifact ---------------------------------------------------


def test_artifact_is_small_and_its_split_is_clean(scorer: LearnedScorer) -> None:
    assert DEFAULT_ARTIFACT.stat().st_size < 2_000_000
    split = scorer.meta["split"]
    held, train = set(split["held_out_subjects"]), set(split["train_subjects"])
    assert held and train
    assert not held & train
    assert not held & set(split["dropped_from_training"])


needs_data = pytest.mark.skipif(
    not (data.DEFAULT_DATA / "routellm_mmlu").is_dir(), reason=f"no shared data at {data.DEFAULT_DATA}"
)


@needs_data
def test_artifact_split_is_the_documented_rule(scorer: LearnedScorer) -> None:
    train, held = data.split(data.subjects())
    assert scorer.meta["split"]["held_out_subjects"] == held
    assert scorer.meta["split"]["train_subjects"] == train
    assert len(held) + len(train) + len(data.BROKEN_LABELS) == len(data.subjects()) == 57


@needs_data
def test_committed_artifact_reaches_its_recorded_held_out_quality(scorer: LearnedScorer) -> None:
    recorded = scorer.meta["held_out"]
    questions = data.load(scorer.meta["split"]["held_out_subjects"])
    assert len(questions) == recorded["n"]
    weak = [q.weak for q in questions]
    strong = [q.strong for q in questions]
    measured = metrics.summary([scorer.score(q.prompt) for q in questions], weak, strong)
    assert measured["apgr"] >= recorded["apgr"] - 0.002
    # And it is a router at all: clearly better than random on unseen subjects.
    assert measured["apgr"] > metrics.random_summary(weak, strong, seeds=3)["apgr"] + 0.05
