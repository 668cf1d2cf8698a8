"""Replica choice within a model: p2c, round robin, bounded-load affinity,
the circuit breaker, and the fallbacks that keep a stale mark from a 503.

No sockets, no sleeps: loads are set by hand, time is a fake clock.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest

from gateway.config import BalancerConfig
from router.affinity import affinity_key
from router.balancer import ReplicaSet
from router.breaker import Breaker, State
from router.replicas import COOLDOWN_S, Replica
from router.ring import LOAD_SLACK
from router.scrape import EngineLoad
from tests.support import FakeClock


def replica_set(count: int = 4, clock: FakeClock | None = None, seed: int = 0, **config: Any) -> ReplicaSet:
    replicas = [Replica(f"http://10.0.0.{i}:8000/v1") for i in range(1, count + 1)]
    return ReplicaSet(replicas, BalancerConfig(**config), rng=random.Random(seed), clock=clock or FakeClock())


def picks(replicas: ReplicaSet, times: int, **kwargs: Any) -> Counter[int]:
    """How often each replica (by index) is chosen, loads left unchanged."""
    index = {id(r): i for i, r in enumerate(replicas.replicas)}
    counts: Counter[int] = Counter()
    for _ in range(times):
        chosen = replicas.pick(**kwargs)
        assert chosen is not None
        counts[index[id(chosen)]] += 1
    return counts


# ---- power of two choices -------------------------------------------------


def test_p2c_prefers_the_less_loaded_replica() -> None:
    two = replica_set(2)
    two.replicas[0].in_flight = 3
    assert picks(two, 100) == {1: 100}


def test_p2c_never_picks_the_most_loaded_of_four_and_spreads_over_the_rest() -> None:
    replicas = replica_set(4)
    replicas.replicas[2].in_flight = 9
    counts = picks(replicas, 3000)
    assert counts[2] == 0
    assert all(800 < counts[i] < 1200 for i in (0, 1, 3)), counts


def test_p2c_balances_requests_that_stay_in_flight() -> None:
    replicas = replica_set(4)
    for _ in range(400):
        chosen = replicas.pick()
        assert chosen is not None
        chosen.in_flight += 1
    loads = [r.in_flight for r in replicas.replicas]
    assert max(loads) - min(loads) <= 2, loads


def test_the_rng_is_the_sets_own_and_seedable() -> None:
    first, second = replica_set(seed=7), replica_set(seed=7)
    sequence = [first.replicas.index(first.pick()) for _ in range(50)]  # type: ignore[arg-type]
    assert sequence == [second.replicas.index(second.pick()) for _ in range(50)]  # type: ignore[arg-type]


# ---- round robin ------------------------------------------------------------


def test_round_robin_rotates_whatever_the_load() -> None:
    replicas = replica_set(3, policy="round_robin")
    replicas.replicas[0].in_flight = 50
    order = [replicas.replicas.index(replicas.pick()) for _ in range(6)]  # type: ignore[arg-type]
    assert order == [0, 1, 2, 0, 1, 2]


def test_round_robin_skips_an_unavailable_replica() -> None:
    replicas = replica_set(3, policy="round_robin")
    replicas.replicas[1].mark_healthy(False)
    order = [replicas.replicas.index(replicas.pick()) for _ in range(4)]  # type: ignore[arg-type]
    assert order == [0, 2, 0, 2]


# ---- scraped engine load ------------------------------------------------------


def test_a_scraped_waiting_queue_steers_traffic_away() -> None:
    replicas = replica_set(4)
    busy = replicas.replicas[0]
    busy.observe(EngineLoad(waiting=12, running=8, kv_usage=0.5))
    assert picks(replicas, 1000)[0] == 0
    busy.forget_load()  # the scrapes stopped answering: no stale steering
    assert picks(replicas, 1000)[0] > 150


def test_scraped_counts_include_our_own_requests_only_once() -> None:
    replica = Replica("http://10.0.0.1:8000/v1")
    replica.in_flight = 3
    replica.observe(EngineLoad(waiting=1, running=4, kv_usage=0.1))
    assert replica.load == 5  # 3 ours (live) + 2 from elsewhere
    replica.observe(EngineLoad(waiting=0, running=2, kv_usage=0.1))  # ours not yet in the engine
    assert replica.load == 3


def test_a_nearly_full_kv_cache_counts_as_extra_load() -> None:
    roomy, full = Replica("http://10.0.0.1:8000/v1"), Replica("http://10.0.0.2:8000/v1")
    roomy.observe(EngineLoad(waiting=0, running=8, kv_usage=0.5))
    full.observe(EngineLoad(waiting=0, running=8, kv_usage=1.0))
    assert roomy.load == 8
    assert full.load == 16


# ---- affinity: consistent hashing with bounded loads --------------------------------


def key(n: int) -> bytes:
    return b"system prompt %d " % n * 20


def test_equal_keys_go_to_the_same_replica() -> None:
    replicas = replica_set(4)
    for n in range(20):
        assert len(picks(replicas, 30, affinity=key(n))) == 1


def test_different_keys_spread_over_all_replicas() -> None:
    replicas = replica_set(4)
    owners = Counter(replicas.replicas.index(replicas.pick(affinity=key(n))) for n in range(2000))  # type: ignore[arg-type]
    assert len(owners) == 4 and min(owners.values()) > 2000 / 4 * 0.75, owners


def test_a_loaded_owner_passes_its_keys_to_the_next_replica_on_the_ring() -> None:
    replicas = replica_set(4)
    walk = replicas._ring.owners(key(1))
    owner = replicas.replicas[walk[0]]
    assert replicas.pick(affinity=key(1)) is owner
    owner.in_flight = 8  # bound: max(ceil(1.25 * 9 / 4), 9 / 4 + LOAD_SLACK) = 6.25
    assert replicas.pick(affinity=key(1)) is replicas.replicas[walk[1]]


def test_a_small_burst_of_one_key_stays_on_its_owner() -> None:
    replicas = replica_set(4)
    owner = replicas.replicas[replicas._ring.owners(key(2))[0]]
    for _ in range(5):  # up to the mean + LOAD_SLACK, though 1.25 x the mean is ~1
        assert replicas.pick(affinity=key(2)) is owner
        owner.in_flight += 1
    assert replicas.pick(affinity=key(2)) is not owner


def test_a_hot_key_never_loads_a_replica_past_the_bound() -> None:
    replicas = replica_set(4, load_bound=1.25)
    for placed in range(200):
        chosen = replicas.pick(affinity=key(3))
        assert chosen is not None
        mean = (placed + 1) / 4
        assert chosen.in_flight + 1 <= max(math.ceil(1.25 * mean), mean + LOAD_SLACK)
        chosen.in_flight += 1
    walk = replicas._ring.owners(key(3))
    loads = [replicas.replicas[i].in_flight for i in walk]
    assert loads[0] >= loads[-1]  # spill-over follows the ring's order


def test_affinity_walks_past_unavailable_and_tried_replicas() -> None:
    replicas = replica_set(4)
    walk = replicas._ring.owners(key(5))
    first, second, third = (replicas.replicas[i] for i in walk[:3])
    first.mark_healthy(False)
    assert replicas.pick(affinity=key(5)) is second
    assert replicas.pick((second,), affinity=key(5)) is third


def test_affinity_of_follows_the_models_settings() -> None:
    chat = {"messages": [{"role": "system", "content": "x" * 300}, {"role": "user", "content": "hi"}]}
    on, off = replica_set(2), replica_set(2, prefix_affinity=False)
    assert on.affinity_of(chat, None) == b"x" * 256
    assert off.affinity_of(chat, None) is None
    assert off.affinity_of(chat, b"session-1") == b"session-1"  # a session sticks regardless
    assert on.session_header == b"x-session-id"


# ---- affinity keys ------------------------------------------------------------


SYSTEM = "You are a meticulous assistant for the Semgate project. " * 6  # > 256 characters


def chat(*contents: Any) -> dict[str, Any]:
    roles = ["system", "user", "assistant", "user"]
    return {"model": "m", "messages": [{"role": roles[i], "content": c} for i, c in enumerate(contents)]}


def test_requests_sharing_a_long_system_prompt_share_a_key() -> None:
    assert affinity_key(chat(SYSTEM, "What is 2+2?"), None, 256) == affinity_key(chat(SYSTEM, "Hello"), None, 256)
    assert affinity_key(chat(SYSTEM, "hi"), None, 256) == SYSTEM[:256].encode()


def test_a_session_id_wins_over_the_prompt() -> None:
    assert affinity_key(chat(SYSTEM, "hi"), b"abc", 256) == b"abc"


def test_short_prompts_have_no_key() -> None:
    assert affinity_key(chat("Be brief.", "hi"), None, 256) is None
    assert affinity_key({"model": "m", "prompt": "short"}, None, 256) is None
    assert affinity_key({"model": "m", "input": SYSTEM}, None, 256) is None  # embeddings


def test_the_key_spans_messages_in_order_with_boundaries() -> None:
    short_system = "Answer in French. "
    key = affinity_key(chat(short_system, SYSTEM), None, 256)
    assert key is not None and key.startswith(short_system.encode() + b"\x00")
    assert affinity_key(chat("ab", "c" + SYSTEM), None, 64) != affinity_key(chat("a", "bc" + SYSTEM), None, 64)


def test_content_parts_count_their_text_only() -> None:
    parts = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}, {"type": "text", "text": SYSTEM}]
    assert affinity_key(chat(parts), None, 256) == SYSTEM[:256].encode()


def test_completions_prompts_text_batches_and_token_ids() -> None:
    assert affinity_key({"prompt": SYSTEM}, None, 256) == SYSTEM[:256].encode()
    assert affinity_key({"prompt": [SYSTEM, "other"]}, None, 256) == SYSTEM[:256].encode()
    tokens = list(range(100))
    assert affinity_key({"prompt": tokens}, None, 256) == affinity_key({"prompt": tokens[:64] + [7] * 50}, None, 256)
    assert affinity_key({"prompt": [tokens]}, None, 256) is not None
    assert affinity_key({"prompt": tokens[:10]}, None, 256) is None


# ---- circuit breaker ------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_only() -> None:
    clock = FakeClock()
    breaker = Breaker(threshold=3, open_s=10, clock=clock)
    breaker.failure()
    breaker.failure()
    breaker.success()  # resets the count
    breaker.failure()
    breaker.failure()
    assert breaker.state is State.CLOSED and breaker.allows()
    breaker.failure()
    assert breaker.state is State.OPEN and not breaker.allows()


def test_breaker_half_opens_after_open_s_and_lets_one_trial_through() -> None:
    clock = FakeClock()
    replicas = replica_set(2, clock=clock, failure_threshold=2, open_s=10)
    flaky, other = replicas.replicas
    flaky.record_failure("status_5xx")
    flaky.record_failure("timeout")
    assert not flaky.available
    assert picks(replicas, 50) == {1: 50}
    clock.advance(10)
    assert flaky.breaker.state is State.HALF_OPEN and flaky.available
    other.in_flight = 5  # so that p2c prefers the half-open replica
    assert replicas.pick() is flaky  # the trial
    assert not flaky.available
    assert replicas.pick() is other  # while the trial is out, nobody else goes there
    flaky.record_success(0.2)
    assert flaky.breaker.state is State.CLOSED and flaky.available


def tripped(clock: FakeClock) -> Replica:
    """A replica whose breaker (threshold 1, open 5 s) has just opened."""
    replica = Replica("http://10.0.0.1:8000/v1", failure_threshold=1, open_s=5, clock=clock)
    replica.record_failure("status_429")
    return replica


def test_a_failed_trial_opens_the_breaker_again() -> None:
    clock = FakeClock()
    replica = tripped(clock)
    clock.advance(5)
    replica.breaker.claim_trial()
    replica.record_failure("status_5xx")
    assert replica.breaker.state is State.OPEN
    clock.advance(4.9)
    assert not replica.available
    clock.advance(0.1)
    assert replica.available


def test_a_lost_trial_expires_after_open_s() -> None:
    clock = FakeClock()
    replica = tripped(clock)
    clock.advance(5)
    replica.breaker.claim_trial()  # its outcome never arrives (client went away)
    assert not replica.available
    clock.advance(5)
    assert replica.available


def test_a_success_from_before_the_breaker_opened_does_not_close_it() -> None:
    replica = tripped(FakeClock())
    replica.record_success(1.0)
    assert replica.breaker.state is State.OPEN


def test_a_refused_connection_takes_the_replica_out_briefly() -> None:
    clock = FakeClock()
    replica = Replica("http://10.0.0.1:8000/v1", clock=clock)
    replica.record_failure("connect")
    assert not replica.available and replica.breaker.state is State.CLOSED
    clock.advance(COOLDOWN_S)
    assert replica.available
    replica.record_failure("connect")
    replica.mark_healthy(True)  # a probe saw it answer: back at once
    assert replica.available


def test_a_probe_does_not_close_an_open_breaker() -> None:
    replica = tripped(FakeClock())
    replica.mark_healthy(True)
    assert not replica.available


def test_unknown_failure_kinds_are_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown failure kind"):
        Replica("http://10.0.0.1:8000/v1").record_failure("status_404")


def test_the_set_configures_its_replicas_breakers() -> None:
    replicas = replica_set(2, failure_threshold=7, open_s=3)
    assert all(r.breaker.threshold == 7 and r.breaker.open_s == 3 for r in replicas.replicas)


# ---- exclusions and fallbacks ------------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"policy": "round_robin"}])
@pytest.mark.parametrize("with_key", [False, True])
def test_pick_never_returns_an_excluded_replica(settings: dict[str, Any], with_key: bool) -> None:
    replicas = replica_set(4, **settings)
    rng = random.Random(1)
    for n in range(500):
        exclude = tuple(r for r in replicas.replicas if rng.random() < 0.5)
        if rng.random() < 0.3:
            rng.choice(replicas.replicas).mark_healthy(rng.random() < 0.5)
        chosen = replicas.pick(exclude, affinity=key(n) if with_key else None)
        if len(exclude) == 4:
            assert chosen is None
        else:
            assert chosen is not None and chosen not in exclude


def test_when_every_replica_is_unavailable_one_is_tried_anyway() -> None:
    clock = FakeClock()
    replicas = replica_set(3, clock=clock, failure_threshold=1)
    a, b, c = replicas.replicas
    a.mark_healthy(False)
    b.record_failure("status_5xx")  # breaker open, but its probe answers
    c.mark_healthy(False)
    assert replicas.pick() is b
    assert replicas.pick(affinity=key(1)) is b
    assert replicas.pick((b,)) in (a, c)
    assert replicas.pick((a, b, c)) is None


def test_a_single_replica_is_always_tried() -> None:
    replicas = replica_set(1)
    only = replicas.replicas[0]
    only.mark_healthy(False)
    assert replicas.pick() is only
    assert replicas.pick(affinity=b"k") is only
    assert replicas.pick((only,)) is None


def test_the_config_defaults_when_none_is_given() -> None:
    replicas = ReplicaSet([Replica("http://10.0.0.1:8000/v1")])
    assert replicas.config == BalancerConfig()
    assert replicas.any_healthy


def _spill_load(perf: bytes | None) -> int:
    """The owner's in-flight count at which a request with this objective leaves it."""
    replicas = replica_set(4)
    walk = replicas._ring.owners(key(4))
    for other in walk[1:]:
        replicas.replicas[other].in_flight = 40  # loads where the bound, not the slack, decides
    owner = replicas.replicas[walk[0]]
    for load in range(200):
        owner.in_flight = load
        if replicas.pick(affinity=key(4), perf=perf) is not owner:
            return load
    raise AssertionError("never spilled")


def test_latency_critical_requests_leave_a_busy_owner_sooner_and_throughput_ones_later() -> None:
    latency, default, throughput = _spill_load(b"latency"), _spill_load(None), _spill_load(b"throughput")
    assert latency < default < throughput
    assert _spill_load(b"unknown") == default
