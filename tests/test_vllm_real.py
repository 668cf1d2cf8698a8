"""The same smoke as the SDK tests, through the gateway, against a real vLLM.

The gateway starts vLLM itself (`engine: vllm`) with SmolLM2-135M-Instruct,
prepared by scripts/setup-vllm.sh. Takes about a minute to start on 2 CPU
cores; deselect with `-m "not vllm"` for the quick loop. `.ci/run` runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests import support
from tests.support import BackgroundLoop, RunningGateway

pytestmark = pytest.mark.vllm

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
MODEL = ROOT / ".models" / "smollm2-135m-instruct"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def real(bg: BackgroundLoop) -> Iterator[RunningGateway]:
    if not VENV_PYTHON.exists() or not (MODEL / "config.json").exists():
        pytest.fail("vLLM is not set up: run scripts/setup-vllm.sh (./test.sh does)")
    config = {
        "models": [{
            "name": "smollm2",
            "engine": "vllm",
            "upstream_model": "smollm2-135m",
            "vllm": {
                "model": str(MODEL),
                "python": str(VENV_PYTHON),
                "args": ["--enforce-eager", "--max-model-len", "2048"],
                "startup_timeout_s": 420,
            },
        }],
    }
    running = bg.run(support.start_gateway(config), timeout=480)
    yield running
    bg.run(support.stop_gateway(running), timeout=60)


@pytest.fixture
def real_client(real: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=real.base_url, api_key="unused", max_retries=0, timeout=120)


def test_real_chat_answers_correctly(real_client: openai.OpenAI) -> None:
    reply = real_client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=24, temperature=0)
    assert "Paris" in reply.choices[0].message.content
    assert reply.model == "smollm2"  # the upstream name is mapped back
    assert reply.usage.completion_tokens > 0


def test_real_streaming_with_usage(real_client: openai.OpenAI) -> None:
    chunks = list(real_client.chat.completions.create(
        model="smollm2", messages=QUESTION, max_tokens=24, temperature=0,
        stream=True, stream_options={"include_usage": True},
    ))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_real_logprobs(real_client: openai.OpenAI) -> None:
    reply = real_client.chat.completions.create(
        model="smollm2", messages=QUESTION, max_tokens=4, logprobs=True, top_logprobs=2
    )
    content = reply.choices[0].logprobs.content
    assert len(content) == reply.usage.completion_tokens
    assert all(entry.logprob <= 0 and len(entry.top_logprobs) == 2 for entry in content)


def test_vllm_extensions_reach_vllm(real_client: openai.OpenAI) -> None:
    reply = real_client.chat.completions.create(
        model="smollm2", messages=QUESTION, max_tokens=12,
        extra_body={"ignore_eos": True, "top_k": 1},
    )
    # ignore_eos makes vLLM generate exactly max_tokens.
    assert reply.usage.completion_tokens == 12
    assert reply.choices[0].finish_reason == "length"


def test_real_vllm_metrics_are_scraped(real: RunningGateway, real_client: openai.OpenAI) -> None:
    """The balancer's parser against a live capture of vLLM's own /metrics."""
    import httpx

    from router.scrape import parse_metrics

    real_client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=4)
    origin = real.gateway.routes["smollm2"].replicas.replicas[0].origin
    capture = httpx.get(f"http://{origin.host}:{origin.port}/metrics").content
    load = parse_metrics(capture)
    assert load is not None and load.waiting == 0 and 0.0 <= load.kv_usage <= 1.0
    # The simulated engine imitates these series; the real one must still have them.
    for name in (b"vllm:num_requests_running", b"vllm:num_requests_waiting", b"vllm:kv_cache_usage_perc",
                 b"vllm:prefix_cache_queries_total", b"vllm:prefix_cache_hits_total"):
        assert name in capture, name
