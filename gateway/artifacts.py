"""Reading the JSON artifacts Semgate ships (the learned router, the embedded guard)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_artifact(path: str | Path | None, *, default: Path, kind: str, feature_version: int, retrain: str) -> dict[str, Any]:
    """The artifact at `path` (default: the committed one), checked to be a `kind`
    artifact trained with this code's features (else its weights would mean nothing)."""
    with open(path if path is not None else default, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != kind:
        raise ValueError(f"{path}: not a {kind} artifact")
    if doc.get("feature_version") != feature_version:
        raise ValueError(
            f"artifact was trained with feature version {doc.get('feature_version')}, "
            f"the code has {feature_version}: retrain ({retrain})"
        )
    return doc
