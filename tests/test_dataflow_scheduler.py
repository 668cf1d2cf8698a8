"""Which ready dataflow call runs next: latency before throughput, the earlier
application first, an app's same-prefix calls back to back, at most
`max_concurrent` at a time, stale and cancelled entries skipped."""

from __future__ import annotations

from dataflow.graph import Call, CallStatus, OutputSpec, Perf
from dataflow.scheduler import Scheduler
from dataflow.template import Template


def ready(call_id: str, perf: Perf = Perf.THROUGHPUT) -> Call:
    call = Call(call_id, "m", Template.parse("{{o}}"), {}, {"o": OutputSpec(f"{call_id}-out")})
    call.status, call.perf = CallStatus.READY, perf
    return call


class Launches:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.sessions: list[str] = []

    def __call__(self, session: str, call: Call) -> None:
        self.sessions.append(session)
        self.ids.append(call.id)


def busy(max_concurrent: int = 1) -> tuple[Scheduler[str], Launches]:
    """A scheduler whose slots are all taken, so what is enqueued next queues."""
    launches = Launches()
    scheduler: Scheduler[str] = Scheduler(max_concurrent, launches)
    for i in range(max_concurrent):
        scheduler.enqueue("s0", 0, "", ready(f"blocker{i}"))
    launches.ids.clear()
    launches.sessions.clear()
    return scheduler, launches


def drain(scheduler: Scheduler[str]) -> None:
    """End launched calls one at a time until nothing is queued."""
    while len(scheduler):
        scheduler.release()


def test_a_call_launches_at_once_when_a_slot_is_free() -> None:
    launches = Launches()
    scheduler: Scheduler[str] = Scheduler(2, launches)
    call = ready("c")
    scheduler.enqueue("sess", 1, "p", call)
    assert (launches.ids, launches.sessions) == (["c"], ["sess"])
    assert (call.status, scheduler.running, len(scheduler)) == (CallStatus.RUNNING, 1, 0)


def test_no_more_than_max_concurrent_calls_run() -> None:
    launches = Launches()
    scheduler: Scheduler[str] = Scheduler(2, launches)
    for i in range(5):
        scheduler.enqueue("s", 0, "", ready(f"c{i}"))
    assert launches.ids == ["c0", "c1"]
    assert (scheduler.running, len(scheduler)) == (2, 3)


def test_release_launches_the_next_queued_call() -> None:
    scheduler, launches = busy()
    scheduler.enqueue("s", 0, "", ready("next"))
    assert launches.ids == []
    scheduler.release()
    assert launches.ids == ["next"]
    assert (scheduler.running, len(scheduler)) == (1, 0)


def test_release_with_nothing_queued_frees_the_slot() -> None:
    scheduler, launches = busy()
    scheduler.release()
    assert (scheduler.running, launches.ids) == (0, [])


def test_latency_calls_go_before_throughput_calls() -> None:
    scheduler, launches = busy()
    scheduler.enqueue("s", 0, "", ready("t1", Perf.THROUGHPUT))
    scheduler.enqueue("s", 0, "", ready("l1", Perf.LATENCY))
    scheduler.enqueue("s", 0, "", ready("t2", Perf.THROUGHPUT))
    scheduler.enqueue("s", 0, "", ready("l2", Perf.LATENCY))
    drain(scheduler)
    assert launches.ids == ["l1", "l2", "t1", "t2"]


def test_latency_of_a_later_app_goes_before_throughput_of_an_earlier_app() -> None:
    scheduler, launches = busy()
    scheduler.enqueue("early", 1, "", ready("early-t", Perf.THROUGHPUT))
    scheduler.enqueue("late", 2, "", ready("late-l", Perf.LATENCY))
    drain(scheduler)
    assert launches.ids == ["late-l", "early-t"]


def test_an_earlier_app_goes_first_even_when_the_later_apps_call_was_enqueued_first() -> None:
    scheduler, launches = busy()
    scheduler.enqueue("late", 2, "", ready("late-1"))
    scheduler.enqueue("late", 2, "", ready("late-2"))
    scheduler.enqueue("early", 1, "", ready("early-1"))
    drain(scheduler)
    assert launches.ids == ["early-1", "late-1", "late-2"]
    assert launches.sessions == ["early", "late", "late"]


def test_an_apps_same_prefix_calls_launch_back_to_back() -> None:
    scheduler, launches = busy()
    for call_id, prefix in [("a1", "prefix A"), ("b1", "prefix B"), ("a2", "prefix A"), ("b2", "prefix B")]:
        scheduler.enqueue("s", 0, prefix, ready(call_id))
    drain(scheduler)
    assert launches.ids in (["a1", "a2", "b1", "b2"], ["b1", "b2", "a1", "a2"])


def test_within_a_prefix_group_calls_keep_submission_order() -> None:
    scheduler, launches = busy()
    for i in range(4):
        scheduler.enqueue("s", 0, "same", ready(f"c{i}"))
    drain(scheduler)
    assert launches.ids == ["c0", "c1", "c2", "c3"]


def test_a_call_that_is_no_longer_ready_is_skipped_without_taking_a_slot() -> None:
    scheduler, launches = busy()
    cancelled = ready("cancelled")
    scheduler.enqueue("s", 0, "", cancelled)
    scheduler.enqueue("s", 0, "", ready("next"))
    cancelled.status = CallStatus.CANCELLED
    scheduler.release()
    assert launches.ids == ["next"]
    assert (cancelled.status, scheduler.running, len(scheduler)) == (CallStatus.CANCELLED, 1, 0)


def test_a_call_whose_objective_was_raised_launches_once_and_ahead() -> None:
    scheduler, launches = busy()
    scheduler.enqueue("s", 0, "", ready("other"))
    raised = ready("raised")
    scheduler.enqueue("s", 0, "", raised)
    raised.perf = Perf.LATENCY  # a latency fetch; Graph.demand hands it back to be re-queued
    scheduler.enqueue("s", 0, "", raised)
    drain(scheduler)  # the last release ends "other" and pops the stale throughput entry
    assert launches.ids == ["raised", "other"]
    assert (scheduler.running, len(scheduler)) == (0, 0)


def test_a_raised_calls_stale_throughput_entry_does_not_launch_it_early() -> None:
    scheduler, launches = busy()
    raised = ready("raised")
    scheduler.enqueue("s", 0, "", raised)
    raised.perf = Perf.LATENCY  # raised, but its latency entry is not queued yet
    scheduler.release()
    assert (launches.ids, raised.status, scheduler.running) == ([], CallStatus.READY, 0)
    scheduler.enqueue("s", 0, "", raised)
    assert launches.ids == ["raised"]
