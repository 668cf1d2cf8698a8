"""Hardware profiles for the simulated engine.

A profile holds the handful of numbers the cost model needs: how long a
scheduler step takes as a function of what is in the batch, and how many
tokens of KV cache fit on the GPU(s). The numbers are derived from public
hardware specs and vLLM figures; docs/sim-engine.md shows the arithmetic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ProfileError(KeyError, ValueError):
    """An unknown profile name or an invalid override.

    Subclasses both KeyError (it is a failed lookup) and ValueError (it is bad
    configuration), so callers can catch whichever reads naturally.
    """

    def __str__(self) -> str:
        # KeyError.__str__ would wrap the message in quotes.
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class SimProfile:
    """Cost model and capacity of one simulated deployment.

    Step time (seconds, before `speedup`) is
        decode_base_ms + decode_per_seq_ms * decoding_seqs
        + kv_read_us_per_token * context_tokens_of_decoding_seqs
        + prefill_tokens / prefill_tok_per_s
    """

    name: str
    description: str
    # Longest prompt + completion; clamped to the KV capacity (see make_profile).
    max_model_len: int
    # KV cache capacity in tokens; rounded down to whole blocks.
    kv_cache_tokens: int
    block_size: int = 16
    # vLLM's --max-num-seqs: most sequences in one batch.
    max_num_seqs: int = 256
    # vLLM's --max-num-batched-tokens: the per-step token budget that chunked
    # prefill splits long prompts against.
    max_num_batched_tokens: int = 8192
    # Fixed cost of a step: reading every weight once from HBM plus launches.
    decode_base_ms: float = 6.5
    # Extra cost per decoding sequence (matmul work grows with the batch).
    decode_per_seq_ms: float = 0.03
    # Attention reads each context token's K and V once per decode step.
    kv_read_us_per_token: float = 0.055
    # Compute-bound prefill throughput.
    prefill_tok_per_s: float = 20_000.0
    # max_tokens when the request gives none.
    default_max_tokens: int = 64
    # Dimension of /v1/embeddings vectors.
    embedding_dim: int = 256

    def __post_init__(self) -> None:
        for field in _numeric_fields():
            value = getattr(self, field.name)
            minimum = 1 if field.type == "int" or field.name == "prefill_tok_per_s" else 0
            if value < minimum:
                raise ProfileError(f"profile {self.name!r}: {field.name} must be >= {minimum}, got {value}")

    @property
    def num_blocks(self) -> int:
        return self.kv_cache_tokens // self.block_size

    def step_seconds(self, decode_seqs: int, context_tokens: int, prefill_tokens: int) -> float:
        """Modelled duration of one scheduler step, before `speedup`."""
        if decode_seqs == 0 and prefill_tokens == 0:
            return 0.0
        return (
            self.decode_base_ms / 1e3
            + self.decode_per_seq_ms / 1e3 * decode_seqs
            + self.kv_read_us_per_token / 1e6 * context_tokens
            + prefill_tokens / self.prefill_tok_per_s
        )


def _numeric_fields() -> list[dataclasses.Field[Any]]:
    # `from __future__ import annotations` makes field.type the string "int"/"float".
    return [f for f in dataclasses.fields(SimProfile) if f.type in ("int", "float")]


PROFILES: dict[str, SimProfile] = {
    "llama3-8b-h100": SimProfile(
        name="llama3-8b-h100",
        description="Llama-3.1-8B-Instruct, bf16, one H100 SXM 80GB, vLLM defaults",
        max_model_len=131_072,
        # ~52 GiB left for KV at gpu_memory_utilization=0.9, at 128 KiB/token.
        kv_cache_tokens=420_000,
        decode_base_ms=6.5,
        decode_per_seq_ms=0.03,
        kv_read_us_per_token=0.055,
        prefill_tok_per_s=20_000.0,
    ),
    "llama3-70b-h100x4": SimProfile(
        name="llama3-70b-h100x4",
        description="Llama-3.1-70B-Instruct, bf16, four H100 SXM 80GB, tensor parallel 4",
        max_model_len=131_072,
        # ~35 GiB per GPU left for KV, at 320 KiB/token split over 4 GPUs.
        kv_cache_tokens=440_000,
        decode_base_ms=15.0,
        decode_per_seq_ms=0.07,
        kv_read_us_per_token=0.035,
        prefill_tok_per_s=7_000.0,
    ),
    "instant": SimProfile(
        name="instant",
        description="Near-zero latencies for functional tests",
        max_model_len=8192,
        kv_cache_tokens=65_536,
        decode_base_ms=0.02,
        decode_per_seq_ms=0.0,
        kv_read_us_per_token=0.0,
        prefill_tok_per_s=1e9,
    ),
}

DEFAULT_PROFILE = "llama3-8b-h100"


def _coerce(name: str, field: dataclasses.Field[Any], value: float) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"profile {name!r}: override {field.name} must be a number, got {value!r}")
    if field.type == "int":
        if value != int(value):
            raise ProfileError(f"profile {name!r}: override {field.name} must be a whole number, got {value}")
        return int(value)
    return float(value)


def make_profile(name: str, overrides: Mapping[str, float] | None = None) -> SimProfile:
    """PROFILES[name] with numeric fields replaced by `overrides`.

    Raises ProfileError (a KeyError and a ValueError) naming the known
    profiles or fields when `name` or an override key is unknown, or when a
    value is out of range. max_model_len is clamped to the KV capacity so that
    shrinking kv_cache_tokens alone is enough to provoke queueing.
    """
    if name not in PROFILES:
        raise ProfileError(f"unknown sim profile {name!r}; known: {', '.join(sorted(PROFILES))}")
    fields = {f.name: f for f in _numeric_fields()}
    changes: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise ProfileError(f"unknown sim profile field {key!r}; known: {', '.join(sorted(fields))}")
        changes[key] = _coerce(name, fields[key], value)
    profile = dataclasses.replace(PROFILES[name], **changes)
    usable = profile.num_blocks * profile.block_size
    if usable < 2 * profile.block_size:
        raise ProfileError(f"profile {name!r}: kv_cache_tokens must hold at least 2 blocks")
    if profile.max_model_len > usable:
        profile = dataclasses.replace(profile, max_model_len=usable)
    return profile
