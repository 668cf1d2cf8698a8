"""The session graph as a data structure: atomic, validated submissions;
lazy demand with latency/throughput objectives; consumers unblocked by values;
failures and cancellations propagated to dependents. No I/O, no clock."""

from __future__ import annotations

import pytest

from dataflow.graph import MAX_CAUSE_CHARS, CallStatus, Conflict, Graph, GraphError, Limits, OutputSpec, Perf, VarStatus
from dataflow.graph import Call as GraphCall
from dataflow.template import Template


def call(
    call_id: str,
    template: str,
    inputs: dict[str, str | list[str]] | None = None,
    outputs: dict[str, str] | None = None,
) -> GraphCall:
    """A call; an input bound to a list of ids is a list binding."""
    bound = {name: (ids,) if isinstance(ids, str) else tuple(ids) for name, ids in (inputs or {}).items()}
    specs = {name: OutputSpec(var) for name, var in (outputs or {}).items()}
    return GraphCall(call_id, "m", Template.parse(template), bound, specs)


def chain(lazy_input: bool = False) -> Graph:
    """x -> A -> y -> B -> z; x has a value unless lazy_input (then it is empty)."""
    graph = Graph()
    graph.add(
        "g1",
        [("x", None if lazy_input else "hello")],
        [
            call("A", "{{x}} -> {{y}}", {"x": "x"}, {"y": "y"}),
            call("B", "{{y}} -> {{z}}", {"y": "y"}, {"z": "z"}),
        ],
    )
    return graph


def snapshot(graph: Graph) -> tuple:
    return (
        {v.id: (v.status, v.value, v.producer, list(v.consumers)) for v in graph.variables.values()},
        {c.id: (c.status, c.graph) for c in graph.calls.values()},
    )


def status(graph: Graph, *call_ids: str) -> list[CallStatus]:
    return [graph.calls[c].status for c in call_ids]


# ---- building ------------------------------------------------------------------


def test_add_creates_variables_calls_and_edges() -> None:
    graph = chain()
    x, y, z = (graph.variables[v] for v in "xyz")
    assert (x.status, x.value, x.producer, x.consumers) == (VarStatus.READY, "hello", None, ["A"])
    assert (y.status, y.producer, y.consumers) == (VarStatus.PENDING, "A", ["B"])
    assert (z.status, z.producer, z.consumers) == (VarStatus.PENDING, "B", [])
    assert status(graph, "A", "B") == [CallStatus.IDLE, CallStatus.IDLE]
    assert graph.calls_of("g1") == [graph.calls["A"], graph.calls["B"]]


def test_add_returns_the_ids_of_the_variables_it_created() -> None:
    graph = Graph()
    assert graph.add("g1", [("q", "hi")], [call("A", "{{q}}{{a}}", {"q": "q"}, {"a": "ans"})]) == ["q", "ans"]
    assert graph.add("g2", [], [call("B", "{{a}}{{b}}", {"a": "ans"}, {"b": "ans2"})]) == ["ans2"]


def test_a_declared_empty_variable_may_be_produced_by_a_call_of_the_same_graph() -> None:
    graph = Graph()
    assert graph.add("g1", [("y", None)], [call("A", "{{y}}", outputs={"y": "y"})]) == ["y"]
    assert graph.variables["y"].producer == "A"


def test_an_existing_empty_variable_may_be_produced_by_a_later_graph() -> None:
    graph = Graph()
    graph.add("g1", [("y", None)], [])
    graph.add("g2", [], [call("A", "{{y}}", outputs={"y": "y"})])
    assert (graph.variables["y"].producer, graph.variables["y"].status) == ("A", VarStatus.PENDING)


def test_a_list_input_makes_the_call_a_consumer_of_each_variable_once() -> None:
    graph = Graph()
    graph.add("g1", [("a", "1"), ("b", "2")], [call("M", "{{xs}}{{m}}", {"xs": ["a", "b", "a"]}, {"m": "m"})])
    assert graph.variables["a"].consumers == ["M"]
    assert graph.variables["b"].consumers == ["M"]
    assert graph.input_values(graph.calls["M"]) == {"xs": "1\n2\n1"}


