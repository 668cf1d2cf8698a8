"""The simulated engine: cost model, scheduler, KV cache and its OpenAI server.

Scheduler behaviour is tested by stepping an engine by hand (no sleeping, no
wall clock); the HTTP surface through the official OpenAI SDK against a
SimServer on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from gateway.engines.sim import (
    PROFILES,
    SamplingParams,
    SimEngine,
    SimRequest,
    SimServer,
    make_profile,
)
from gateway.engines.sim.text import Prompt

MODEL = "sim-test"
MESSAGES = [{"role": "user", "content": "Tell me about the harbor in the morning."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


def make_engine(profile: str = "instant", **overrides: float) -> SimEngine:
    return SimEngine(MODEL, make_profile(profile, overrides), autostart=False)


def words(count: int, salt: str = "") -> Prompt:
    """A prompt of exactly `count` tokens (BOS + count-1 words)."""
    return Prompt.from_text(" ".join(f"w{salt}{i % 997}" for i in range(count - 1)))


def run(engine: SimEngine, *requests: SimRequest, max_steps: int = 100_000) -> None:
    for _ in range(max_steps):
        if all(r.finished for r in requests):
            return
        engine.step()
    raise AssertionError("requests did not finish")


def texts(request: SimRequest) -> dict[int, str]:
    out: dict[int, str] = {}
    while not request.outputs.empty():
        item = request.outputs.get_nowait()
        out[item.index] = out.get(item.index, "") + item.text
    return out


def generate(engine: SimEngine, prompt: Prompt, **params: object) -> tuple[SimRequest, dict[int, str]]:
    request = engine.submit(prompt, SamplingParams(**params))
    run(engine, request)
    return request, texts(request)


@contextlib.asynccontextmanager
async def serve(
    profile: str = "instant", speedup: float = 1.0, **overrides: float
) -> AsyncIterator[tuple[SimServer, AsyncOpenAI]]:
    server = SimServer(MODEL, make_profile(profile, overrides), seed=0, speedup=speedup)
    await server.start()
    try:
        async with AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0) as client:
            yield server, client
    finally:
        await server.stop()


async def eventually(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


# ---- profiles -----------------------------------------------------------


def test_profiles_and_overrides() -> None:
    assert {"llama3-8b-h100", "llama3-70b-h100x4", "instant"} <= set(PROFILES)
    small = make_profile("llama3-8b-h100", {"kv_cache_tokens": 4096, "max_num_seqs": 8.0})
    assert small.kv_cache_tokens == 4096 and small.max_num_seqs == 8 and isinstance(small.max_num_seqs, int)
    assert small.max_model_len == 4096  # clamped to what the KV cache can hold
    assert PROFILES["llama3-8b-h100"].kv_cache_tokens > 100_000  # the table is not modified
    with pytest.raises(KeyError, match="known: .*llama3-8b-h100"):
        make_profile("llama-9000", {})
    with pytest.raises(ValueError, match="unknown sim profile field 'kv_tokens'"):
        make_profile("instant", {"kv_tokens": 1})
    with pytest.raises(ValueError, match="whole number"):
        make_profile("instant", {"block_size": 2.5})
    with pytest.raises(ValueError, match="prefill_tok_per_s must be >= 1"):
        make_profile("instant", {"prefill_tok_per_s": 0})


def test_step_time_follows_the_cost_model() -> None:
    engine = make_engine("llama3-8b-h100")
    profile = engine.profile
    request = engine.submit(words(3000), SamplingParams(max_tokens=3, ignore_eos=True))
    assert engine.step() == pytest.approx(profile.decode_base_ms / 1e3 + 3000 / profile.prefill_tok_per_s)
    decode = profile.decode_base_ms / 1e3 + profile.decode_per_seq_ms / 1e3 + profile.kv_read_us_per_token / 1e6 * 3000
    assert engine.step() == pytest.approx(decode)
    run(engine, request)
    assert request.completion_tokens == 3 and engine.stats().steps == 3
    # Sanity of the calibration: one stream decodes at ~100-200 tokens/s.
    assert 100 < 1 / decode < 200


def test_chunked_prefill_splits_long_prompts_by_the_token_budget() -> None:
    engine = make_engine("llama3-8b-h100")
    request = engine.submit(words(20_000), SamplingParams(max_tokens=1))
    steps = 0
    while request.first_token_clock is None:
        engine.step()
        steps += 1
    assert steps == 3  # ceil(20000 / 8192)
    assert request.prefill_tokens_computed == 20_000


# ---- text ---------------------------------------------------------------


def test_output_is_deterministic_per_prompt_seed_and_params() -> None:
    prompt = words(40)
    _, first = generate(make_engine(), prompt, max_tokens=30, temperature=0.8, seed=3)
    _, again = generate(make_engine(), prompt, max_tokens=30, temperature=0.8, seed=3)
    _, other_seed = generate(make_engine(), prompt, max_tokens=30, temperature=0.8, seed=4)
    _, other_prompt = generate(make_engine(), words(40, "x"), max_tokens=30, temperature=0.8, seed=3)
    _, with_logprobs = generate(make_engine(), prompt, max_tokens=30, temperature=0.8, seed=3, top_logprobs=20)
    assert first == again == with_logprobs
    assert first != other_seed and first != other_prompt
    assert first[0][0].isupper() and " " in first[0]  # looks like prose


def test_choices_differ_only_when_sampling() -> None:
    _, greedy = generate(make_engine(), words(20), n=3, max_tokens=20, temperature=0)
    _, sampled = generate(make_engine(), words(20), n=3, max_tokens=20, temperature=1.0)
    assert len(set(greedy.values())) == 1
    assert len(set(sampled.values())) == 3


def test_replies_stop_naturally_unless_ignore_eos() -> None:
    finishes = []
    for seed in range(20):
        request, text = generate(make_engine(), words(10), max_tokens=200, temperature=0, seed=seed)
        finishes.append(request.seqs[0].finish_reason)
        if request.seqs[0].finish_reason == "stop":
            stopped, stopped_text = request, text[0]
            stopped_seed = seed
    assert "stop" in finishes
    assert stopped.completion_tokens < 200 and stopped_text.endswith(".")
    request, text = generate(
        make_engine(), words(10), max_tokens=200, temperature=0, seed=stopped_seed, ignore_eos=True
    )
    assert request.seqs[0].finish_reason == "length" and request.completion_tokens == 200
    assert text[0].startswith(stopped_text)  # same draws, only the ending differs


def test_stop_strings_cut_the_text_before_the_match() -> None:
    _, full = generate(make_engine(), words(10), max_tokens=40, temperature=0, ignore_eos=True)
    stop = full[0].split(" ")[5]
    cut = full[0].index(" " + stop)
    request, text = generate(
        make_engine(), words(10), max_tokens=40, temperature=0, ignore_eos=True, stop=(" " + stop, "zzz")
    )
    assert text[0] == full[0][:cut]
    assert request.seqs[0].finish_reason == "stop" and request.completion_tokens < 40


# ---- scheduler and KV cache ---------------------------------------------


def test_prefix_cache_skips_prefill_of_a_repeated_prompt() -> None:
    engine = make_engine("llama3-8b-h100")
    prompt = words(3201)
    first, _ = generate(engine, prompt, max_tokens=4)
    second, _ = generate(engine, prompt, max_tokens=4)
    assert first.cached_tokens == 0
    assert second.cached_tokens == 3200  # whole blocks; the last token is always recomputed
    assert second.sim_ttft_s is not None and first.sim_ttft_s is not None
    assert second.sim_ttft_s < first.sim_ttft_s / 5
    stats = engine.stats()
    assert stats.prefix_cache_queries == 2 * 3201 and stats.prefix_cache_hits == 3200


def test_full_kv_cache_queues_requests_and_drains() -> None:
    engine = make_engine(kv_cache_tokens=256)
    requests = [engine.submit(words(90, str(i)), SamplingParams(max_tokens=30, ignore_eos=True)) for i in range(4)]
    engine.step()
    stats = engine.stats()
    assert stats.running == 2 and stats.waiting == 2  # 90+ tokens need 6 of 16 blocks each
    assert 0.5 < stats.kv_cache_usage <= 1.0
    run(engine, *requests)
    assert [r.completion_tokens for r in requests] == [30] * 4
    assert engine.stats().kv_cache_usage == 0.0 and engine.stats().completed == 4


def test_preempted_sequences_resume_with_the_same_text() -> None:
    params = {"max_tokens": 150, "ignore_eos": True, "temperature": 0.7}
    tight = make_engine(kv_cache_tokens=256)
    squeezed = [tight.submit(words(60, str(i)), SamplingParams(**params)) for i in range(2)]
    run(tight, *squeezed)
    assert tight.stats().preemptions > 0
    roomy = make_engine()
    for i, request in enumerate(squeezed):
        _, alone = generate(roomy, words(60, str(i)), **params)
        assert texts(request) == alone and request.completion_tokens == 150


def test_batching_raises_throughput() -> None:
    def throughput(concurrency: int) -> float:
        engine = make_engine("llama3-8b-h100")
        requests = [
            engine.submit(words(200, str(i)), SamplingParams(max_tokens=128, ignore_eos=True))
            for i in range(concurrency)
        ]
        run(engine, *requests)
        return engine.stats().generation_tokens / engine.stats().sim_time_s

    one, eight = throughput(1), throughput(8)
    assert eight > 6 * one  # decode is memory-bound: 8 sequences cost little more than 1


def test_max_num_seqs_limits_the_batch() -> None:
    engine = make_engine(max_num_seqs=3)
    for i in range(5):
        engine.submit(words(20, str(i)), SamplingParams(max_tokens=10, ignore_eos=True))
    engine.step()
    assert engine.stats().running == 3 and engine.stats().waiting == 2


def test_abort_frees_the_kv_cache() -> None:
    engine = make_engine()
    request = engine.submit(words(500), SamplingParams(max_tokens=100, ignore_eos=True, n=2))
    engine.step()
    assert engine.stats().kv_cache_usage > 0
    assert engine.abort(request) and not engine.abort(request)
    stats = engine.stats()
    assert (stats.running, stats.waiting, stats.aborted, stats.completed, stats.kv_cache_usage) == (0, 0, 1, 0, 0.0)
    assert engine.aborted_requests == 1


# ---- HTTP API -----------------------------------------------------------


async def test_chat_completion_roundtrip() -> None:
    async with serve() as (_, client):
        reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=12, seed=1)
        again = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=12, seed=1)
    assert reply.choices[0].message.content == again.choices[0].message.content
    assert reply.choices[0].message.role == "assistant" and reply.model == MODEL
    usage = reply.usage
    assert usage is not None and usage.completion_tokens <= 12 and usage.prompt_tokens > 10
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0


async def test_streaming_sends_one_chunk_per_token_and_usage() -> None:
    async with serve("llama3-8b-h100", speedup=100) as (_, client):
        whole = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20, seed=2)
        stream = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=20, seed=2, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
    role, *tokens, last = chunks
    assert role.choices[0].delta.role == "assistant"
    assert last.choices == [] and last.usage is not None
    assert len(tokens) == last.usage.completion_tokens
    assert all(c.choices[0].delta.content for c in tokens)
    assert "".join(c.choices[0].delta.content or "" for c in tokens) == whole.choices[0].message.content
    assert tokens[-1].choices[0].finish_reason == whole.choices[0].finish_reason


async def test_n_choices_over_http() -> None:
    async with serve() as (_, client):
        sampled = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=10, n=2, temperature=1.0
        )
        greedy = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=10, n=2, temperature=0)
    assert [c.index for c in sampled.choices] == [0, 1]
    assert sampled.choices[0].message.content != sampled.choices[1].message.content
    assert greedy.choices[0].message.content == greedy.choices[1].message.content
    assert sampled.usage is not None and sampled.usage.completion_tokens == 20


async def test_chat_logprobs_shape() -> None:
    async with serve() as (_, client):
        reply = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=16, logprobs=True, top_logprobs=5
        )
    content = reply.choices[0].logprobs.content
    assert content is not None and reply.usage is not None and len(content) == reply.usage.completion_tokens
    assert "".join(entry.token for entry in content) == reply.choices[0].message.content
    for entry in content:
        top = [t.logprob for t in entry.top_logprobs]
        assert entry.logprob <= 0 and len(top) == 5 and top == sorted(top, reverse=True)
        assert entry.token in [t.token for t in entry.top_logprobs]
        assert entry.bytes == list(entry.token.encode())


async def test_completions_logprobs_and_batched_prompts() -> None:
    async with serve() as (_, client):
        reply = await client.completions.create(
            model=MODEL, prompt=["Once upon", "a time"], n=2, max_tokens=6, logprobs=2, temperature=0
        )
        stream = await client.completions.create(
            model=MODEL, prompt="Once upon", max_tokens=6, temperature=0, stream=True
        )
        streamed = "".join([c.choices[0].text async for c in stream if c.choices])
    assert [c.index for c in reply.choices] == [0, 1, 2, 3]
    assert reply.choices[0].text == reply.choices[1].text == streamed
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.tokens is not None and logprobs.text_offset is not None
    assert "".join(logprobs.tokens) == reply.choices[0].text
    assert logprobs.text_offset[0] == 0 and logprobs.text_offset[1] == len(logprobs.tokens[0])
    assert all(lp <= 0 for lp in logprobs.token_logprobs or [])
    assert all(len(top) == 2 for top in logprobs.top_logprobs or [])


async def test_tool_choice_produces_tool_calls() -> None:
    async with serve() as (_, client):
        required = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="required"
        )
        named = await client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
        auto = await client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], max_tokens=5)
        stream = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="required", stream=True
        )
        deltas = [c.choices[0].delta async for c in stream if c.choices]
    call = required.choices[0].message.tool_calls[0]
    assert required.choices[0].finish_reason == "tool_calls" and required.choices[0].message.content is None
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    assert set(arguments) == {"city", "unit", "days"} and arguments["unit"] in ("c", "f")
    assert named.choices[0].message.tool_calls[0].function.arguments == call.function.arguments
    assert auto.choices[0].message.content and not auto.choices[0].message.tool_calls
    streamed = "".join(d.tool_calls[0].function.arguments for d in deltas if d.tool_calls)
    assert streamed == call.function.arguments


async def test_stop_strings_over_http() -> None:
    async with serve() as (_, client):
        full = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=30, temperature=0, extra_body={"ignore_eos": True}
        )
        text = full.choices[0].message.content or ""
        stop = " " + text.split(" ")[4]
        cut = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=30, temperature=0, stop=[stop], extra_body={"ignore_eos": True}
        )
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            max_tokens=30,
            temperature=0,
            stop=stop,
            stream=True,
            extra_body={"ignore_eos": True},
        )
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert cut.choices[0].message.content == text[: text.index(stop)] == streamed
    assert cut.choices[0].finish_reason == "stop"


async def test_repeated_prompt_reports_cached_tokens() -> None:
    messages = [{"role": "user", "content": "word " * 400}]
    async with serve() as (_, client):
        await client.chat.completions.create(model=MODEL, messages=messages, max_tokens=2)
        second = await client.chat.completions.create(model=MODEL, messages=messages, max_tokens=2)
    assert second.usage is not None and second.usage.prompt_tokens_details is not None
    assert (
        second.usage.prompt_tokens - 16 < second.usage.prompt_tokens_details.cached_tokens < second.usage.prompt_tokens
    )


async def test_next_turn_hits_the_blocks_cached_while_generating() -> None:
    first = [{"role": "user", "content": "Describe the river."}]
    async with serve() as (_, client):
        turn = await client.chat.completions.create(
            model=MODEL, messages=first, max_tokens=40, temperature=0, extra_body={"ignore_eos": True}
        )
        reply = {"role": "assistant", "content": turn.choices[0].message.content}
        second = await client.chat.completions.create(
            model=MODEL, messages=[*first, reply, {"role": "user", "content": "More."}], max_tokens=2
        )
    assert turn.usage is not None and second.usage is not None and second.usage.prompt_tokens_details is not None
    generated_blocks = (turn.usage.prompt_tokens + turn.usage.completion_tokens - 1) // 16
    assert second.usage.prompt_tokens_details.cached_tokens == 16 * generated_blocks > turn.usage.prompt_tokens


async def test_metrics_use_vllm_names() -> None:
    async with serve() as (server, client):
        await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5, temperature=0)
        async with httpx.AsyncClient() as http:
            text = (await http.get(server.base_url.removesuffix("/v1") + "/metrics")).text
    label = f'{{model_name="{MODEL}"}}'
    for name in (
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:prefix_cache_queries_total",
        "vllm:prefix_cache_hits_total",
    ):
        assert name + label in text
    assert f"vllm:generation_tokens_total{label} 5.0" in text
    assert f"vllm:prompt_tokens_total{label} {server.engine.stats().prompt_tokens}.0" in text


async def test_models_health_and_embeddings() -> None:
    async with serve() as (server, client):
        models = [m.id async for m in client.models.list()]
        embedded = await client.embeddings.create(model=MODEL, input=["hello world", "other", "hello world"])
        async with httpx.AsyncClient() as http:
            health = await http.get(server.base_url.removesuffix("/v1") + "/health")
            floats = (
                await http.post(server.base_url + "/embeddings", json={"model": MODEL, "input": "hello world"})
            ).json()
    assert models == [MODEL] and health.status_code == 200 and health.content == b""
    first, other, repeat = (d.embedding for d in embedded.data)
    assert len(first) == 256 and first == repeat and first != other
    assert sum(v * v for v in first) == pytest.approx(1.0, abs=1e-5)
    assert floats["data"][0]["embedding"] == pytest.approx(first, abs=1e-6)  # float and base64 agree
    assert embedded.usage.prompt_tokens == 2 * 3 + 2


async def test_openai_shaped_errors() -> None:
    async with serve(max_model_len=100) as (server, client):
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model="other", messages=MESSAGES)
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            missing = await http.post("/chat/completions", json={"model": "other", "messages": MESSAGES})
            bad_json = await http.post("/chat/completions", content=b"{not json")
            bad = [
                await http.post("/chat/completions", json={"model": MODEL, **body})
                for body in (
                    {},
                    {"messages": []},
                    {"messages": MESSAGES, "n": 0},
                    {"messages": MESSAGES, "max_tokens": 0},
                    {"messages": MESSAGES, "temperature": "hot"},
                    {"messages": [{"role": "user", "content": "x " * 200}]},
                )
            ]
    error = missing.json()["error"]
    assert (
        missing.status_code == 404
        and error["code"] == 404
        and error["type"] == "NotFoundError"
        and "other" in error["message"]
    )
    assert bad_json.status_code == 400 and bad_json.json()["error"]["type"] == "BadRequestError"
    assert [r.status_code for r in bad] == [400] * len(bad)
    assert "maximum context length" in bad[-1].json()["error"]["message"]
    assert server.engine.stats().running == 0


async def test_client_disconnect_mid_stream_aborts_the_request() -> None:
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": 5000, "ignore_eos": True, "stream": True}
    async with serve("llama3-8b-h100", speedup=1) as (server, _):
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            async with http.stream("POST", "/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if '"content":"' in line and '"content":""' not in line:
                        break  # first token arrived; hang up
            engine = server.engine
            assert await eventually(lambda: engine.stats().aborted == 1)
            stats = engine.stats()
            assert (stats.running, stats.completed, stats.kv_cache_usage) == (0, 0, 0.0)


async def test_client_disconnect_while_queued_aborts_the_request() -> None:
    async with serve("llama3-8b-h100", speedup=1, kv_cache_tokens=512) as (server, _):
        engine = server.engine
        # A request that holds most of the KV cache for ~0.7 s of decoding.
        hog = engine.submit(words(400), SamplingParams(max_tokens=200, ignore_eos=True))
        body = {"model": MODEL, "prompt": "x " * 300, "max_tokens": 10}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=0.3) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/completions", json=body)
        assert await eventually(lambda: engine.aborted_requests == 1)
        queued = engine.recent[-1]
        assert queued is not hog and queued.aborted and queued.first_token_clock is None
        assert engine.stats().waiting == 0 and not hog.finished
        engine.abort(hog)
        assert engine.stats().kv_cache_usage == 0.0
