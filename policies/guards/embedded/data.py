"""The safety data sets and their fixed train / test splits.

Stdlib only: the benchmark and the tests read the data without the training
extras. Data lives outside the repository, in `../shared/data/safety/`
relative to the project root (CI has a copy beside the clone).

- OpenAI moderation evaluation set (1,680 prompts; English original in
  `openai_moderation_samples-1680.jsonl.gz` with per-category flags, and the
  same prompts machine-translated in `openai_moderation_{en,fr,es,de}.json`,
  same order). A prompt is unsafe when any category flag is 1; a missing
  flag means "not labelled".
- XSTest v2 (`xstest_prompts.csv`): 250 safe prompts that look unsafe and
  200 unsafe contrasts. Never trained on.

Split (`moderation_split`): by prompt index, the same for every language, so
the translation of a test prompt is never trained on. Indices with
`i % 5 in (1, 3)` are test (672 prompts, 40%), the rest train (1,008).
The file is ordered by category (the first rows are all self-harm), so an
interleaved split keeps every category in both halves.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "safety"
LANGS = ("en", "fr", "es", "de")

# The moderation set's category codes and the names the guard reports.
CODES = {
    "S": "sexual",
    "H": "hate",
    "V": "violence",
    "HR": "harassment",
    "SH": "self-harm",
    "S3": "sexual/minors",
    "H2": "hate/threatening",
    "V2": "violence/graphic",
}
# Not in the moderation set: crime, weapons and doxxing requests (the
# guard's own synthetic data labels it).
ILLICIT = "illicit"
CATEGORIES = (*CODES.values(), ILLICIT)

TEST_REMAINDERS = (1, 3)
SPLIT_MODULUS = 5


@dataclass(frozen=True, slots=True)
class Prompt:
    index: int  # position in the moderation set (shared by the translations); XSTest: its id
    lang: str
    text: str
    unsafe: bool
    # category name -> 1 / 0; a category missing here is not labelled.
    labels: dict[str, int]


def data_dir(path: str | Path | None = None) -> Path:
    return Path(path) if path is not None else DEFAULT_DATA


def is_test_index(index: int) -> bool:
    return index % SPLIT_MODULUS in TEST_REMAINDERS


def moderation(lang: str, data: str | Path | None = None) -> list[Prompt]:
    """All 1,680 moderation prompts in one language, in file order."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; have {LANGS}")
    root = data_dir(data)
    with gzip.open(root / "openai_moderation_samples-1680.jsonl.gz", "rt", encoding="utf-8") as f:
        flags = [json.loads(line) for line in f if line.strip()]
    with open(root / f"openai_moderation_{lang}.json", encoding="utf-8") as f:
        rows = json.load(f)
    if len(rows) != len(flags):
        raise ValueError(f"{lang}: {len(rows)} prompts, the flag file has {len(flags)}")
    out = []
    for i, (row, flag) in enumerate(zip(rows, flags)):
        labels = {name: int(flag[code]) for code, name in CODES.items() if code in flag}
        unsafe = any(labels.values())
        if unsafe != bool(int(row["moderation_flag"])):
            raise ValueError(f"{lang} #{i}: moderation_flag disagrees with the category flags")
        out.append(Prompt(i, lang, row["prompt"], unsafe, labels))
    return out


def moderation_split(lang: str, data: str | Path | None = None) -> tuple[list[Prompt], list[Prompt]]:
    """(train, test) moderation prompts in one language."""
    rows = moderation(lang, data)
    return [p for p in rows if not is_test_index(p.index)], [p for p in rows if is_test_index(p.index)]


@dataclass(frozen=True, slots=True)
class XSTestPrompt:
    id: int
    text: str
    unsafe: bool
    type: str  # e.g. "homonyms", "contrast_homonyms"


def xstest(data: str | Path | None = None) -> list[XSTestPrompt]:
    """XSTest v2: 250 safe and 200 unsafe prompts (test only)."""
    with open(data_dir(data) / "xstest_prompts.csv", newline="", encoding="utf-8") as f:
        return [XSTestPrompt(int(r["id"]), r["prompt"], r["label"] == "unsafe", r["type"]) for r in csv.DictReader(f)]