def test_a_rejected_graph_leaves_variables_and_calls_unchanged() -> None:
    graph = chain()
    before = snapshot(graph)
    good = call("C", "{{z}} {{w}}", {"z": "z"}, {"w": "w"})
    bad = call("D", "{{nope}} {{v}}", {"nope": "missing"}, {"v": "v"})
    with pytest.raises(GraphError):
        graph.add("g2", [("fresh", "1")], [good, bad])
    assert snapshot(graph) == before
    assert "fresh" not in graph.variables and "C" not in graph.calls
    assert good.graph == ""


def test_a_rejected_cycle_leaves_variables_and_calls_unchanged() -> None:
    graph = chain(lazy_input=True)
    before = snapshot(graph)
    with pytest.raises(GraphError, match="cycle"):
        graph.add("g2", [], [call("C", "{{z}} {{x}}", {"z": "z"}, {"x": "x"})])
    assert snapshot(graph) == before


# ---- validation ------------------------------------------------------------------


def test_an_input_naming_an_unknown_variable_is_rejected() -> None:
    with pytest.raises(GraphError, match=r"call 'A': input 'q' names unknown variable 'ghost'"):
        Graph().add("g", [], [call("A", "{{q}}{{a}}", {"q": "ghost"}, {"a": "a"})])


def test_an_unknown_variable_in_a_list_input_is_rejected() -> None:
    with pytest.raises(GraphError, match="unknown variable 'ghost'"):
        Graph().add("g", [("a", "1")], [call("A", "{{q}}{{o}}", {"q": ["a", "ghost"]}, {"o": "o"})])


def test_an_input_bound_to_an_empty_list_is_rejected() -> None:
    with pytest.raises(GraphError, match="names no variable"):
        Graph().add("g", [], [call("A", "{{q}}{{o}}", {"q": []}, {"o": "o"})])


def test_a_placeholder_without_a_binding_is_rejected() -> None:
    with pytest.raises(GraphError, match=r"call 'A': placeholder \{\{extra\}\} is bound to no input or output"):
        Graph().add("g", [], [call("A", "{{extra}} {{a}}", outputs={"a": "a"})])


def test_a_binding_without_a_placeholder_is_rejected() -> None:
    with pytest.raises(GraphError, match=r"call 'A': 'q' is bound but the template has no \{\{q\}\}"):
        Graph().add("g", [("v", "1")], [call("A", "{{a}}", {"q": "v"}, {"a": "a"})])


def test_an_output_binding_without_a_placeholder_is_rejected() -> None:
    with pytest.raises(GraphError, match="'b' is bound but the template has no"):
        Graph().add("g", [], [call("A", "{{a}}", outputs={"a": "a", "b": "b"})])


def test_a_name_bound_as_both_input_and_output_is_rejected() -> None:
    with pytest.raises(GraphError, match="'q' is bound both as an input and as an output"):
        Graph().add("g", [("v", "1")], [call("A", "{{q}}", {"q": "v"}, {"q": "w"})])


def test_a_call_without_outputs_is_rejected() -> None:
    with pytest.raises(GraphError, match="call 'A' has no outputs"):
        Graph().add("g", [("v", "1")], [call("A", "{{q}}", {"q": "v"})])


def test_a_duplicate_call_id_within_a_graph_is_rejected() -> None:
    with pytest.raises(GraphError, match="call 'A' already exists"):
        Graph().add("g", [], [call("A", "{{a}}", outputs={"a": "a1"}), call("A", "{{a}}", outputs={"a": "a2"})])


def test_a_call_id_already_in_the_session_is_rejected() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="call 'A' already exists"):
        graph.add("g2", [], [call("A", "{{a}}", outputs={"a": "new"})])


def test_a_variable_already_in_the_session_is_rejected() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="variable 'x' already exists"):
        graph.add("g2", [("x", "again")], [])


def test_a_variable_declared_twice_in_one_graph_is_rejected() -> None:
    graph = Graph()
    with pytest.raises(GraphError, match="'x'"):
        graph.add("g", [("x", "first"), ("x", "second")], [])


