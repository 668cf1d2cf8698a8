"""The pipelined Redis connection of the request path: the reply parser on its
own, then against real redis-server processes (passwords, databases, a flushed
script cache, a restart, a crowd of concurrent commands)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import pytest

from gateway.store import Meter, StoreError
from gateway.store.redis import RedisStore
from gateway.store.resp import PipelinedRedis, ReplyError, _Incomplete, encode, parse
from tests.support import RedisServer


def test_encode_is_a_resp_array_of_bulk_strings() -> None:
    assert encode("GET", b"k\r\nx", 7, 0.5) == b"*4\r\n$3\r\nGET\r\n$4\r\nk\r\nx\r\n$1\r\n7\r\n$3\r\n0.5\r\n"


@pytest.mark.parametrize(("wire", "reply"), [
    (b"+OK\r\n", b"OK"),
    (b":42\r\n", 42),
    (b"$5\r\nhe\r\nl\r\n", b"he\r\nl"),
    (b"$-1\r\n", None),
    (b"*2\r\n:0\r\n$1\r\n0\r\n", [0, b"0"]),
    (b"*2\r\n*1\r\n+a\r\n$0\r\n\r\n", [[b"a"], b""]),
])
def test_parse_every_reply_kind(wire: bytes, reply: object) -> None:
    assert parse(wire, 0) == (reply, len(wire))
    for cut in range(1, len(wire)):  # any prefix is incomplete, never wrong
        with pytest.raises(_Incomplete):
            parse(wire[:cut], 0)


def test_parse_errors_are_values_not_exceptions() -> None:
    error, end = parse(b"-NOSCRIPT No matching script\r\n+OK\r\n", 0)
    assert isinstance(error, ReplyError) and str(error).startswith("NOSCRIPT") and parse(b"-E\r\n+OK\r\n", 4)[0] == b"OK"
    assert end == 30


async def test_password_and_database_from_the_url() -> None:
    server = start_redis(password="s3cret")
    try:
        good = PipelinedRedis(f"redis://:s3cret@127.0.0.1:{server.port}/3", timeout_s=1)
        assert await good.call("SET", "k", "v") == b"OK"
        assert await good.call("GET", "k") == b"v"
        out = subprocess.run(["redis-cli", "-p", str(server.port), "-a", "s3cret", "-n", "3", "get", "k"],
                             capture_output=True, text=True)
        assert out.stdout.strip() == "v"  # it went to database 3
        good.close()
        bad = PipelinedRedis(f"redis://:wrong@127.0.0.1:{server.port}/0", timeout_s=1)
        with pytest.raises(StoreError):
            await bad.call("GET", "k")
        bad.close()
    finally:
        server.stop()


async def test_a_flushed_script_cache_is_reloaded(redis_url: str) -> None:
    store = RedisStore(redis_url)
    meter = Meter("{resp}:rpm", 5, 5 / 60, 61)
    try:
        await store._redis.delete(meter.key)
        assert await store.take([(meter, 1)]) is None
        await store._redis.script_flush()
        assert await store.take([(meter, 1)]) is None  # NOSCRIPT, then EVAL
        assert (await store.used([meter]))[0] == pytest.approx(2, abs=0.01)
    finally:
        await store.close()


async def test_many_concurrent_commands_share_one_connection(redis_url: str) -> None:
    redis = PipelinedRedis(redis_url, timeout_s=2)
    try:
        await redis.call("DEL", "crowd")
        replies = await asyncio.gather(*(redis.call("INCR", "crowd") for _ in range(2000)))
        assert sorted(replies) == list(range(1, 2001))  # each reply reached its own caller
    finally:
        redis.close()


async def test_a_restarted_redis_is_reconnected_and_a_frozen_one_times_out() -> None:
    server = start_redis()
    redis = PipelinedRedis(f"redis://127.0.0.1:{server.port}/0", timeout_s=0.3)
    try:
        assert await redis.call("PING") == b"PONG"
        server.process.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(StoreError, match="did not answer"):
            await redis.call("PING")
        assert time.monotonic() - started < 1.0
        server.process.send_signal(signal.SIGCONT)
        server.stop()
        with pytest.raises(StoreError):
            await redis.call("PING")
        server = start_redis(port=server.port)
        assert await redis.call("PING") == b"PONG"
    finally:
        redis.close()
        server.stop()


def start_redis(*, password: str | None = None, port: int | None = None) -> RedisServer:
    server = RedisServer.start(port)
    if password:  # set after start: RedisServer.start pings without a password
        args = ["redis-cli", "-p", str(server.port), "config", "set", "requirepass", password]
        assert subprocess.run(args, capture_output=True).stdout.strip() == b"OK"
    return server
