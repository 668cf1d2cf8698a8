"""The dataflow graph of one session: semantic variables and the calls between them.

A pure data structure, with no I/O and no clock: the executor reads it to
decide what to run and reports back what happened. Every change that a client
submits is validated as a whole before anything is changed, so a rejected
graph leaves no trace.

Edges run variable -> consuming call -> output variable. A variable has at
most one producer; one with neither a producer nor a value is `empty` until
the client sets it. Calls are `idle` until something downstream is fetched
(lazy evaluation), then `waiting` for inputs, `ready` to run, `running`, and
finally `done`, `failed` or `cancelled`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dataflow.template import Template

VARIABLE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

# A root failure's message (an upstream's error text, say) is cut to this many
# characters: every dependent repeats it, so it must stay small.
MAX_CAUSE_CHARS = 1000


class GraphError(ValueError):
    """A submission that cannot be accepted; the message names what is wrong."""


class Conflict(GraphError):
    """A valid request that the variable's state forbids (set twice, set a produced one)."""


class VarStatus(StrEnum):
    EMPTY = "empty"
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = frozenset({VarStatus.READY, VarStatus.FAILED, VarStatus.CANCELLED})


class CallStatus(StrEnum):
    IDLE = "idle"
    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ENDED = frozenset({CallStatus.DONE, CallStatus.FAILED, CallStatus.CANCELLED})


class Perf(StrEnum):
    """The objective a fetch asks for; latency outranks throughput."""

    LATENCY = "latency"
    THROUGHPUT = "throughput"


@dataclass(frozen=True, slots=True)
class Limits:
    max_calls_per_graph: int = 1024
    max_variables: int = 8192
    max_template_chars: int = 200_000
    max_value_chars: int = 1_000_000


@dataclass(slots=True)
class OutputSpec:
    var: str
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None


@dataclass(slots=True, eq=False)
class Call:
    id: str
    model: str
    template: Template
    # placeholder -> variable ids; a list binding (joined with "\n") may name several
    inputs: dict[str, tuple[str, ...]]
    outputs: dict[str, OutputSpec]
    params: dict[str, Any] = field(default_factory=dict)
    graph: str = ""
    status: CallStatus = CallStatus.IDLE
    perf: Perf | None = None
    error: str | None = None

    def input_vars(self) -> Iterator[str]:
        for names in self.inputs.values():
            yield from names


@dataclass(slots=True, eq=False)
class Variable:
    id: str
    producer: str | None = None
    value: str | None = None
    status: VarStatus = VarStatus.EMPTY
    error: str | None = None
    # Why the failure began: the root call's own message, one string shared by every dependent.
    cause: str | None = None
    consumers: list[str] = field(default_factory=list)