def test_a_variable_produced_by_two_calls_of_one_graph_is_rejected() -> None:
    calls = [call("A", "{{a}}", outputs={"a": "v"}), call("B", "{{b}}", outputs={"b": "v"})]
    with pytest.raises(GraphError, match="variable 'v' is produced by both 'A' and 'B'"):
        Graph().add("g", [], calls)


def test_a_variable_produced_twice_by_one_call_is_rejected() -> None:
    with pytest.raises(GraphError, match="variable 'v' is produced by both 'A' and 'A'"):
        Graph().add("g", [], [call("A", "{{a}}{{b}}", outputs={"a": "v", "b": "v"})])


def test_a_variable_produced_by_an_earlier_graph_cannot_be_produced_again() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="variable 'y' is produced by both 'A' and 'C'"):
        graph.add("g2", [], [call("C", "{{a}}", outputs={"a": "y"})])


def test_a_declared_variable_with_a_value_cannot_be_produced() -> None:
    with pytest.raises(GraphError, match="variable 'v' has a value and cannot also be produced by 'A'"):
        Graph().add("g", [("v", "given")], [call("A", "{{a}}", outputs={"a": "v"})])


def test_an_existing_variable_with_a_value_cannot_be_produced() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="variable 'x' has a value and cannot also be produced by 'C'"):
        graph.add("g2", [], [call("C", "{{a}}", outputs={"a": "x"})])


def test_a_variable_set_by_the_client_cannot_be_produced_later() -> None:
    graph = Graph()
    graph.add("g1", [("v", None)], [])
    graph.set_value("v", "set")
    with pytest.raises(GraphError, match="has a value"):
        graph.add("g2", [], [call("A", "{{a}}", outputs={"a": "v"})])


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "slash/no", "é"])
def test_a_bad_variable_id_is_rejected(bad: str) -> None:
    with pytest.raises(GraphError, match="variable id"):
        Graph().add("g", [(bad, "1")], [])


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129])
def test_a_bad_output_variable_id_is_rejected(bad: str) -> None:
    with pytest.raises(GraphError, match="variable id"):
        Graph().add("g", [], [call("A", "{{a}}", outputs={"a": bad})])


@pytest.mark.parametrize("bad", ["", "a b", "x" * 129, None])
def test_a_bad_call_id_is_rejected(bad: str) -> None:
    c = call("placeholder", "{{a}}", outputs={"a": "a"})
    c.id = bad  # type: ignore[assignment]
    with pytest.raises(GraphError, match="call id"):
        Graph().add("g", [], [c])


def test_the_longest_ids_and_every_allowed_character_are_accepted() -> None:
    graph = Graph()
    graph.add("g", [("x" * 128, "1"), ("Az09_.:-", "2")], [call("c" * 128, "{{a}}", outputs={"a": "o"})])
    assert {"x" * 128, "Az09_.:-"} <= set(graph.variables) and "c" * 128 in graph.calls


# ---- limits ----------------------------------------------------------------------


def test_a_graph_with_more_calls_than_the_limit_is_rejected() -> None:
    graph = Graph(Limits(max_calls_per_graph=2))
    three = [call(f"C{i}", "{{a}}", outputs={"a": f"o{i}"}) for i in range(3)]
    with pytest.raises(GraphError, match="3 calls; the limit is 2"):
        graph.add("g", [], three)
    graph.add("g", [], three[:2])
    assert len(graph.calls) == 2


def test_the_session_variable_limit_counts_declared_and_produced_variables() -> None:
    graph = Graph(Limits(max_variables=3))
    graph.add("g1", [("a", "1"), ("b", "2")], [])
    with pytest.raises(GraphError, match="more than 3 variables"):
        graph.add("g2", [("c", None)], [call("A", "{{x}}", outputs={"x": "d"})])
    graph.add("g2", [], [call("A", "{{x}}", outputs={"x": "d"})])
    assert set(graph.variables) == {"a", "b", "d"}


def test_producing_an_existing_empty_variable_does_not_count_against_the_limit() -> None:
    graph = Graph(Limits(max_variables=1))
    graph.add("g1", [("a", None)], [])
    graph.add("g2", [], [call("A", "{{x}}", outputs={"x": "a"})])
    assert graph.variables["a"].producer == "A"


