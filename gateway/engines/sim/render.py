"""OpenAI response shapes (chat, completions, embeddings) from engine outputs.

A renderer serves one HTTP request. Streaming: `stream_start()` then one
`chunk()` per engine output, i.e. per generated token per choice, as vLLM
streams. Non-streaming: `add()` every output, then `response()`.
"""

from __future__ import annotations

import base64
import math
import random
import sys
import time
import uuid
from array import array
from typing import Any

from .guard import DUOGUARD_CATEGORIES, GuardEmulation, judged_text, softmax
from .request import SamplingParams, SeqOutput, SimRequest
from .text import GenToken, Prompt, derive_seed


def usage(requests: list[SimRequest]) -> dict[str, Any]:
    prompt = sum(r.prompt_tokens for r in requests)
    completion = sum(r.completion_tokens for r in requests)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": sum(r.cached_tokens for r in requests)},
    }


class _Choice:
    """What a non-streaming response accumulates for one choice."""

    __slots__ = ("text", "tokens", "finish_reason")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tokens: list[GenToken] = []
        self.finish_reason: str | None = None


class Renderer:
    """Common parts; subclasses define the per-API shapes."""

    id_prefix = ""
    object_name = ""

    def __init__(self, model: str, requests: list[SimRequest], params: SamplingParams) -> None:
        self.model = model
        self.requests = requests
        self.params = params
        self.id = f"{self.id_prefix}-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.choices = [_Choice() for _ in range(len(requests) * params.n)]

    def _envelope(self, object_name: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": self.id, "object": object_name, "created": self.created, "model": self.model, "choices": choices}

    def stream_start(self) -> list[dict[str, Any]]:
        return []

    def chunk(self, out: SeqOutput) -> dict[str, Any]:
        raise NotImplementedError

    def usage_chunk(self) -> dict[str, Any]:
        return {**self._envelope(self.object_name + ".chunk", []), "usage": usage(self.requests)}

    def add(self, out: SeqOutput) -> None:
        choice = self.choices[out.index]
        choice.text.append(out.text)
        if out.token is not None:
            choice.tokens.append(out.token)
        choice.finish_reason = out.finish_reason

    def response(self) -> dict[str, Any]:
        choices = [self._final_choice(index, choice) for index, choice in enumerate(self.choices)]
        return {**self._envelope(self.object_name, choices), "usage": usage(self.requests)}

    def _final_choice(self, index: int, choice: _Choice) -> dict[str, Any]:
        raise NotImplementedError


# ---- chat ---------------------------------------------------------------


def _chat_logprob(token: GenToken) -> dict[str, Any]:
    top = [{"token": piece, "logprob": lp, "bytes": list(piece.encode())} for piece, lp in token.top]
    return {"token": token.text, "logprob": token.logprob, "bytes": list(token.text.encode()), "top_logprobs": top}


class ChatRenderer(Renderer):
    id_prefix = "chatcmpl"
    object_name = "chat.completion"

    def __init__(self, model: str, requests: list[SimRequest], params: SamplingParams) -> None:
        super().__init__(model, requests, params)
        self._call_ids = [f"chatcmpl-tool-{uuid.uuid4().hex}" for _ in self.choices]
        self._started = [False] * len(self.choices)

    def _logprobs(self, tokens: list[GenToken]) -> dict[str, Any] | None:
        if self.params.top_logprobs is None:
            return None
        return {"content": [_chat_logprob(token) for token in tokens]}

    def _tool_call(self, index: int, arguments: str, first: bool) -> dict[str, Any]:
        if not first:
            return {"index": 0, "function": {"arguments": arguments}}
        function = {"name": self.params.tool.name, "arguments": arguments}  # type: ignore[union-attr]
        return {"index": 0, "id": self._call_ids[index], "type": "function", "function": function}

    def stream_start(self) -> list[dict[str, Any]]:
        # vLLM opens each choice with a role-only delta.
        delta = {"role": "assistant", "content": ""}
        return [
            self._envelope("chat.completion.chunk", [self._delta_choice(i, delta, None, None)])
            for i in range(len(self.choices))
        ]

    @staticmethod
    def _delta_choice(index: int, delta: dict[str, Any], logprobs: Any, finish: str | None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish, "stop_reason": None}

    def chunk(self, out: SeqOutput) -> dict[str, Any]:
        if self.params.tool is None:
            delta: dict[str, Any] = {"content": out.text}
        else:
            delta = {"tool_calls": [self._tool_call(out.index, out.text, not self._started[out.index])]}
            self._started[out.index] = True
        logprobs = self._logprobs([out.token]) if out.token is not None else None
        return self._envelope(
            "chat.completion.chunk", [self._delta_choice(out.index, delta, logprobs, out.finish_reason)]
        )

    def _final_choice(self, index: int, choice: _Choice) -> dict[str, Any]:
        text = "".join(choice.text)
        message: dict[str, Any] = {"role": "assistant", "content": text, "tool_calls": []}
        if self.params.tool is not None:
            message = {"role": "assistant", "content": None, "tool_calls": [self._tool_call(index, text, True)]}
            del message["tool_calls"][0]["index"]
        logprobs = self._logprobs(choice.tokens)
        return {
            "index": index,
            "message": message,
            "logprobs": logprobs,
            "finish_reason": choice.finish_reason,
            "stop_reason": None,
        }


# ---- completions --------------------------------------------------------


class CompletionRenderer(Renderer):
    id_prefix = "cmpl"
    object_name = "text_completion"

    def __init__(self, model: str, requests: list[SimRequest], params: SamplingParams) -> None:
        super().__init__(model, requests, params)
        self._offsets = [0] * len(self.choices)

    def usage_chunk(self) -> dict[str, Any]:
        # Completions chunks keep the "text_completion" object name.
        return {**self._envelope(self.object_name, []), "usage": usage(self.requests)}

    def _logprobs(self, index: int, tokens: list[GenToken]) -> dict[str, Any] | None:
        if self.params.top_logprobs is None:
            return None
        offsets = []
        for token in tokens:
            offsets.append(self._offsets[index])
            self._offsets[index] += len(token.text)
        return {
            "tokens": [t.text for t in tokens],
            "token_logprobs": [t.logprob for t in tokens],
            "top_logprobs": [dict(t.top) for t in tokens],
            "text_offset": offsets,
        }

    def _choice(self, index: int, text: str, tokens: list[GenToken], finish: str | None) -> dict[str, Any]:
        logprobs = self._logprobs(index, tokens)
        return {"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish, "stop_reason": None}

    def chunk(self, out: SeqOutput) -> dict[str, Any]:
        tokens = [out.token] if out.token is not None else []
        return self._envelope(self.object_name, [self._choice(out.index, out.text, tokens, out.finish_reason)])

    def _final_choice(self, index: int, choice: _Choice) -> dict[str, Any]:
        return self._choice(index, "".join(choice.text), choice.tokens, choice.finish_reason)


# ---- embeddings ---------------------------------------------------------


def embedding_vector(prompt: Prompt, dimensions: int, seed: int) -> list[float]:
    """A deterministic unit vector: equal inputs embed equally."""
    rng = random.Random(derive_seed(seed, prompt.text))
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def _encode_base64(values: list[float]) -> str:
    floats = array("f", values)
    if sys.byteorder == "big":
        floats.byteswap()  # the OpenAI format is little-endian float32
    return base64.b64encode(floats.tobytes()).decode()


def embeddings_response(
    model: str, prompts: list[Prompt], dimensions: int, as_base64: bool, seed: int
) -> dict[str, Any]:
    data = []
    for index, prompt in enumerate(prompts):
        vector = embedding_vector(prompt, dimensions, seed)
        data.append(
            {"object": "embedding", "index": index, "embedding": _encode_base64(vector) if as_base64 else vector}
        )
    tokens = sum(len(p.token_ids) for p in prompts)
    return {
        "id": f"embd-{uuid.uuid4().hex}",
        "object": "list",
        "created": int(time.time()),
        "model": model,
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# ---- classification (vLLM's POST /classify) ------------------------------


def classification_response(
    model: str, prompts: list[Prompt], guard: GuardEmulation, use_activation: bool | None
) -> dict[str, Any]:
    """vLLM's ClassificationResponse: per input the argmax label, `probs` and
    `num_classes`. `probs` are softmax-ed logits (vLLM's default activation
    for a multi-class head), or the raw logits with `use_activation: false`."""
    data = []
    for index, prompt in enumerate(prompts):
        text = judged_text(prompt.text)
        if guard.directive(text) == "garbage":
            data.append({"index": index, "label": None, "probs": [0.5, 0.5], "num_classes": 2})
            continue
        logits = guard.logits(text)
        probs = logits if use_activation is False else softmax(logits)
        best = max(range(len(probs)), key=probs.__getitem__)
        data.append({"index": index, "label": DUOGUARD_CATEGORIES[best], "probs": probs, "num_classes": len(probs)})
    tokens = sum(len(p.token_ids) for p in prompts)
    return {
        "id": f"classify-{uuid.uuid4().hex}",
        "object": "list",
        "created": int(time.time()),
        "model": model,
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0, "prompt_tokens_details": None},
    }