class Graph:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.variables: dict[str, Variable] = {}
        self.calls: dict[str, Call] = {}

    # ---- building ----------------------------------------------------------

    def add(self, graph_id: str, variables: Iterable[tuple[str, str | None]], calls: list[Call]) -> list[str]:
        """Add a submitted graph atomically; the ids of the variables it created or
        made final (outputs of new calls whose inputs had already failed)."""
        declared: dict[str, str | None] = {}
        for var_id, value in variables:
            if var_id in declared:
                raise GraphError(f"variable {var_id!r} is declared twice")
            declared[var_id] = value
        new_vars = self._check_variables(declared, calls)
        self._check_calls(declared, calls)
        self._check_acyclic(calls)
        for var_id, value in declared.items():
            self.variables[var_id] = _variable(var_id, value)
        for call in calls:
            call.graph = graph_id
            self.calls[call.id] = call
            for spec in call.outputs.values():
                var = self.variables.setdefault(spec.var, Variable(spec.var))
                var.producer, var.status = call.id, VarStatus.PENDING
            for var_id in dict.fromkeys(call.input_vars()):
                self.variables[var_id].consumers.append(call.id)
        for call in calls:  # an input that already failed fails the new call at once
            dead = next((self.variables[v] for v in call.input_vars() if self.variables[v].status in FINAL
                         and self.variables[v].status is not VarStatus.READY), None)
            if dead is not None:
                status = CallStatus.CANCELLED if dead.status is VarStatus.CANCELLED else CallStatus.FAILED
                ended = self._fail_from([(call, _because(dead))], status)
                new_vars += [var.id for var in ended if var.id not in new_vars]
        return new_vars

    def _check_variables(self, declared: dict[str, str | None], calls: list[Call]) -> list[str]:
        if len(calls) > self.limits.max_calls_per_graph:
            raise GraphError(f"the graph has {len(calls)} calls; the limit is {self.limits.max_calls_per_graph}")
        for var_id, value in declared.items():
            _check_id(var_id, "variable")
            if var_id in self.variables:
                raise GraphError(f"variable {var_id!r} already exists")
            if value is not None and len(value) > self.limits.max_value_chars:
                raise GraphError(f"variable {var_id!r} is longer than {self.limits.max_value_chars} characters")
        outputs = [spec.var for call in calls for spec in call.outputs.values()]
        new_vars = list(dict.fromkeys([*declared, *(v for v in outputs if v not in self.variables)]))
        if len(self.variables) + len(new_vars) > self.limits.max_variables:
            raise GraphError(f"the session would hold more than {self.limits.max_variables} variables")
        return new_vars

    def _check_calls(self, declared: dict[str, str | None], calls: list[Call]) -> None:
        produced: dict[str, str] = {}
        seen: set[str] = set()
        for call in calls:
            _check_id(call.id, "call")
            if call.id in self.calls or call.id in seen:
                raise GraphError(f"call {call.id!r} already exists")
            seen.add(call.id)
            self._check_template(call)
            for spec in call.outputs.values():
                _check_id(spec.var, "variable")
                self._check_output(call, spec.var, declared, produced)
                produced[spec.var] = call.id
        for call in calls:
            for name, var_ids in call.inputs.items():
                if not var_ids:
                    raise GraphError(f"call {call.id!r}: input {name!r} names no variable")
                for var_id in var_ids:
                    if var_id not in self.variables and var_id not in declared and var_id not in produced:
                        raise GraphError(f"call {call.id!r}: input {name!r} names unknown variable {var_id!r}")

    def _check_template(self, call: Call) -> None:
        names = call.template.names
        if call.template.length > self.limits.max_template_chars:
            raise GraphError(f"call {call.id!r}: the template is longer than {self.limits.max_template_chars} chars")
        if not call.outputs:
            raise GraphError(f"call {call.id!r} has no outputs")
        for name in names:
            if name not in call.inputs and name not in call.outputs:
                raise GraphError(f"call {call.id!r}: placeholder {{{{{name}}}}} is bound to no input or output")
        for name in (*call.inputs, *call.outputs):
            if name not in names:
                raise GraphError(f"call {call.id!r}: {name!r} is bound but the template has no {{{{{name}}}}}")
            if name in call.inputs and name in call.outputs:
                raise GraphError(f"call {call.id!r}: {name!r} is bound both as an input and as an output")

    def _check_output(self, call: Call, var_id: str, declared: dict[str, str | None], produced: dict[str, str]) -> None:
        other = produced.get(var_id)
        existing = self.variables.get(var_id)
        if other is None and existing is not None:
            other = existing.producer
        if other is not None:
            raise GraphError(f"variable {var_id!r} is produced by both {other!r} and {call.id!r}")
        has_value = declared.get(var_id) is not None or (existing is not None and existing.value is not None)
        if has_value:
            raise GraphError(f"variable {var_id!r} has a value and cannot also be produced by {call.id!r}")

    def _check_acyclic(self, calls: list[Call]) -> None:
        """Depth-first from the new calls along producer edges. The graph so far
        is acyclic, so any cycle passes through a new call."""
        producer = {spec.var: call for call in calls for spec in call.outputs.values()}
        new = {call.id: call for call in calls}

        def upstream(call: Call) -> Iterator[Call]:
            for var_id in call.input_vars():
                source = producer.get(var_id)
                if source is None:
                    var = self.variables.get(var_id)
                    source = self.calls.get(var.producer) if var is not None and var.producer else None
                if source is not None:
                    yield source

        state: dict[str, int] = {}  # 1: on the current path, 2: finished
        for root in calls:
            if root.id in state:
                continue
            stack: list[tuple[Call, Iterator[Call]]] = [(root, upstream(root))]
            state[root.id] = 1
            while stack:
                call, edges = stack[-1]
                nxt = next(edges, None)
                if nxt is None:
                    state[call.id] = 2
                    stack.pop()
                elif state.get(nxt.id) == 1:
                    raise GraphError(f"the graph has a cycle through call {nxt.id!r}")
                elif nxt.id not in state and (nxt.id in new or nxt.status not in ENDED):
                    state[nxt.id] = 1
                    stack.append((nxt, upstream(nxt)))

    # ---- values --------------------------------------------------------------

    def set_value(self, var_id: str, value: str) -> Variable:
        var = self.variables[var_id]
        if var.producer is not None:
            raise Conflict(f"variable {var_id!r} is produced by call {var.producer!r}; it cannot be set")
        if var.value is not None or var.status in FINAL:
            raise Conflict(f"variable {var_id!r} already has a value")
        if len(value) > self.limits.max_value_chars:
            raise GraphError(f"variable {var_id!r}: the value is longer than {self.limits.max_value_chars} characters")
        var.value, var.status = value, VarStatus.READY
        return var

    def input_values(self, call: Call) -> dict[str, str]:
        return {
            name: "\n".join(self.variables[v].value or "" for v in var_ids) for name, var_ids in call.inputs.items()
        }

    # ---- execution -----------------------------------------------------------

    def demand(self, var_id: str, perf: Perf) -> list[Call]:
        """Mark the variable's producer and everything it depends on as wanted
        with `perf`; the calls to (re)queue: newly ready, or ready with a raised objective."""
        runnable: list[Call] = []
        stack = [var_id]
        seen: set[str] = set()
        while stack:
            var = self.variables[stack.pop()]
            call = self.calls.get(var.producer) if var.producer else None
            if call is None or call.id in seen or call.status in ENDED:
                continue
            seen.add(call.id)
            raised = call.perf is None or (perf is Perf.LATENCY and call.perf is Perf.THROUGHPUT)
            if raised:
                call.perf = perf
            if call.status is CallStatus.IDLE:
                call.status = CallStatus.WAITING
            if call.status is CallStatus.WAITING and self.inputs_ready(call):
                call.status = CallStatus.READY
                runnable.append(call)
            elif call.status is CallStatus.READY and raised:
                runnable.append(call)  # queued already, now with a higher objective
            stack.extend(call.input_vars())
        return runnable

    def inputs_ready(self, call: Call) -> bool:
        return all(self.variables[v].status is VarStatus.READY for v in call.input_vars())

    def start(self, call: Call) -> None:
        call.status = CallStatus.RUNNING
        for spec in call.outputs.values():
            self.variables[spec.var].status = VarStatus.RUNNING

    def output_ready(self, var_id: str, value: str) -> list[Call]:
        """One output of a running call is final; the consumers that may run now."""
        var = self.variables[var_id]
        var.value, var.status = value, VarStatus.READY
        return self._unblocked(var)

    def variable_set(self, var: Variable) -> list[Call]:
        """A client set an input; the waiting consumers that may run now."""
        return self._unblocked(var)

    def _unblocked(self, var: Variable) -> list[Call]:
        ready = []
        for call_id in var.consumers:
            call = self.calls[call_id]
            if call.status is CallStatus.WAITING and self.inputs_ready(call):
                call.status = CallStatus.READY
                ready.append(call)
        return ready

    def finish(self, call: Call) -> None:
        call.status = CallStatus.DONE

    def fail(self, call: Call, error: str, status: CallStatus = CallStatus.FAILED) -> list[Variable]:
        """End the call and, transitively, every call that needs its outputs;
        the variables that became final (failed or cancelled).

        Each dependent's error names its direct cause (the input that failed,
        and the call that produced it) and the root cause (`error`, cut to
        MAX_CAUSE_CHARS), never the chain in between: a 1,024-call chain then
        costs 1,024 short strings, not 1,024 ever longer ones."""
        root = _cut(error)
        return self._fail_from([(call, _Reason(root, root))], status)

    def _fail_from(self, stack: list[tuple[Call, _Reason]], status: CallStatus) -> list[Variable]:
        var_status = VarStatus.CANCELLED if status is CallStatus.CANCELLED else VarStatus.FAILED
        ended: list[Variable] = []
        while stack:
            current, why = stack.pop()
            if current.status in ENDED:
                continue
            current.status, current.error = status, why.text
            for spec in current.outputs.values():
                var = self.variables[spec.var]
                if var.status in FINAL:
                    continue  # an earlier output of the same call already finished
                var.status, var.error, var.cause = var_status, why.text, why.root
                ended.append(var)
                if var.consumers:
                    reason = _because(var)
                    stack.extend((self.calls[c], reason) for c in var.consumers)
        return ended

    def calls_of(self, graph_id: str) -> list[Call]:
        return [call for call in self.calls.values() if call.graph == graph_id]


@dataclass(frozen=True, slots=True)
class _Reason:
    text: str  # the error recorded on the call and its outputs
    root: str  # the root call's message, shared


def _because(var: Variable) -> _Reason:
    """Why a consumer of the final, unsuccessful `var` ends: it, its producer, and the root cause."""
    root = var.cause or var.error or "unknown"
    return _Reason(f"input {var.id!r} {var.status} (output of call {var.producer!r}); root cause: {root}", root)


def _cut(text: str) -> str:
    if len(text) <= MAX_CAUSE_CHARS:
        return text
    return f"{text[:MAX_CAUSE_CHARS]}... ({len(text) - MAX_CAUSE_CHARS} more characters)"


def _variable(var_id: str, value: str | None) -> Variable:
    if value is None:
        return Variable(var_id)
    return Variable(var_id, value=value, status=VarStatus.READY)


def _check_id(value: object, what: str) -> None:
    if not isinstance(value, str) or not VARIABLE_ID.fullmatch(value):
        raise GraphError(f"{what} id {value!r} must be 1-128 characters of A-Z a-z 0-9 _ . : -")