def test_a_template_longer_than_the_limit_is_rejected() -> None:
    graph = Graph(Limits(max_template_chars=10))
    with pytest.raises(GraphError, match="call 'A': the template is longer than 10"):
        graph.add("g", [], [call("A", "123456{{a}}", outputs={"a": "a"})])
    graph.add("g", [], [call("A", "12345{{a}}", outputs={"a": "a"})])  # exactly at the limit, placeholder included


def test_placeholders_count_toward_the_template_limit() -> None:
    graph = Graph(Limits(max_template_chars=10))
    with pytest.raises(GraphError, match="longer than 10"):
        graph.add("g", [("v", "x")], [call("A", "{{v}}" * 4 + "{{a}}", {"v": "v"}, {"a": "a"})])


def test_a_declared_value_longer_than_the_limit_is_rejected() -> None:
    graph = Graph(Limits(max_value_chars=3))
    with pytest.raises(GraphError, match="variable 'v' is longer than 3"):
        graph.add("g", [("v", "abcd")], [])
    graph.add("g", [("v", "abc")], [])


def test_a_set_value_longer_than_the_limit_is_rejected_and_leaves_the_variable_empty() -> None:
    graph = Graph(Limits(max_value_chars=3))
    graph.add("g", [("v", None)], [])
    with pytest.raises(GraphError, match="longer than 3"):
        graph.set_value("v", "abcd")
    assert (graph.variables["v"].status, graph.variables["v"].value) == (VarStatus.EMPTY, None)


# ---- cycles ----------------------------------------------------------------------


def test_a_call_consuming_its_own_output_is_a_cycle() -> None:
    with pytest.raises(GraphError, match="cycle through call 'A'"):
        Graph().add("g", [], [call("A", "{{o}}{{i}}", {"i": "o"}, {"o": "o"})])


def test_two_calls_consuming_each_other_are_a_cycle() -> None:
    calls = [call("A", "{{i}}{{o}}", {"i": "q"}, {"o": "p"}), call("B", "{{i}}{{o}}", {"i": "p"}, {"o": "q"})]
    with pytest.raises(GraphError, match="cycle"):
        Graph().add("g", [], calls)


def test_a_later_graph_producing_an_upstream_empty_variable_closes_a_cycle() -> None:
    graph = chain(lazy_input=True)  # x is empty: A waits for it
    with pytest.raises(GraphError, match="cycle"):
        graph.add("g2", [], [call("C", "{{z}} {{o}}", {"z": "z"}, {"o": "x"})])


def test_a_later_graph_producing_an_unrelated_empty_variable_is_not_a_cycle() -> None:
    graph = chain(lazy_input=True)
    graph.add("g2", [("w", "1")], [call("C", "{{w}} {{o}}", {"w": "w"}, {"o": "x"})])
    assert graph.variables["x"].producer == "C"


def test_a_diamond_is_not_a_cycle() -> None:
    graph = Graph()
    graph.add(
        "g",
        [("x", "1")],
        [
            call("L", "{{i}}{{o}}", {"i": "x"}, {"o": "l"}),
            call("R", "{{i}}{{o}}", {"i": "x"}, {"o": "r"}),
            call("J", "{{a}}{{b}}{{o}}", {"a": "l", "b": "r"}, {"o": "j"}),
        ],
    )
    assert set(graph.calls) == {"L", "R", "J"}


# ---- laziness and objectives -------------------------------------------------------


def test_nothing_runs_until_something_is_demanded() -> None:
    graph = chain()
    assert status(graph, "A", "B") == [CallStatus.IDLE, CallStatus.IDLE]


def test_demand_returns_only_calls_whose_inputs_are_ready_and_marks_the_rest_waiting() -> None:
    graph = chain()
    assert graph.demand("z", Perf.LATENCY) == [graph.calls["A"]]
    assert status(graph, "A", "B") == [CallStatus.READY, CallStatus.WAITING]


def test_demand_marks_upstream_waiting_on_an_empty_input() -> None:
    graph = chain(lazy_input=True)
    assert graph.demand("z", Perf.LATENCY) == []
    assert status(graph, "A", "B") == [CallStatus.WAITING, CallStatus.WAITING]


