"""What every safety guard answers, and the interface the policy pipeline calls.

A guard judges one piece of text — a user's prompt, or an answer (or a window
of a streamed answer) — and returns a `Verdict`. Guards differ in where they
run (an upstream Llama Guard model, a classifier served by vLLM, an embedded
CPU model) but the pipeline treats them alike: it awaits `check`, with a
timeout, and applies its fail-open / fail-closed rule when a guard raises
`GuardError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["user", "assistant"]


class GuardError(Exception):
    """The guard could not judge: unreachable, timed out, or answered garbage."""


@dataclass(frozen=True, slots=True)
class Verdict:
    unsafe: bool
    # Probability-like unsafe score in [0, 1] (the guard's own calibration).
    score: float
    # Flagged categories, as the guard names them (Llama Guard's "S1".."S14",
    # moderation-style "violence", ...), most severe / most likely first.
    categories: tuple[str, ...] = ()
    # Per-category scores where the guard gives them.
    scores: Mapping[str, float] = field(default_factory=dict)


class Guard(ABC):
    """A safety classifier. Implementations must be safe to call concurrently."""

    name: str = "guard"
    # True for guards that judge in this process without awaiting anything (the
    # embedded classifier): they need no timeout timer around them.
    in_process: bool = False

    @abstractmethod
    async def check(self, text: str, *, role: Role = "user", prompt: str | None = None) -> Verdict:
        """Judge `text`. For role "assistant", `prompt` is the user turn it answers
        (Llama Guard judges a response in its conversation). Raises GuardError."""

    async def close(self) -> None:  # noqa: B027 - only guards holding connections need it
        """Release connections."""
