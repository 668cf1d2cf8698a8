"""Requests as the engine tracks them: sampling parameters, per-choice
sequences, and the outputs queued back to the HTTP layer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .guard import VerdictGenerator
from .kv import Block
from .text import GenToken, Prompt, ProseGenerator, ScriptGenerator, StopChecker


@dataclass(frozen=True, slots=True)
class ToolCallSpec:
    """Answer with a call of this function instead of text."""

    name: str
    parameters: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SamplingParams:
    max_tokens: int | None = None  # None: the profile's default_max_tokens
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False
    top_logprobs: int | None = None  # None: no logprobs; k: sampled token plus top k
    n: int = 1
    tool: ToolCallSpec | None = None


@dataclass(slots=True)
class SeqOutput:
    """One step's result for one choice, as queued to the request's consumer."""

    index: int
    text: str  # text delta (stop strings held back / cut off)
    token: GenToken | None  # None when the choice was aborted
    finish_reason: str | None  # "stop" | "length" | "tool_calls" | "abort"


class SimRequest:
    """A submitted request; its choices' outputs arrive on `outputs`."""

    def __init__(
        self,
        request_id: int,
        prompt: Prompt,
        params: SamplingParams,
        outputs: asyncio.Queue[SeqOutput],
        index_offset: int,
        clock: float,
    ) -> None:
        self.id = request_id
        self.prompt = prompt
        self.params = params
        self.outputs = outputs
        self.index_offset = index_offset
        self.seqs: list[Seq] = []
        self.cached_tokens = 0
        self.prefill_tokens_computed = 0
        self.arrival_clock = clock
        self.first_token_clock: float | None = None
        self.finish_clock: float | None = None
        self.aborted = False

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt.token_ids)

    @property
    def completion_tokens(self) -> int:
        return sum(seq.generated for seq in self.seqs)

    @property
    def finished(self) -> bool:
        return all(seq.finish_reason is not None for seq in self.seqs)

    @property
    def sim_ttft_s(self) -> float | None:
        """Modelled time from arrival to the first token, before speedup."""
        return None if self.first_token_clock is None else self.first_token_clock - self.arrival_clock


class Seq:
    """One choice being generated: the scheduler's unit of work."""

    __slots__ = (
        "request",
        "index",
        "token_ids",
        "num_computed",
        "blocks",
        "hashes",
        "registered",
        "generated",
        "max_tokens",
        "gen",
        "stop",
        "finish_reason",
        "admitted",
    )

    def __init__(
        self,
        request: SimRequest,
        index: int,
        gen: ProseGenerator | ScriptGenerator | VerdictGenerator,
        stop: StopChecker,
        max_tokens: int,
        hashes: list[int],
    ) -> None:
        self.request = request
        self.index = index
        self.token_ids = list(request.prompt.token_ids)
        self.num_computed = 0
        self.blocks: list[Block] = []
        self.hashes = hashes  # chained hashes of the full blocks of token_ids seen so far
        self.registered = 0  # leading blocks already findable in the cache
        self.generated = 0
        self.max_tokens = max_tokens
        self.gen = gen
        self.stop = stop
        self.finish_reason: str | None = None
        self.admitted = False
