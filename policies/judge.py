"""Running one guard on one text: bounded in size and time, failures contained.

A guard must never hang a request or turn its own failure into a crash: each
check runs under the guard's timeout, and a failure — an exception, a timeout,
an unparseable answer — comes back as a `GuardFailure` for the policy to apply
its fail-open / fail-closed rule to. Failures are logged (without the text)
and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from policies.config import GuardSpec
from policies.guards import Guard, GuardError, Role, Verdict

log = logging.getLogger("semgate.policies")


class GuardMetrics(Protocol):
    def guard_judged(self, guard: str, seconds: float) -> None: ...

    def guard_error(self, guard: str, kind: str) -> None: ...


@dataclass(frozen=True, slots=True)
class GuardFailure:
    kind: str  # timeout | error
    message: str


def clip(text: str, limit: int) -> str:
    """Head and tail of a long text: instructions hide at either end."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n…\n" + text[-(limit - half) :]


class Judge:
    """One configured guard, ready to run."""

    __slots__ = ("name", "guard", "spec", "metrics")

    def __init__(self, name: str, guard: Guard, spec: GuardSpec, metrics: GuardMetrics | None) -> None:
        self.name = name
        self.guard = guard
        self.spec = spec
        self.metrics = metrics

    async def __call__(self, text: str, role: Role = "user", prompt: str | None = None) -> Verdict | GuardFailure:
        started = time.perf_counter()
        clipped = clip(text, self.spec.max_chars)
        context = clip(prompt, self.spec.max_chars) if prompt is not None else None
        # An in-process guard computes without awaiting: nothing to time out, so no timer.
        limit = contextlib.nullcontext() if self.guard.in_process else asyncio.timeout(self.spec.timeout_s)
        try:
            async with limit:
                verdict = await self.guard.check(clipped, role=role, prompt=context)
        except TimeoutError:
            return self._failed("timeout", f"no verdict within {self.spec.timeout_s:g} s")
        except GuardError as exc:
            return self._failed("error", str(exc))
        except Exception as exc:  # a guard bug must not take the request down with it
            log.exception("guard %s raised", self.name)
            return self._failed("error", f"{type(exc).__name__}")
        if self.metrics is not None:
            self.metrics.guard_judged(self.name, time.perf_counter() - started)
        return verdict

    def _failed(self, kind: str, message: str) -> GuardFailure:
        log.warning("guard %s could not judge: %s", self.name, message)
        if self.metrics is not None:
            self.metrics.guard_error(self.name, kind)
        return GuardFailure(kind, message)