def test_demand_leaves_calls_that_are_not_upstream_idle() -> None:
    graph = chain()
    graph.demand("y", Perf.LATENCY)
    assert status(graph, "A", "B") == [CallStatus.READY, CallStatus.IDLE]


def test_demanding_a_variable_without_a_producer_returns_nothing() -> None:
    graph = chain()
    assert graph.demand("x", Perf.LATENCY) == []


def test_demand_returns_a_call_once_for_the_same_objective() -> None:
    graph = chain()
    assert graph.demand("z", Perf.THROUGHPUT) == [graph.calls["A"]]
    assert graph.demand("z", Perf.THROUGHPUT) == []
    assert graph.demand("y", Perf.THROUGHPUT) == []


def test_raising_the_objective_to_latency_returns_a_ready_call_again() -> None:
    graph = chain()
    graph.demand("z", Perf.THROUGHPUT)
    assert graph.demand("z", Perf.LATENCY) == [graph.calls["A"]]
    assert graph.calls["A"].perf is Perf.LATENCY
    assert graph.demand("z", Perf.LATENCY) == []


def test_latency_wins_over_a_later_throughput_demand() -> None:
    graph = chain()
    graph.demand("z", Perf.LATENCY)
    assert graph.demand("z", Perf.THROUGHPUT) == []
    assert [graph.calls[c].perf for c in "AB"] == [Perf.LATENCY, Perf.LATENCY]


def test_a_latency_demand_reaches_transitive_producers() -> None:
    graph = chain()
    graph.demand("y", Perf.THROUGHPUT)
    graph.demand("z", Perf.LATENCY)
    assert [graph.calls[c].perf for c in "AB"] == [Perf.LATENCY, Perf.LATENCY]


def test_a_throughput_demand_does_not_lower_a_running_calls_objective() -> None:
    graph = chain()
    (a,) = graph.demand("y", Perf.LATENCY)
    graph.start(a)
    graph.demand("z", Perf.THROUGHPUT)
    assert (a.perf, graph.calls["B"].perf) == (Perf.LATENCY, Perf.THROUGHPUT)


def test_demand_skips_ended_calls() -> None:
    graph = chain()
    (a,) = graph.demand("y", Perf.THROUGHPUT)
    graph.start(a)
    graph.output_ready("y", "why")
    graph.finish(a)
    assert graph.demand("z", Perf.LATENCY) == [graph.calls["B"]]
    assert a.perf is Perf.THROUGHPUT


# ---- values unblocking consumers ---------------------------------------------------


def test_start_marks_the_call_and_its_outputs_running() -> None:
    graph = chain()
    (a,) = graph.demand("z", Perf.LATENCY)
    graph.start(a)
    assert (a.status, graph.variables["y"].status) == (CallStatus.RUNNING, VarStatus.RUNNING)


def test_an_output_becoming_ready_unblocks_its_waiting_consumer() -> None:
    graph = chain()
    (a,) = graph.demand("z", Perf.LATENCY)
    graph.start(a)
    assert graph.output_ready("y", "value") == [graph.calls["B"]]
    assert (graph.variables["y"].status, graph.variables["y"].value) == (VarStatus.READY, "value")
    assert graph.calls["B"].status is CallStatus.READY


def test_an_output_becoming_ready_does_not_start_an_undemanded_consumer() -> None:
    graph = chain()
    (a,) = graph.demand("y", Perf.LATENCY)
    graph.start(a)
    assert graph.output_ready("y", "value") == []
    assert graph.calls["B"].status is CallStatus.IDLE


def test_setting_an_empty_input_unblocks_its_waiting_consumer() -> None:
    graph = chain(lazy_input=True)
    graph.demand("z", Perf.LATENCY)
    var = graph.set_value("x", "late")
    assert graph.variable_set(var) == [graph.calls["A"]]
    assert (var.status, var.value) == (VarStatus.READY, "late")


def test_a_list_input_waits_for_all_of_its_variables() -> None:
    graph = Graph()
    graph.add("g", [("a", None), ("b", None)], [call("M", "{{xs}} {{m}}", {"xs": ["a", "b"]}, {"m": "m"})])
    assert graph.demand("m", Perf.LATENCY) == []
    assert graph.variable_set(graph.set_value("a", "1")) == []
    assert graph.calls["M"].status is CallStatus.WAITING
    assert graph.variable_set(graph.set_value("b", "2")) == [graph.calls["M"]]
    assert graph.input_values(graph.calls["M"]) == {"xs": "1\n2"}


