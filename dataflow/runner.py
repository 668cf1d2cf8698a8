"""Running one call: a chat completion per output, in template order.

The prompt for an output is the template up to it, with inputs and earlier
outputs filled in (Parrot's semantic-function semantics). Each completion is
sent through a `Completer`, which in the gateway is the very handler behind
`POST /v1/chat/completions`, so routing, balancing, retries, policies, limits
and metrics apply to dataflow calls exactly as to any client request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from dataflow.graph import Call, Perf
from dataflow.template import PromptTooLong
from gateway.headers import Headers

# Request fields the runner owns; a call's `params` may not override them.
RESERVED_PARAMS = frozenset({"model", "messages", "stream", "stream_options", "n", "max_tokens", "prompt"})

OnDelta = Callable[[str], Awaitable[None]]

# The longest one wait for a rate limit to admit a call (the retry-after header
# rounds up to whole seconds; the next attempt may well be refused again).
RATE_LIMIT_WAIT_S = 5.0


class CallError(Exception):
    """A completion failed; the message is for the client (it names the cause, not internals)."""

    def __init__(self, message: str, status: int = 502, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # Set when the tenant's rate limit refused the call: it may be retried then.
        self.retry_after_s = retry_after_s


class Completer(Protocol):
    async def __call__(self, body: dict[str, Any], headers: Headers, on_delta: OnDelta, tenant: str) -> str:
        """Run one streamed chat completion for `tenant`; its text. Raises CallError."""
        ...


def completion_request(call: Call, output: str, prompt: str) -> dict[str, Any]:
    spec = call.outputs[output]
    body: dict[str, Any] = {
        **call.params,
        "model": call.model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
    }
    for name in ("max_tokens", "temperature", "top_p", "stop"):
        value = getattr(spec, name)
        if value is not None:
            body[name] = value
    return body


def output_order(call: Call) -> list[str]:
    """Outputs in the order their placeholders first appear."""
    return [name for name in call.template.names if name in call.outputs]


class OutputSink(Protocol):
    async def delta(self, var_id: str, text: str) -> None: ...

    async def ready(self, var_id: str, value: str) -> None: ...


async def run_call(
    call: Call, values: dict[str, str], completer: Completer, sink: OutputSink, *, tenant: str, request_id: str,
    max_prompt_chars: int | None = None,
) -> None:
    """Generate the call's outputs one after another, reporting each to `sink`."""
    perf = (call.perf or Perf.THROUGHPUT).value.encode()
    for index, output in enumerate(output_order(call)):
        var_id = call.outputs[output].var
        try:
            prompt = call.template.render_until(output, values, max_prompt_chars)
        except PromptTooLong as exc:
            raise CallError(str(exc), 400) from None
        body = completion_request(call, output, prompt)
        headers: Headers = [(b"x-semgate-perf", perf), (b"x-request-id", f"{request_id}-{index}".encode())]

        async def on_delta(text: str, var_id: str = var_id) -> None:
            await sink.delta(var_id, text)

        value = await _complete(completer, body, headers, on_delta, tenant)
        values[output] = value
        await sink.ready(var_id, value)


async def _complete(completer: Completer, body: dict[str, Any], headers: Headers, on_delta: OnDelta,
                    tenant: str) -> str:
    """One completion; a call refused by its tenant's rate limit waits and tries again.

    A workflow may fan out faster than its tenant's RPM allows; its calls then
    queue here instead of failing (the executor's call timeout still bounds
    them). A spent budget is not retried: it will not come back in time.
    """
    while True:
        try:
            return await completer(body, headers, on_delta, tenant)
        except CallError as exc:
            if exc.retry_after_s is None:
                raise
            await asyncio.sleep(min(exc.retry_after_s, RATE_LIMIT_WAIT_S))
