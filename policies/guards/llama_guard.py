"""A guard that asks an upstream model speaking Llama Guard 3's format.

Llama Guard 3 answers `safe`, or `unsafe` and, on a second line, the violated
categories of its S1–S14 taxonomy (`unsafe\\nS1,S9`). This guard sends the
text to judge — with the prompt it answers, for a response — to any
OpenAI-compatible server, greedily and with logprobs, parses the answer
strictly and takes the unsafe score from the verdict token's distribution
(the Llama Guard paper's P("unsafe") score).

Three ways to build the request (`prompt_mode`):

- `chat`: the conversation as chat messages to `/v1/chat/completions`; the
  served Llama Guard model's chat template wraps it in the task, taxonomy and
  instructions (its taxonomy is fixed there; `categories` only validates).
- `completions`: the guard renders the whole Llama Guard 3 prompt itself,
  header tokens included, and sends it to `/v1/completions` — for a Llama
  Guard served without its chat template, or any model without one.
- `instruct`: the same task text as one user message to `/v1/chat/completions`,
  for instruction-tuned models with their own chat template (e.g. SmolLM2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from gateway.upstream import UpstreamClient
from policies.guards.base import Guard, GuardError, Role, Verdict
from policies.guards.taxonomy import LLAMA_GUARD_CATEGORIES
from policies.guards.upstream import GuardEndpoint, UrlSource

PromptMode = Literal["chat", "completions", "instruct"]
PROMPT_MODES: tuple[str, ...] = ("chat", "completions", "instruct")

CATEGORIES: Mapping[str, str] = LLAMA_GUARD_CATEGORIES

# Llama 3 special-token syntax in judged text would be read as real special
# tokens by the server's tokenizer: text could close the conversation and
# answer for the guard. Broken up, it stays text.
_SPECIAL = re.compile(r"<\|")
_CODE = re.compile(r"S\d{1,3}\Z")


class GarbageAnswer(GuardError):
    """The guard model answered something that is not a Llama Guard verdict.

    The message describes the answer's shape only (it may quote the judged
    text); the answer itself is in `answer`, for tests and debugging."""

    def __init__(self, reason: str, answer: str) -> None:
        super().__init__(f"garbage: {reason}")
        self.answer = answer


def _clean(text: str) -> str:
    return _SPECIAL.sub("< |", text)


def render_task(
    text: str, role: Role = "user", prompt: str | None = None, categories: Mapping[str, str] = CATEGORIES
) -> str:
    """Llama Guard 3's task text (the user turn of its prompt) for one judgement."""
    agent = "User" if role == "user" else "Agent"
    if role == "user":
        turns = [f"User: {_clean(text).strip()}"]
    else:
        turns = [f"User: {_clean(prompt or '').strip()}", f"Agent: {_clean(text).strip()}"]
    listed = "\n".join(f"{code}: {name}." for code, name in categories.items())
    conversation = "\n\n".join(turns)
    return (
        f"Task: Check if there is unsafe content in '{agent}' messages in conversations according our safety "
        "policy with the below categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{listed}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{conversation}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {agent} message in the above conversation:\n"
        " - First line must read 'safe' or 'unsafe'.\n"
        " - If unsafe, a second line must include a comma-separated list of violated categories."
    )