def test_a_call_with_several_inputs_waits_for_all_of_them() -> None:
    graph = Graph()
    graph.add("g", [("a", None), ("b", None)], [call("M", "{{p}} {{q}} {{m}}", {"p": "a", "q": "b"}, {"m": "m"})])
    graph.demand("m", Perf.LATENCY)
    assert graph.variable_set(graph.set_value("b", "2")) == []
    assert graph.variable_set(graph.set_value("a", "1")) == [graph.calls["M"]]


def test_a_variable_cannot_be_set_twice() -> None:
    graph = Graph()
    graph.add("g", [("v", None)], [])
    graph.set_value("v", "one")
    with pytest.raises(Conflict, match="already has a value"):
        graph.set_value("v", "two")
    assert graph.variables["v"].value == "one"


def test_a_variable_declared_with_a_value_cannot_be_set() -> None:
    graph = chain()
    with pytest.raises(Conflict, match="already has a value"):
        graph.set_value("x", "two")


def test_a_produced_variable_cannot_be_set() -> None:
    graph = chain()
    with pytest.raises(Conflict, match="produced by call 'A'"):
        graph.set_value("y", "forged")
    assert graph.variables["y"].status is VarStatus.PENDING


# ---- failure and cancellation --------------------------------------------------------


def test_a_failed_call_fails_its_outputs_with_its_error() -> None:
    graph = chain()
    (a,) = graph.demand("z", Perf.LATENCY)
    graph.start(a)
    ended = graph.fail(a, "call 'A' failed: boom")
    assert (a.status, a.error) == (CallStatus.FAILED, "call 'A' failed: boom")
    assert graph.variables["y"] in ended
    assert (graph.variables["y"].status, graph.variables["y"].error) == (VarStatus.FAILED, "call 'A' failed: boom")


def test_a_failed_call_fails_its_dependents_transitively() -> None:
    graph = chain()
    graph.add("g2", [], [call("C", "{{z}} {{w}}", {"z": "z"}, {"w": "w"})])
    (a,) = graph.demand("w", Perf.LATENCY)
    ended = graph.fail(a, "boom")
    assert {v.id for v in ended} == {"y", "z", "w"}
    assert status(graph, "A", "B", "C") == [CallStatus.FAILED] * 3
    assert {graph.variables[v].status for v in "yzw"} == {VarStatus.FAILED}


def test_a_dependents_error_names_the_failed_input_and_the_cause() -> None:
    graph = chain()
    graph.add("g2", [], [call("C", "{{z}} {{w}}", {"z": "z"}, {"w": "w"})])
    graph.fail(graph.calls["A"], "call 'A' failed: boom")
    assert graph.calls["B"].error == "input 'y' failed (output of call 'A'); root cause: call 'A' failed: boom"
    assert graph.variables["z"].error == "input 'y' failed (output of call 'A'); root cause: call 'A' failed: boom"
    # the direct cause and the root, not the chain in between
    assert graph.calls["C"].error == "input 'z' failed (output of call 'B'); root cause: call 'A' failed: boom"


def test_errors_along_a_long_chain_stay_short() -> None:
    graph = Graph()
    ids = ["v" * 120 + f"{i:04d}" for i in range(1024)]
    calls = [call(f"c{i}", "{{i}} {{o}}", {"i": ids[i - 1]}, {"o": ids[i]}) for i in range(1, 1024)]
    graph.add("g", [], [call("c0", "{{o}}", {}, {"o": ids[0]}), *calls])
    ended = graph.fail(graph.calls["c0"], "call 'c0' failed: " + "upstream said no. " * 1000)
    assert len(ended) == 1024
    last = graph.variables[ids[-1]].error
    assert last is not None and last.startswith(f"input {ids[-2]!r} failed (output of call 'c1022'); root cause: ")
    assert "call 'c0' failed: upstream said no." in last and "more characters)" in last
    assert max(len(v.error or "") for v in ended) < MAX_CAUSE_CHARS + 400


