"""Prompt templates: constant text with `{{name}}` placeholders.

A template is parsed once into pieces — text and placeholders, in order — so
rendering the prompt for each output is a join, and the constant prefix
(the text before the first placeholder) is known without rendering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Slot:
    name: str


@dataclass(frozen=True, slots=True)
class Template:
    pieces: tuple[str | Slot, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        pieces: list[str | Slot] = []
        position = 0
        for match in PLACEHOLDER.finditer(text):
            if match.start() > position:
                pieces.append(text[position : match.start()])
            pieces.append(Slot(match.group(1)))
            position = match.end()
        if position < len(text):
            pieces.append(text[position:])
        return cls(tuple(pieces))

    @property
    def names(self) -> list[str]:
        """Placeholder names in order of first appearance."""
        return list(dict.fromkeys(piece.name for piece in self.pieces if isinstance(piece, Slot)))

    def render_until(self, output: str, values: dict[str, str]) -> str:
        """The prompt that generates `output`: everything before its first
        occurrence, placeholders filled from `values`."""
        parts: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(piece)
            elif piece.name == output:
                return "".join(parts)
            else:
                parts.append(values[piece.name])
        raise KeyError(output)
