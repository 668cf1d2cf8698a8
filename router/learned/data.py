"""The RouteLLM MMLU routing data and its fixed train / held-out split.

Stdlib only: the benchmark and the tests read the data without the training
extras. Data lives outside the repository, in `../shared/data/routing/`
relative to the project root (CI has a copy beside the clone).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "routing"
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
STRONG = "gpt-4-1106-preview"
CONTAMINATED = "routellm_mmlu_contaminated_prompts.jsonl"

# Every HELD_OUT_EVERY-th subject in alphabetical order, starting with the
# first, is never trained on: a split by subject, so the held-out score says
# how the router does on topics it has not seen, not on near-duplicates.
HELD_OUT_EVERY = 4

# GPT-4 scores 3% on this subject in RouteLLM's responses, far below the 25%
# of guessing: an answer-extraction failure, not the model. Training on it
# would teach "maths needs no strong model". Only dropped from training; it
# is not in the held-out set either way.
BROKEN_LABELS = frozenset({"high_school_mathematics"})


@dataclass(frozen=True, slots=True)
class Question:
    subject: str
    prompt: str
    weak: bool  # Mixtral answered correctly
    strong: bool  # GPT-4 answered correctly


def data_dir(path: str | Path | None = None) -> Path:
    return Path(path) if path is not None else DEFAULT_DATA


def subjects(data: str | Path | None = None) -> list[str]:
    """All subjects present, alphabetically (the order the split uses)."""
    files = sorted((data_dir(data) / "routellm_mmlu").glob("mmlu_*.csv"))
    if not files:
        raise FileNotFoundError(f"no mmlu_*.csv under {data_dir(data) / 'routellm_mmlu'}")
    return [f.stem.removeprefix("mmlu_") for f in files]


def split(names: list[str]) -> tuple[list[str], list[str]]:
    """(train, held_out) subjects; `names` must be in alphabetical order."""
    held = [s for i, s in enumerate(names) if i % HELD_OUT_EVERY == 0]
    train = [s for i, s in enumerate(names) if i % HELD_OUT_EVERY != 0 and s not in BROKEN_LABELS]
    return train, held


def _contaminated(data: Path) -> set[str]:
    # RouteLLM drops MMLU prompts whose text appears in its router training
    # data; it matches on the evaluation-side text.
    with open(data / CONTAMINATED, encoding="utf-8") as f:
        return {json.loads(line)["eval_prompt"] for line in f if line.strip()}


def load(names: list[str], data: str | Path | None = None) -> list[Question]:
    """The questions of these subjects, contaminated prompts removed."""
    root = data_dir(data)
    skip = _contaminated(root)
    out: list[Question] = []
    for name in names:
        with open(root / "routellm_mmlu" / f"mmlu_{name}.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["prompt"] in skip:
                    continue
                out.append(Question(name, row["prompt"], row[WEAK] == "True", row[STRONG] == "True"))
    return out