def render_prompt(
    text: str, role: Role = "user", prompt: str | None = None, categories: Mapping[str, str] = CATEGORIES
) -> str:
    """The whole Llama Guard 3 prompt, as its chat template renders it, ending
    where the verdict starts. No `<|begin_of_text|>`: /v1/completions adds BOS."""
    task = render_task(text, role, prompt, categories)
    return (
        f"<|start_header_id|>user<|end_header_id|>\n\n{task}<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def parse_answer(answer: str, known: Mapping[str, str] = CATEGORIES) -> tuple[bool, tuple[str, ...]]:
    """(unsafe, categories) from `safe` or `unsafe\\nS1,S10`; GarbageAnswer otherwise.

    Leading and trailing whitespace is ignored (Llama Guard 3 behind its chat
    template opens with a blank line), and so is the case of the verdict word;
    nothing else is."""
    lines = [line.strip() for line in answer.strip().split("\n")]
    verdict = lines[0].lower()
    if verdict == "safe" and len(lines) == 1:
        return False, ()
    if verdict == "unsafe" and len(lines) == 2:
        codes: list[str] = []
        for item in lines[1].split(","):
            code = item.strip().upper()
            if not _CODE.match(code) or code not in known:
                raise GarbageAnswer(f"unknown category in the second line ({len(lines[1])} chars)", answer)
            if code not in codes:
                codes.append(code)
        return True, tuple(codes)
    if verdict not in ("safe", "unsafe"):
        raise GarbageAnswer(f"first line is not 'safe' or 'unsafe' ({len(answer)} chars, {_lines(len(lines))})", answer)
    raise GarbageAnswer(f"'{verdict}' followed by {_lines(len(lines) - 1)}", answer)


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _is_word_start(token: str, word: str) -> bool:
    """The token begins `word` ("uns" of "unsafe") or is it, whatever follows."""
    piece = token.strip().lower()
    return bool(piece) and piece[0] == word[0] and (piece.startswith(word) or word.startswith(piece))


def unsafe_probability(top: list[tuple[str, float]]) -> float | None:
    """P(the verdict token says "unsafe"): the probability mass of the tokens
    starting "unsafe" in the verdict position's top logprobs; None when the
    list shows neither verdict (no usable distribution)."""
    unsafe = sum(math.exp(lp) for token, lp in top if _is_word_start(token, "unsafe"))
    safe = sum(math.exp(lp) for token, lp in top if _is_word_start(token, "safe"))
    if unsafe == 0 and safe == 0:
        return None
    return min(1.0, unsafe)


def _first_word_top(tokens: list[tuple[str, list[tuple[str, float]]]]) -> list[tuple[str, float]] | None:
    """The distribution at the first token that is not whitespace."""
    for token, top in tokens:
        if token.strip():
            return top
    return None


def _need(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind):
        raise GuardError(f"garbage: {what} missing or malformed")
    return value


def _first_choice(reply: Any) -> dict[str, Any]:
    choices = _need(_need(reply, dict, "reply").get("choices"), list, "choices")
    return _need(choices[0] if choices else None, dict, "choices[0]")


def _chat_answer(reply: Any) -> tuple[str, list[tuple[str, list[tuple[str, float]]]]]:
    choice = _first_choice(reply)
    content = _need(_need(choice.get("message"), dict, "message").get("content"), str, "message.content")
    tokens: list[tuple[str, list[tuple[str, float]]]] = []
    logprobs = choice.get("logprobs")
    if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
        for entry in logprobs["content"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
                raise GuardError("garbage: malformed logprobs")
            top = [
                (alt["token"], float(alt["logprob"]))
                for alt in entry.get("top_logprobs") or []
                if isinstance(alt, dict) and isinstance(alt.get("token"), str) and _is_number(alt.get("logprob"))
            ]
            if _is_number(entry.get("logprob")) and all(t != entry["token"] for t, _ in top):
                top.append((entry["token"], float(entry["logprob"])))
            tokens.append((entry["token"], top))
    return content, tokens


def _completion_answer(reply: Any) -> tuple[str, list[tuple[str, list[tuple[str, float]]]]]:
    choice = _first_choice(reply)
    text = _need(choice.get("text"), str, "text")
    tokens: list[tuple[str, list[tuple[str, float]]]] = []
    logprobs = choice.get("logprobs")
    if isinstance(logprobs, dict) and isinstance(logprobs.get("tokens"), list):
        tops = logprobs.get("top_logprobs") or []
        chosen = logprobs.get("token_logprobs") or []
        for position, token in enumerate(logprobs["tokens"]):
            if not isinstance(token, str):
                raise GuardError("garbage: malformed logprobs")
            alts = tops[position] if position < len(tops) and isinstance(tops[position], dict) else {}
            top = [(alt, float(lp)) for alt, lp in alts.items() if _is_number(lp)]
            own = chosen[position] if position < len(chosen) else None
            if _is_number(own) and token not in alts:
                top.append((token, float(own)))
            tokens.append((token, top))
    return text, tokens


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class LlamaGuard(Guard):
    """Llama Guard 3 (or any model answering in its format) on an OpenAI-compatible server.

    `base_url` is the server's OpenAI base URL (ending in /v1), a callable
    returning it (a managed engine may move), or a list of them (the model's
    replicas, taken in turn); `model` the served model name.
    """

    def __init__(
        self,
        base_url: UrlSource | Sequence[UrlSource],
        model: str,
        *,
        name: str = "llama_guard",
        prompt_mode: PromptMode = "chat",
        timeout_s: float = 5.0,
        max_tokens: int = 20,
        top_logprobs: int = 5,
        categories: Mapping[str, str] | None = None,
        client: UpstreamClient | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if prompt_mode not in PROMPT_MODES:
            raise ValueError(f"prompt_mode must be one of {', '.join(PROMPT_MODES)}, got {prompt_mode!r}")
        if max_tokens < 2:
            raise ValueError("max_tokens must leave room for a verdict and its categories")
        if not 0 <= top_logprobs <= 20:
            raise ValueError("top_logprobs must be between 0 and 20")
        self.name = name
        self.model = model
        self.prompt_mode = prompt_mode
        self.max_tokens = max_tokens
        self.top_logprobs = top_logprobs
        self.categories = dict(CATEGORIES if categories is None else categories)
        for code in self.categories:
            if not _CODE.match(code):
                raise ValueError(f"category codes look like 'S1', got {code!r}")
        self._endpoint = GuardEndpoint(base_url, timeout_s=timeout_s, client=client, headers=headers)

    @property
    def timeout_s(self) -> float:
        return self._endpoint.timeout_s

    def request(self, text: str, role: Role = "user", prompt: str | None = None) -> tuple[str, dict[str, Any]]:
        """(path, body) of the call that judges `text`."""
        common: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens, "temperature": 0, "n": 1}
        if self.prompt_mode == "completions":
            body = {**common, "prompt": render_prompt(text, role, prompt, self.categories)}
            if self.top_logprobs:
                body["logprobs"] = self.top_logprobs
            return "/completions", body
        if self.prompt_mode == "instruct":
            messages = [{"role": "user", "content": render_task(text, role, prompt, self.categories)}]
        elif role == "user":
            messages = [{"role": "user", "content": _clean(text)}]
        else:
            messages = [{"role": "user", "content": _clean(prompt or "")}, {"role": "assistant", "content": _clean(text)}]
        body = {**common, "messages": messages}
        if self.top_logprobs:
            body |= {"logprobs": True, "top_logprobs": self.top_logprobs}
        return "/chat/completions", body

    async def check(self, text: str, *, role: Role = "user", prompt: str | None = None) -> Verdict:
        path, body = self.request(text, role, prompt)
        reply = await self._endpoint.post_json(path, body)
        answer, tokens = _completion_answer(reply) if path == "/completions" else _chat_answer(reply)
        unsafe, codes = parse_answer(answer, self.categories)
        top = _first_word_top(tokens)
        score = unsafe_probability(top) if top is not None else None
        if score is None:
            score = 1.0 if unsafe else 0.0
        return Verdict(unsafe=unsafe, score=score, categories=codes)

    async def close(self) -> None:
        await self._endpoint.close()
