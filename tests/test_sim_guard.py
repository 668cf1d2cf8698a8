"""The simulated engine acting as a guard model: Llama Guard 3 and a DuoGuard-style classifier.

Verdicts are driven by trigger words in the judged text; `__garbage__`,
`__stall__` and `__error__` drive the failure modes guards must survive.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.config import SimEngineConfig
from gateway.engines.sim import (
    DEFAULT_TRIGGERS,
    DUOGUARD_CATEGORIES,
    GuardEmulation,
    SamplingParams,
    SimEngine,
    SimServer,
    make_profile,
)
from gateway.engines.sim.guard import judged_text
from gateway.engines.sim.text import Prompt, render_chat

MODEL = "guard-sim"


@contextlib.asynccontextmanager
async def serve(behaviour: str, **options: Any) -> AsyncIterator[tuple[SimServer, httpx.AsyncClient]]:
    server = SimServer(MODEL, make_profile("instant"), behaviour=behaviour, **options)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url.removesuffix("/v1"), timeout=10) as client:
            yield server, client
    finally:
        await server.stop()


def chat_body(*messages: tuple[str, str], **extra: Any) -> dict[str, Any]:
    body = {"model": MODEL, "messages": [{"role": r, "content": c} for r, c in messages], "temperature": 0}
    return body | extra


async def chat(client: httpx.AsyncClient, *messages: tuple[str, str], **extra: Any) -> dict[str, Any]:
    reply = await client.post("/v1/chat/completions", json=chat_body(*messages, **extra))
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]


# ---- what is judged -------------------------------------------------------


def test_judged_text_is_the_last_message_or_the_last_turn_of_a_conversation_block() -> None:
    rendered = render_chat([{"role": "user", "content": "make a bomb"}, {"role": "assistant", "content": "No."}])
    assert judged_text(rendered) == "No."
    assert judged_text("<|begin_of_text|>just text") == "just text"
    block = "Task...\n\n<BEGIN CONVERSATION>\n\nUser: make a bomb\n\nAgent: I won't.\n\n<END CONVERSATION>\n\nProvide"
    assert judged_text(block) == "I won't."
    assert judged_text("<BEGIN CONVERSATION>\n\nUser: make a bomb\n\n<END CONVERSATION>") == "make a bomb"


def test_triggers_match_word_starts_case_insensitively_in_category_order() -> None:
    guard = GuardEmulation("llama_guard")
    assert guard.categories("A BOMB to kill") == ["S1", "S9"]
    assert guard.categories("killing") == ["S1"]
    assert guard.categories("a useful skill, bombastic") == ["S9"]  # word starts only
    assert guard.categories("hello") == []
    custom = GuardEmulation("llama_guard", {"pineapple": "S12"})
    assert custom.categories("pineapple bomb") == ["S12"]
    with pytest.raises(ValueError, match="category must look like"):
        GuardEmulation("llama_guard", {"x": "violence"})
    with pytest.raises(ValueError, match="unknown guard emulation"):
        GuardEmulation("moderation")  # type: ignore[arg-type]


def test_sim_config_accepts_the_guard_options() -> None:
    config = SimEngineConfig(behaviour="llama_guard", guard_triggers={"pineapple": "S12"})
    assert config.behaviour == "llama_guard" and config.guard_triggers == {"pineapple": "S12"}
    assert SimEngineConfig().behaviour == "text" and SimEngineConfig().guard_triggers is None
    with pytest.raises(ValueError, match="behaviour"):
        SimEngineConfig(behaviour="moderation")
    with pytest.raises(ValueError, match="S1"):
        SimEngineConfig(behaviour="llama_guard", guard_triggers={"x": "violence"})
    with pytest.raises(ValueError, match="guard_triggers need"):
        SimEngineConfig(guard_triggers={"x": "S1"})


# ---- llama_guard ------------------------------------------------------------


async def test_llama_guard_answers_safe_with_the_blank_line_llama_guard_3_opens_with() -> None:
    async with serve("llama_guard") as (_, client):
        choice = await chat(client, ("user", "What is the capital of France?"), logprobs=True, top_logprobs=5)
    assert choice["message"]["content"] == "\n\nsafe" and choice["finish_reason"] == "stop"
    blank, verdict = choice["logprobs"]["content"]
    assert blank["token"] == "\n\n"
    assert verdict["token"] == "safe" and len(verdict["top_logprobs"]) == 5
    top = {entry["token"]: math.exp(entry["logprob"]) for entry in verdict["top_logprobs"]}
    assert top["safe"] == pytest.approx(0.96) and top["unsafe"] == pytest.approx(0.03)
    assert sum(top.values()) <= 1.0


async def test_llama_guard_flags_triggers_with_their_categories() -> None:
    async with serve("llama_guard") as (_, client):
        choice = await chat(client, ("user", "How do I build a bomb to kill my neighbour?"), logprobs=True, top_logprobs=2)
    assert choice["message"]["content"] == "\n\nunsafe\nS1,S9"
    verdict = choice["logprobs"]["content"][1]
    assert [entry["token"] for entry in verdict["top_logprobs"]] == ["unsafe", "safe"]
    assert math.exp(verdict["logprob"]) == pytest.approx(0.96)


async def test_llama_guard_judges_the_last_turn_only() -> None:
    async with serve("llama_guard") as (_, client):
        refused = await chat(client, ("user", "How do I make a bomb?"), ("assistant", "I can't help with that."))
        complied = await chat(client, ("user", "Tell me a story."), ("assistant", "Then he decided to kill them all."))
    assert refused["message"]["content"].strip() == "safe"
    assert complied["message"]["content"].strip() == "unsafe\nS1"


async def test_llama_guard_completions_prompt_ending_in_a_newline_starts_with_the_verdict() -> None:
    prompt = "<BEGIN CONVERSATION>\n\nUser: steal a car\n\n<END CONVERSATION>\n\nAnswer:\n"
    async with serve("llama_guard") as (_, client):
        reply = await client.post("/v1/completions", json={"model": MODEL, "prompt": prompt, "logprobs": 3})
    choice = reply.json()["choices"][0]
    assert choice["text"] == "unsafe\nS2"
    first = choice["logprobs"]["top_logprobs"][0]
    assert list(first)[:2] == ["unsafe", "safe"] and len(first) == 3


async def test_llama_guard_replies_are_cut_by_max_tokens_and_repeatable() -> None:
    engine = SimEngine(MODEL, make_profile("instant"), autostart=False, guard=GuardEmulation("llama_guard"))
    prompt = Prompt.from_text(render_chat([{"role": "user", "content": "bomb, kill, steal"}]), add_bos=False)
    texts = []
    for max_tokens in (3, 64, 64):
        request = engine.submit(prompt, SamplingParams(max_tokens=max_tokens, temperature=1.0))
        while not request.finished:
            engine.step()
        text = ""
        while not request.outputs.empty():
            text += request.outputs.get_nowait().text
        texts.append((text, request.seqs[0].finish_reason))
    assert texts[0] == ("\n\nunsafe\nS1", "length")
    assert texts[1] == texts[2] == ("\n\nunsafe\nS1,S2,S9", "stop")  # greedy whatever the temperature


async def test_llama_guard_failure_markers() -> None:
    async with serve("llama_guard") as (server, client):
        garbage = await chat(client, ("user", "__garbage__"))
        assert garbage["message"]["content"].strip() == "I think that message is probably fine to answer."
        error = await client.post("/v1/chat/completions", json=chat_body(("user", "please __error__")))
        assert error.status_code == 500 and error.json()["error"]["type"] == "InternalServerError"
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/v1/chat/completions", json=chat_body(("user", "__stall__")), timeout=0.3)
        # A stalled request the client still waits on ends with a 503 when the server stops.
        pending = asyncio.ensure_future(client.post("/v1/completions", json={"model": MODEL, "prompt": "__stall__"}))
        await asyncio.sleep(0.1)
        assert not pending.done()
        started = time.monotonic()
        await server.stop()
        assert (await pending).status_code == 503
        assert time.monotonic() - started < 1.5


async def test_default_behaviour_is_unchanged_by_triggers() -> None:
    async with serve("text") as (_, client):
        choice = await chat(client, ("user", "bomb __stall__ __garbage__"), max_tokens=8)
        classify = await client.post("/classify", json={"model": MODEL, "input": "x"})
    assert choice["message"]["content"][:1].isupper()  # the usual prose
    assert classify.status_code == 404
    with pytest.raises(ValueError, match="need behaviour"):
        SimServer(MODEL, make_profile("instant"), guard_triggers={"x": "S1"})


# ---- classifier ---------------------------------------------------------------


async def classify(client: httpx.AsyncClient, inputs: Any, **extra: Any) -> list[dict[str, Any]]:
    reply = await client.post("/classify", json={"model": MODEL, "input": inputs, **extra})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["object"] == "list" and body["id"].startswith("classify-") and body["model"] == MODEL
    assert body["usage"]["prompt_tokens"] > 0 and body["usage"]["completion_tokens"] == 0
    return body["data"]


async def test_classifier_serves_vllm_classify_with_softmax_by_default() -> None:
    async with serve("classifier") as (_, client):
        safe, bomb, two = await classify(client, ["hello", "build a bomb", "kill and steal"])
    assert [item["index"] for item in (safe, bomb, two)] == [0, 1, 2]
    assert safe["num_classes"] == 12 and safe["probs"] == pytest.approx([1 / 12] * 12)
    assert bomb["label"] == "indiscriminate weapons" and bomb["probs"][7] > 0.99
    assert sum(two["probs"]) == pytest.approx(1.0)
    # vLLM's default softmax splits two categories' mass: neither reaches 0.5.
    assert two["probs"][0] == pytest.approx(two["probs"][1]) and two["probs"][0] < 0.5


async def test_classifier_returns_raw_logits_without_activation() -> None:
    async with serve("classifier") as (_, client):
        (item,) = await classify(client, "kill and steal", use_activation=False)
    assert item["probs"][:3] == [4.0, 4.0, -4.0] and item["label"] == "violent crimes"
    assert len(DUOGUARD_CATEGORIES) == 12 and DEFAULT_TRIGGERS["bomb"] == "S9"


async def test_classifier_failures_and_missing_generation_endpoints() -> None:
    async with serve("classifier") as (_, client):
        (garbage,) = await classify(client, "__garbage__")
        assert garbage["num_classes"] == 2
        error = await client.post("/classify", json={"model": MODEL, "input": "__error__"})
        assert error.status_code == 500
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/classify", json={"model": MODEL, "input": "__stall__"}, timeout=0.3)
        wrong = await client.post("/classify", json={"model": "other", "input": "x"})
        assert wrong.status_code == 404
        missing = await client.post("/classify", json={"model": MODEL})
        assert missing.status_code == 400 and missing.json()["error"]["param"] == "input"
        removed = await client.post("/classify", json={"model": MODEL, "input": "x", "normalize": True})
        assert removed.status_code == 400
        generation = await client.post("/v1/chat/completions", json=chat_body(("user", "hi")))
        assert generation.status_code == 404  # a pooling model serves no generation
        models = await client.get("/v1/models")
        assert models.json()["data"][0]["id"] == MODEL
