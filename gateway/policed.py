"""Requests under a policy profile: input policies, routing, output policies, uncertainty.

The plain proxy path is untouched when no profile applies. Under a profile:
1. PII policies redact the request; non-speculative guards judge it (block,
   reroute, annotate); speculative guards run *while* the upstream call
   starts, and `Exchange.before_reply` holds the first byte until they allow.
2. The request is routed as usual (or to the reroute target).
3. Output policies check the answer: whole answers before they are sent,
   streams window by window (`StreamPolicies`); a block ends a stream with
   `finish_reason: "content_filter"`.
4. With an uncertainty policy the answer is fetched whole (with logprobs or
   several samples), its confidence estimated, and annotated, hedged,
   escalated or withheld (policies/confidence.py).
Every decision goes into `x-semgate-policy` and the policy metrics.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson

from gateway import cascade
from gateway.dispatch import UpstreamRejected
from gateway.exchange import Exchange
from policies import confidence, refusal
from policies.decisions import BLOCK, Blocked, Decision, Report
from policies.inbound import InputOutcome, apply_guard, apply_pii, user_text
from policies.outbound import OutputPolicies
from policies.runtime import Policies, Profile

if TYPE_CHECKING:
    from gateway.proxy import ProxyEndpoint
    from gateway.routes import ModelRoute
    from policies.config import UncertaintyPolicy


class PolicedServe:
    def __init__(self, proxy: ProxyEndpoint, policies: Policies) -> None:
        self.proxy = proxy
        self.policies = policies

    async def serve(self, exchange: Exchange, data: dict[str, Any], body: bytes, profile: Profile) -> int:
        outcome = InputOutcome(data, Report(self._count))
        try:
            apply_pii(profile.input_pii, outcome)
            for policy, judge in profile.input_guards:
                if not policy.speculative:
                    await apply_guard(policy, judge, outcome)
            if outcome.reroute_to is not None and not self.proxy.may_send(exchange.scope, outcome.reroute_to):
                raise _reroute_denied(outcome.reroute_to)
        except Blocked as blocked:
            return await self._blocked(exchange, data, profile, outcome.report, blocked)
        output = None
        if profile.output_guards or profile.output_pii or outcome.restore or profile.uncertainty is not None:
            output = OutputPolicies(profile.output_guards, profile.output_pii, outcome.restore, user_text(data),
                                    outcome.report)
        verdicts = self._speculate(exchange, profile, outcome, decided=output is None)
        name = outcome.reroute_to or data["model"]
        model, decision = self.proxy.resolve(name, exchange, outcome.data)
        exchange.watch_disconnect()
        route = b"policy: rerouted" if outcome.reroute_to else b"direct" if decision is None else decision.reason.encode()
        try:
            if profile.uncertainty is not None:
                assert output is not None
                return await self._assessed(exchange, outcome, model, profile, output)
            # The client's own bytes go upstream unless a policy changed the request.
            sent = body if outcome.data is data else b""
            return await self.proxy._forward(exchange, outcome.data, sent, model, route,
                                             output if output is not None and output.active else None)
        except Blocked as blocked:  # an output policy blocked a whole answer
            return await self._blocked(exchange, data, profile, outcome.report, blocked)
        except asyncio.CancelledError:
            blocked = _blocked_by(verdicts)
            if blocked is None or exchange.disconnected:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]  # our own cancel: the guard blocked
            return await self._blocked(exchange, data, profile, outcome.report, blocked)

    def _speculate(
        self, exchange: Exchange, profile: Profile, outcome: InputOutcome, *, decided: bool
    ) -> asyncio.Future[Any] | None:
        """Start the speculative guards alongside the upstream call.

        Nothing reaches the client before they allow (`before_reply` waits for
        them); a block cancels this request's task wherever it is — usually
        still waiting for the model — which drops the upstream request.
        `decided`: no policy acts after this point, so the header can be set now.
        """
        speculative = [(p, j) for p, j in profile.input_guards if p.speculative]
        if not speculative and decided:
            if outcome.report.decisions:
                exchange.reply_headers.append((b"x-semgate-policy", outcome.report.header()))
            return None
        verdicts = asyncio.gather(*(apply_guard(p, j, outcome) for p, j in speculative)) if speculative else None
        task = asyncio.current_task()
        if verdicts is not None and task is not None:
            verdicts.add_done_callback(lambda done: task.cancel() if _blocked_by(done) is not None else None)

        async def before_reply() -> None:
            if verdicts is not None:
                await asyncio.wait([verdicts])  # a block cancels us here, before any byte is sent
            exchange.reply_headers.append((b"x-semgate-policy", outcome.report.header()))

        exchange.before_reply = before_reply
        return verdicts

    async def _blocked(self, exchange: Exchange, data: dict[str, Any], profile: Profile, report: Report,
                       blocked: Blocked) -> int:
        report.add(blocked.decision)
        exchange.before_reply = None
        exchange.reply_headers.append((b"x-semgate-policy", report.header()))
        reply = refusal.block_reply(profile.config, data, self.proxy.chat, blocked)
        await exchange.reply(reply.status, reply.body, reply.content_type)
        return reply.status

    def _count(self, decision: Decision) -> None:
        self.proxy.metrics.policy_decision(decision.stage, decision.policy, decision.action)

    async def _assessed(self, exchange: Exchange, outcome: InputOutcome, model: ModelRoute, profile: Profile,
                        output: OutputPolicies) -> int:
        """Uncertainty: fetch the answer whole, estimate confidence, act on it."""
        policy = profile.uncertainty
        assert policy is not None
        data = outcome.data
        probe = confidence.request_for(data, policy, self.proxy.chat)
        answer, status, body = await self._ask(exchange, model, probe)
        if answer is None:
            return await self._relay_error(exchange, status, body)
        sampled = confidence.samples_wanted(data, policy)
        assessment = confidence.assess(answer, policy, self.proxy.chat, sampled=sampled)
        self._observe(model, assessment)
        if assessment.action == "escalate" and not self._may_escalate(exchange, policy, outcome.report):
            assessment = confidence.without_escalation(assessment, policy)
        if assessment.action == "escalate" and policy.escalate_to:
            outcome.report.add(assessment.decision())
            model = self.proxy.catalog.models[policy.escalate_to]
            answer, status, body = await self._ask(exchange, model, probe)
            if answer is None:
                return await self._relay_error(exchange, status, body)
            assessment = confidence.assess(answer, policy, self.proxy.chat, sampled=sampled, escalated=True)
            self._observe(model, assessment)
        answer = confidence.apply(answer, assessment, policy, self.proxy.chat)
        outcome.report.add(assessment.decision())
        if output.active:
            await output.check_answer(answer, self.proxy.chat)
        if policy.annotate and assessment.confidence is not None:  # no logprobs: nothing to report
            exchange.reply_headers.append((b"x-semgate-confidence", b"%.3f" % assessment.confidence))
            answer["semgate"] = {"confidence": round(assessment.confidence, 4), "signal": assessment.signal,
                                 "action": assessment.action}
        exchange.reply_headers += [(b"x-semgate-model", model.name.encode()), (b"x-semgate-route", b"policy")]
        return await self.proxy.reply_answer(exchange, cascade.as_client_asked(answer, data, data["model"]), data)

    def _may_escalate(self, exchange: Exchange, policy: UncertaintyPolicy, report: Report) -> bool:
        """Escalation goes only to a model the tenant may use; otherwise the policy acts as if
        it had nothing to escalate to (it hedges or abstains by its other thresholds)."""
        assert policy.escalate_to is not None
        if self.proxy.may_send(exchange.scope, policy.escalate_to):
            return True
        report.add(Decision("uncertainty", "escalation", "skipped", f"{policy.escalate_to} is not among the tenant's models"))
        return False

    def _observe(self, model: ModelRoute, assessment: confidence.Assessment) -> None:
        if assessment.confidence is not None:  # no logprobs: no estimate to count
            self.proxy.metrics.confidence_estimated(model.name, assessment.confidence)

    async def _ask(self, exchange: Exchange, model: ModelRoute, probe: dict[str, Any]
                   ) -> tuple[dict[str, Any] | None, int, bytes]:
        status, body = await self.proxy.fetch_whole(exchange, self.proxy.chain(exchange.scope, model), probe)
        if status != 200:
            return None, status, body
        answer = orjson.loads(body)
        self.proxy.add_usage(exchange, model, answer.get("usage") or {})
        return answer, status, body

    async def _relay_error(self, exchange: Exchange, status: int, body: bytes) -> int:
        await exchange.reply_error(UpstreamRejected(status, body))
        return status


def _reroute_denied(target: str) -> Blocked:
    """A guard asked for a reroute the tenant may not take. Serving the request where it was
    going would overrule the guard, and its allow-list is a hard boundary: it is blocked."""
    decision = Decision("input", "reroute", BLOCK, f"{target} is not among the tenant's models")
    return Blocked(decision, "the request was to be rerouted to a model this API key may not use",
                   ("reroute_denied",))


def _blocked_by(verdicts: asyncio.Future[Any] | None) -> Blocked | None:
    if verdicts is None or not verdicts.done() or verdicts.cancelled():
        return None
    error = verdicts.exception()
    return error if isinstance(error, Blocked) else None
