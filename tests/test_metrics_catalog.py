"""README's metrics table is the catalog: it must list exactly what the gateway
registers, with the same type and labels, so it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.config import default_config

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\|\s*`(?P<name>semgate_\w+)`\s*\|\s*(?P<type>\w+)\s*\|\s*(?P<labels>[^|]*)\|")


def readme_catalog() -> dict[str, tuple[str, frozenset[str]]]:
    text = README.read_text()
    start = text.index("\n## Metrics\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end != -1 else None]
    catalog: dict[str, tuple[str, frozenset[str]]] = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        name = match["name"]
        assert name not in catalog, f"{name} is listed twice in README's metrics table"
        labels = frozenset(part.strip() for part in match["labels"].split(",") if part.strip() not in ("", "–", "-"))
        catalog[name] = (match["type"], labels)
    assert catalog, "no metrics table under README's ## Metrics"
    return catalog


def registered() -> dict[str, tuple[str, frozenset[str], Any]]:
    """Exported name -> (type, labels, collector) of everything a gateway registers."""
    gateway = Gateway(default_config())
    out: dict[str, tuple[str, frozenset[str], Any]] = {}
    for collector in gateway.metrics.registry._collector_to_names:
        kind = collector._type
        name = collector._name + ("_total" if kind == "counter" else "")
        out[name] = (kind, frozenset(collector._labelnames), collector)
    return out


@pytest.fixture(scope="module")
def code() -> dict[str, tuple[str, frozenset[str], Any]]:
    return registered()


def test_readme_lists_every_metric_and_nothing_else(code: dict[str, Any]) -> None:
    documented = readme_catalog()
    missing = sorted(set(code) - set(documented))
    stale = sorted(set(documented) - set(code))
    assert not missing, f"metrics missing from README's ## Metrics table: {missing}"
    assert not stale, f"README lists metrics the gateway does not export: {stale}"


def test_readme_types_and_labels_match(code: dict[str, Any]) -> None:
    documented = readme_catalog()
    wrong = {
        name: {"readme": (documented[name][0], sorted(documented[name][1])), "code": (kind, sorted(labels))}
        for name, (kind, labels, _) in code.items()
        if name in documented and documented[name] != (kind, labels)
    }
    assert not wrong, f"README's type or labels differ from the code: {wrong}"


def test_every_gauge_says_how_workers_combine(code: dict[str, Any]) -> None:
    """With --workers N, a gauge left in prometheus_client's default mode ("all")
    would grow a pid label: each gauge must choose how workers add up."""
    defaulted = [name for name, (kind, _, c) in code.items() if kind == "gauge" and c._multiprocess_mode == "all"]
    assert not defaulted, f"gauges without a multiprocess_mode: {defaulted}"
