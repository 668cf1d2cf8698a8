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
    def length(self) -> int:
        """Characters of the template as written, placeholders included."""
        return sum(len(p) if isinstance(p, str) else len(p.name) + 4 for p in self.pieces)

    @property
    def names(self) -> list[str]:
        """Placeholder names in order of first appearance."""
        return list(dict.fromkeys(piece.name for piece in self.pieces if isinstance(piece, Slot)))

    def render_until(self, output: str, values: dict[str, str], limit: int | None = None) -> str:
        """The prompt that generates `output`: everything before its first
        occurrence, placeholders filled from `values`. Raises PromptTooLong past
        `limit` characters (a small template repeating a large value would
        otherwise render without bound)."""
        parts: list[str] = []
        size = 0
        for piece in self.pieces:
            if isinstance(piece, Slot) and piece.name == output:
                return "".join(parts)
            text = piece if isinstance(piece, str) else values[piece.name]
            size += len(text)
            if limit is not None and size > limit:
                raise PromptTooLong(f"the prompt for {output!r} would be longer than {limit} characters")
            parts.append(text)
        raise KeyError(output)

    def prefix(self, values: dict[str, str], chars: int) -> str:
        """The first `chars` characters of the rendered template (inputs filled;
        rendering stops at the first unknown value, such as an output)."""
        parts: list[str] = []
        size = 0
        for piece in self.pieces:
            text = piece if isinstance(piece, str) else values.get(piece.name)
            if text is None:
                break
            parts.append(text)
            size += len(text)
            if size >= chars:
                break
        return "".join(parts)[:chars]


class PromptTooLong(ValueError):
    """A rendered prompt would exceed its limit."""