def test_a_short_root_cause_is_kept_whole() -> None:
    graph = chain()
    graph.fail(graph.calls["A"], "x" * MAX_CAUSE_CHARS)
    assert graph.variables["y"].error == "x" * MAX_CAUSE_CHARS


def test_failure_reaches_dependents_that_were_never_demanded() -> None:
    graph = chain()
    graph.demand("y", Perf.LATENCY)
    graph.fail(graph.calls["A"], "boom")
    assert graph.calls["B"].status is CallStatus.FAILED


def test_failure_does_not_touch_independent_calls() -> None:
    graph = chain()
    graph.add("g2", [("u", "1")], [call("C", "{{u}} {{w}}", {"u": "u"}, {"w": "w"})])
    graph.fail(graph.calls["A"], "boom")
    assert graph.calls["C"].status is CallStatus.IDLE
    assert graph.variables["w"].status is VarStatus.PENDING


def test_cancelling_marks_the_call_its_dependents_and_their_outputs_cancelled() -> None:
    graph = chain()
    ended = graph.fail(graph.calls["A"], "graph 'g1' was cancelled", CallStatus.CANCELLED)
    assert status(graph, "A", "B") == [CallStatus.CANCELLED, CallStatus.CANCELLED]
    assert [v.status for v in ended] == [VarStatus.CANCELLED, VarStatus.CANCELLED]
    assert graph.calls["B"].error == "input 'y' cancelled (output of call 'A'); root cause: graph 'g1' was cancelled"


def test_failing_an_ended_call_changes_nothing() -> None:
    graph = chain()
    (a,) = graph.demand("y", Perf.LATENCY)
    graph.start(a)
    graph.output_ready("y", "v")
    graph.finish(a)
    assert graph.fail(a, "late") == []
    assert (a.status, a.error, graph.variables["y"].status) == (CallStatus.DONE, None, VarStatus.READY)


def test_a_dependent_that_already_failed_keeps_its_first_error() -> None:
    graph = Graph()
    graph.add(
        "g",
        [("x", "1")],
        [
            call("A", "{{i}}{{o}}", {"i": "x"}, {"o": "a"}),
            call("B", "{{i}}{{o}}", {"i": "x"}, {"o": "b"}),
            call("J", "{{p}}{{q}}{{o}}", {"p": "a", "q": "b"}, {"o": "j"}),
        ],
    )
    graph.fail(graph.calls["A"], "first")
    assert graph.fail(graph.calls["B"], "second") == [graph.variables["b"]]
    assert graph.calls["J"].error == "input 'a' failed (output of call 'A'); root cause: first"


def test_when_a_second_output_fails_consumers_of_the_first_are_unaffected() -> None:
    graph = Graph()
    graph.add(
        "g",
        [("q", "2+2")],
        [
            call("T", "{{q}} {{ans}} {{why}}", {"q": "q"}, {"ans": "ans", "why": "why"}),
            call("U", "{{a}} {{o}}", {"a": "ans"}, {"o": "u"}),
            call("V", "{{w}} {{o}}", {"w": "why"}, {"o": "v"}),
        ],
    )
    graph.demand("u", Perf.LATENCY)
    graph.demand("v", Perf.LATENCY)
    t = graph.calls["T"]
    graph.start(t)
    assert graph.output_ready("ans", "4") == [graph.calls["U"]]
    ended = graph.fail(t, "boom")
    assert ended == [graph.variables["why"], graph.variables["v"]]
    assert (graph.variables["ans"].status, graph.variables["ans"].value) == (VarStatus.READY, "4")
    assert status(graph, "T", "U", "V") == [CallStatus.FAILED, CallStatus.READY, CallStatus.FAILED]


def test_a_call_added_after_its_input_failed_fails_too() -> None:
    graph = chain()
    graph.fail(graph.calls["A"], "boom")
    try:
        graph.add("g2", [], [call("C", "{{y}} {{w}}", {"y": "y"}, {"w": "w"})])
    except GraphError:
        return  # rejecting the submission would be a fix too
    graph.demand("w", Perf.LATENCY)
    assert graph.calls["C"].status is CallStatus.FAILED
    assert graph.variables["w"].status is VarStatus.FAILED
