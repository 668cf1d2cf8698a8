"""Two `semgate serve` processes sharing one redis-server, as replicas behind a
load balancer: one global rate limit, keys created with the CLI on one replica
work on the other, a revocation reaches both, usage adds up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from tests.support import free_socket

ADMIN_KEY = "admin-key-of-the-replica-tests"
ENV = {**os.environ, "SEMGATE_ADMIN_KEY": ADMIN_KEY}


def free_port() -> int:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    return port


def semgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, env=ENV,
                          timeout=60)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[list[str]]:
    folder = tmp_path_factory.mktemp("replicas")
    config = {
        "server": {"health_interval_s": 60, "access_log": False},
        "models": [{"name": "m", "engine": "sim", "sim": {"profile": "instant"},
                    "input_cost_per_mtok": 1000, "output_cost_per_mtok": 1000}],
        "store": {"backend": "redis", "url": redis_url},
        "auth": {"admin_key_env": "SEMGATE_ADMIN_KEY", "key_cache_s": 0.5},
        "tenants": {"team": {"rpm": 10}, "other": {}},
    }
    path = folder / "semgate.yaml"
    path.write_text(yaml.safe_dump(config))
    procs, urls = [], []
    for index in range(2):
        port = free_port()
        log = open(folder / f"replica{index}.log", "w")  # noqa: SIM115 - closed with the process below
        procs.append((subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(path),
                                        "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=ENV), log))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for (proc, _), url in zip(procs, urls):
            wait_ready(url, proc, folder)
        yield urls
    finally:
        for proc, log in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(15)
            log.close()


def wait_ready(url: str, proc: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "\n".join(p.read_text() for p in folder.glob("*.log"))
        try:
            if httpx.get(url + "/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("replica did not become ready")


def create_key(url: str, tenant: str) -> str:
    done = semgate("keys", "create", "--tenant", tenant, "--url", url)
    assert done.returncode == 0, done.stderr
    assert "shown once" in done.stderr
    return done.stdout.strip()


def ask(url: str, key: str) -> int:
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=10)
    try:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    except openai.RateLimitError:
        return 429
    except openai.AuthenticationError:
        return 401
    return 200


def test_two_replicas_enforce_one_global_limit(replicas: list[str]) -> None:
    key = create_key(replicas[0], "team")
    statuses = [ask(replicas[index % 2], key) for index in range(20)]  # round robin, like a load balancer
    assert statuses.count(200) == 10 and statuses.count(429) == 10
    assert statuses[:10] == [200] * 10  # within the minute, the first ten pass wherever they land


def test_a_key_created_on_one_replica_is_revoked_on_both(replicas: list[str]) -> None:
    key = create_key(replicas[0], "other")
    assert [ask(url, key) for url in replicas] == [200, 200]
    listed = semgate("keys", "list", "--tenant", "other", "--url", replicas[1])
    assert listed.returncode == 0 and key not in listed.stdout
    key_id = next(line.split()[0] for line in listed.stdout.splitlines()[1:] if "active" in line)
    done = semgate("keys", "revoke", key_id, "--url", replicas[1])
    assert done.returncode == 0, done.stderr
    assert ask(replicas[1], key) == 401  # at once where it was revoked
    time.sleep(0.6)  # key_cache_s elsewhere
    assert ask(replicas[0], key) == 401


def test_usage_adds_up_across_replicas(replicas: list[str]) -> None:
    key = create_key(replicas[1], "other")
    before = usage(replicas[0])
    for url in replicas * 2:
        assert ask(url, key) == 200
    deadline = time.monotonic() + 5
    while usage(replicas[1]) - before < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert usage(replicas[1]) - before == 4


def usage(url: str) -> int:
    done = semgate("usage", "other", "--url", url)
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["usage"]["day"]["requests"])


def test_the_cli_explains_a_wrong_admin_key_or_an_unreachable_gateway(replicas: list[str]) -> None:
    wrong = subprocess.run([sys.executable, "-m", "gateway", "keys", "list", "--url", replicas[0]],
                           capture_output=True, text=True, env={**ENV, "SEMGATE_ADMIN_KEY": "wrong"}, timeout=60)
    assert wrong.returncode == 1 and "401" in wrong.stderr and "Traceback" not in wrong.stderr
    gone = semgate("keys", "list", "--url", f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 1 and "cannot reach" in gone.stderr


def test_a_key_created_with_an_expiry_lists_as_expired_afterwards(replicas: list[str]) -> None:
    done = semgate("keys", "create", "--tenant", "other", "--name", "temp", "--expires-in", "1s", "--json",
                   "--url", replicas[0])
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert ask(replicas[1], record["key"]) == 200
    time.sleep(max(0.0, record["expires"] - time.time()) + 0.1)  # `expires` is rounded up to the second
    assert ask(replicas[1], record["key"]) == 401
    listed = semgate("keys", "list", "--tenant", "other", "--url", replicas[1]).stdout
    assert any(line.startswith(record["id"]) and line.endswith("expired") for line in listed.splitlines())
    bad = semgate("keys", "create", "--tenant", "other", "--expires-in", "soon")
    assert bad.returncode == 2 and "not a duration" in bad.stderr
