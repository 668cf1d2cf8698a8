"""`detect`: run the detectors, then keep one finding per span of text."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from policies.pii.detectors import DETECTORS
from policies.pii.finding import KINDS, Finding, Kind


def check_kinds(kinds: Iterable[str] | None) -> tuple[Kind, ...]:
    """The kinds to run, in detector order; a typo in a policy is an error, not a no-op."""
    if kinds is None:
        return KINDS
    wanted = set(kinds)
    unknown = wanted.difference(KINDS)
    if unknown:
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in wanted)


def detect(text: str, kinds: Iterable[str] | None = None) -> list[Finding]:
    """Personal data and secrets in `text`, sorted by position, never overlapping.

    `kinds` limits the search (see KINDS); None means all of them. Raises
    ValueError for an unknown kind.
    """
    selected = check_kinds(kinds)
    if not text:
        return []
    found: list[Finding] = []
    for kind in selected:
        found.extend(DETECTORS[kind](text))
    if len(found) < 2:
        return found
    return resolve_overlaps(found)


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the longest finding of each overlapping group (then the most specific).

    Greedy over candidates longest first: a candidate is kept when it does not
    overlap one already kept. `starts`/`ends` hold the kept spans sorted, so
    each test is one bisect rather than a scan.
    """
    ranked = sorted(findings, key=lambda f: (f.start - f.end, -f.priority, f.start))
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Finding] = []
    for f in ranked:
        i = bisect_left(starts, f.start)
        # Kept spans don't overlap each other, so only the neighbours can clash.
        if i > 0 and ends[i - 1] > f.start:
            continue
        if i < len(starts) and starts[i] < f.end:
            continue
        starts.insert(i, f.start)
        ends.insert(i, f.end)
        kept.append(f)
    kept.sort(key=lambda f: f.start)
    return kept
