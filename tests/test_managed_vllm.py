"""ManagedVLLM: start, health wait, restart on death, stop of the whole tree.

The fast tests run a fake `vllm.entrypoints.openai.api_server` (tests/fakes)
with the gateway's own interpreter; the `vllm` test runs the real SmolLM2 on
the CPU build made by scripts/setup-vllm.sh.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from gateway.config import VLLMEngineConfig
from gateway.engines.vllm import (
    EngineError,
    EngineStartError,
    ManagedVLLM,
    _cpu_ranges,
    default_env,
    free_port,
    group_members,
    http_status,
)

ROOT = Path(__file__).resolve().parent.parent
FAKE_PATH = str(Path(__file__).resolve().parent / "fakes" / "fake_vllm")


def fake_engine(
    tmp_path: Path,
    mode: str = "ok",
    *,
    startup_timeout_s: float = 20.0,
    max_restarts: int = 5,
    stop_grace_s: float = 15.0,
    env: dict[str, str] | None = None,
) -> ManagedVLLM:
    (tmp_path / "model").mkdir(exist_ok=True)
    cfg = VLLMEngineConfig(
        model="model",
        python=sys.executable,
        args=["--enforce-eager"],
        env={
            "PYTHONPATH": FAKE_PATH,
            "FAKE_VLLM_MODE": mode,
            "FAKE_VLLM_PIDFILE": str(tmp_path / "pids"),
            **(env or {}),
        },
        startup_timeout_s=startup_timeout_s,
        max_restarts=max_restarts,
    )
    return ManagedVLLM("fake-model", cfg, cwd=tmp_path, restart_backoff_s=0.1, stop_grace_s=stop_grace_s)


def launched_pids(tmp_path: Path) -> list[tuple[int, int]]:
    """(server pid, helper pid) for every start of the fake."""
    lines = (tmp_path / "pids").read_text().split("\n")
    return [(int(a), int(b)) for a, b in (line.split() for line in lines if line)]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that may never come counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


async def test_start_serves_and_stop_kills_whole_tree(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path)
    url = await engine.start()
    try:
        assert url == engine.base_url and url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert engine.healthy
        assert await http_status(port_of(url)) == 200
        models = await openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0).models.list()
        assert [m.id for m in models.data] == ["fake-model"]
        [(server, helper)] = launched_pids(tmp_path)
        assert alive(server) and alive(helper)
        assert sorted(group_members(server)) == sorted([server, helper])
    finally:
        await engine.stop()
    assert not engine.healthy
    assert group_members(server) == [], "stop left a process of the tree running"
    assert await http_status(port_of(url), timeout=0.5) is None


async def test_command_line(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path)
    argv = engine.command()
    assert argv[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--model") + 1] == str(tmp_path / "model")
    assert argv[argv.index("--served-model-name") + 1] == "fake-model"
    assert argv[-1] == "--enforce-eager"
    with pytest.raises(EngineError, match="not started"):
        _ = engine.base_url


async def test_restarts_after_the_server_dies(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path)
    await engine.start()
    try:
        [(server, helper)] = launched_pids(tmp_path)
        os.kill(server, signal.SIGKILL)
        await wait_for(lambda: engine.healthy and engine.pid not in (None, server))
        assert engine.restarts == 1
        assert await http_status(port_of(engine.base_url)) == 200
        # The dead server's helper went with it: no orphan per crash.
        await wait_for(lambda: not alive(helper), timeout=5)
        assert len(launched_pids(tmp_path)) == 2
    finally:
        await engine.stop()
    assert not any(alive(pid) for pair in launched_pids(tmp_path) for pid in pair)


async def test_gives_up_after_max_restarts(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path, "die_after", max_restarts=1, env={"FAKE_VLLM_DIE_AFTER_S": "0.5"})
    await engine.start()
    assert engine._watch is not None
    await asyncio.wait_for(engine._watch, 20)  # the supervisor ends when it gives up
    assert engine.restarts == 1 and not engine.healthy
    assert len(launched_pids(tmp_path)) == 2
    await engine.stop()


def test_free_port_prefers_the_old_port_only_if_free() -> None:
    port = free_port()
    assert free_port(port) == port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        assert free_port(port) != port


async def test_missing_python(tmp_path: Path) -> None:
    engine = ManagedVLLM("m", VLLMEngineConfig(model=".", python=".venv-nope/bin/python"), cwd=tmp_path)
    with pytest.raises(EngineStartError, match=r"python '.*\.venv-nope/bin/python' does not exist.*setup-vllm"):
        await engine.start()
    engine = ManagedVLLM("m", VLLMEngineConfig(model=".", python="no-such-python3"), cwd=tmp_path)
    with pytest.raises(EngineStartError, match="not on PATH"):
        await engine.start()


async def test_missing_model(tmp_path: Path) -> None:
    engine = ManagedVLLM("m", VLLMEngineConfig(model=".models/nope", python=sys.executable), cwd=tmp_path)
    with pytest.raises(EngineStartError, match=r"model path '.*\.models/nope' does not exist"):
        await engine.start()
    # An "org/name" id is left to vLLM (served from the local Hugging Face cache).
    hub = ManagedVLLM("m", VLLMEngineConfig(model="HuggingFaceTB/SmolLM2-135M-Instruct", python=sys.executable), cwd=tmp_path)
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in hub.command()


async def test_exit_during_startup_reports_output(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path, "exit")
    t0 = time.monotonic()
    with pytest.raises(EngineStartError) as info:
        await engine.start()
    message = str(info.value)
    assert "exited with code 3 during start-up" in message
    assert "fake vllm: loading model" in message
    assert "RuntimeError: fake engine refuses to start" in message
    assert time.monotonic() - t0 < 10, "a crash must be reported at once, not at the timeout"
    assert not engine.healthy


async def test_startup_timeout_kills_the_process(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path, "hang", startup_timeout_s=1.5)
    with pytest.raises(EngineStartError, match=r"not ready after 1.5 s \(vllm.startup_timeout_s\)") as info:
        await engine.start()
    assert "mode=hang" in str(info.value)
    [(server, helper)] = launched_pids(tmp_path)
    assert not alive(server) and not alive(helper)


async def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path, "stubborn", stop_grace_s=0.5)
    await engine.start()
    [(server, helper)] = launched_pids(tmp_path)
    t0 = time.monotonic()
    await engine.stop()
    assert 0.4 < time.monotonic() - t0 < 10
    assert not alive(server) and not alive(helper)


def test_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cpu_ranges({0, 1}) == "0-1"
    assert _cpu_ranges({5, 0, 1, 2, 7, 8}) == "0-2,5,7-8"
    defaults = default_env()
    assert defaults["HF_HUB_OFFLINE"] == "1" and defaults["VLLM_CPU_KVCACHE_SPACE"] == "1"
    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", "0")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    cfg = VLLMEngineConfig(model=".", env={"VLLM_CPU_KVCACHE_SPACE": "4"})
    env = ManagedVLLM("m", cfg, cwd=tmp_path)._env()
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == "0"  # the gateway's environment beats a default
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "4"  # the config beats both
    assert env["HF_HUB_OFFLINE"] == "1"


# -- the real engine ----------------------------------------------------------

VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
SMOLLM2 = ROOT / ".models" / "smollm2-135m-instruct"
# Found to work with vllm-cpu 0.32.0 on a 2-core x86 box (docs/vllm-engine.md).
SMOLLM2_ARGS = ["--enforce-eager", "--max-model-len", "2048", "--dtype", "float32"]


@pytest.mark.vllm
async def test_real_vllm_answers_through_openai_sdk(record_property: Callable[[str, object], None]) -> None:
    if not VLLM_PYTHON.exists():
        pytest.skip(f"{VLLM_PYTHON.relative_to(ROOT)} missing: run scripts/setup-vllm.sh")
    if not (SMOLLM2 / "config.json").exists():
        pytest.skip(f"{SMOLLM2.relative_to(ROOT)} missing: run scripts/setup-vllm.sh")
    cfg = VLLMEngineConfig(
        model=".models/smollm2-135m-instruct", args=SMOLLM2_ARGS, startup_timeout_s=300, max_restarts=0
    )
    engine = ManagedVLLM("smollm2", cfg, cwd=ROOT)
    t0 = time.monotonic()
    url = await engine.start()
    try:
        startup_s = time.monotonic() - t0
        record_property("vllm_startup_s", round(startup_s, 1))
        print(f"\nvLLM start-up: {startup_s:.1f} s")
        client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0, timeout=120)
        reply = await client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            max_tokens=30,
            temperature=0,
        )
        answer = reply.choices[0].message.content or ""
        print(f"vLLM answer: {answer!r}")
        assert "Paris" in answer
    finally:
        pid = engine.pid
        await engine.stop()
    assert pid is not None and group_members(pid) == [], "vLLM processes outlived stop()"


def test_vllm_dies_with_a_killed_gateway(tmp_path: Path) -> None:
    """SIGKILL gives the gateway no chance to stop its engine: the kernel must."""
    script = f"""
import asyncio, sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from tests.test_managed_vllm import fake_engine
async def main():
    engine = fake_engine(Path({str(tmp_path)!r}))
    await engine.start()
    print(engine.pid, flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # running
    parent.kill()
    parent.wait()
    helper = int((tmp_path / "pids").read_text().split()[1])
    for pid in (child, helper):  # the server, then the "engine core" it shuts down
        assert _gone_within(pid, 10), f"process {pid} outlived its gateway"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split()[2] == "Z":  # exited, waiting for the reaper
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return False
