"""Policy configuration: named guards, named profiles, and who gets which profile.

```yaml
policies:
  guards:
    local: {type: embedded}
    llama: {type: llama_guard, model: llama-guard, timeout_s: 2}
  profiles:
    standard:
      input:
        - {kind: pii, action: redact}
        - {kind: guard, guard: local, block_above: 0.8, reroute_above: 0.5, reroute_to: safe-model}
      output:
        - {kind: guard, guard: local}
      uncertainty: {hedge_below: 0.5, abstain_below: 0.15}
  default: standard            # every request unless a model or tenant says otherwise
  models: {internal-tool: none}
  tenants: {search-team: strict}   # or a tenant's `policy` (docs/tenants.md)
```

Guards that run on an upstream model name a configured model, never a URL:
where requests go is the operator's decision only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NONE = "none"  # a profile name meaning "no policies"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Fraction = Annotated[float, Field(ge=0, le=1)]


class GuardSpec(_Section):
    type: Literal["embedded", "llama_guard", "classifier"]
    # The configured model serving the guard (llama_guard, classifier).
    model: str | None = None
    # llama_guard: "chat" for models with Llama Guard's chat template, "completions"
    # to render the Llama Guard 3 prompt in the gateway.
    prompt_mode: Literal["chat", "completions", "instruct"] = "chat"
    # Scores above this count as unsafe (classifier, embedded).
    threshold: Fraction = 0.5
    timeout_s: Annotated[float, Field(gt=0)] = 2.0
    # Longest text judged at once (characters); longer texts are judged by their head and tail.
    max_chars: int = Field(default=4000, gt=0)

    @model_validator(mode="after")
    def _needs_model(self) -> GuardSpec:
        if self.type != "embedded" and not self.model:
            raise ValueError(f"a {self.type} guard needs `model`: the configured model that serves it")
        return self


class GuardPolicy(_Section):
    kind: Literal["guard"]
    guard: str
    # unsafe score ≥ block_above → block; ≥ reroute_above (and below block_above) → reroute
    block_above: Fraction = 0.5
    reroute_above: Fraction | None = None
    reroute_to: str | None = None
    # "annotate" only reports the verdict (x-semgate-policy), never blocks.
    action: Literal["block", "annotate"] = "block"
    # A guard that fails or times out: let the request through ("open") or block it ("closed").
    on_error: Literal["open", "closed"] = "open"
    # Input only: start the upstream call while the guard runs; nothing reaches the
    # client before the guard allows it, and a block cancels the upstream call.
    speculative: bool = False
    # Output, streaming: judge the last window_chars characters every stride_chars new ones.
    window_chars: int = Field(default=600, gt=0)
    stride_chars: int = Field(default=200, gt=0)

    @model_validator(mode="after")
    def _reroute_pair(self) -> GuardPolicy:
        if (self.reroute_above is None) != (self.reroute_to is None):
            raise ValueError("reroute_above and reroute_to go together")
        if self.reroute_above is not None and self.reroute_above > self.block_above:
            raise ValueError("reroute_above must not exceed block_above (reroute the risky, block the worst)")
        if self.speculative and self.reroute_to is not None:
            raise ValueError("a speculative guard cannot reroute: the call has already started on the chosen model")
        return self


class PIIPolicy(_Section):
    kind: Literal["pii"]
    # Kinds to look for (policies/pii); all of them by default.
    kinds: list[str] | None = None
    action: Literal["redact", "block", "annotate"] = "redact"
    # With redact: put the original values back where the answer repeats a placeholder.
    restore: bool = True


InputPolicy = Annotated[GuardPolicy | PIIPolicy, Field(discriminator="kind")]
OutputPolicy = Annotated[GuardPolicy | PIIPolicy, Field(discriminator="kind")]


class UncertaintyPolicy(_Section):
    # "logprobs": from the answer's token logprobs (asked for upstream when the client
    # did not; removed again). "consistency": `samples` answers, their agreement.
    signal: Literal["logprobs", "consistency"] = "logprobs"
    samples: int = Field(default=5, ge=2, le=16)
    # x-semgate-confidence header and a `semgate` object in JSON answers.
    annotate: bool = True
    hedge_below: Fraction | None = None
    hedge_text: str = "I'm not sure, but "
    escalate_below: Fraction | None = None
    escalate_to: str | None = None
    abstain_below: Fraction | None = None
    abstain_text: str = "I don't know the answer to that with enough confidence to say."

    @model_validator(mode="after")
    def _escalation(self) -> UncertaintyPolicy:
        if (self.escalate_below is None) != (self.escalate_to is None):
            raise ValueError("escalate_below and escalate_to go together")
        return self


class PolicyProfile(_Section):
    input: list[InputPolicy] = []
    output: list[OutputPolicy] = []
    uncertainty: UncertaintyPolicy | None = None
    # How a block answers: an assistant refusal (finish_reason "content_filter") or a 400 error.
    block_response: Literal["refusal", "error"] = "refusal"
    refusal_text: str = "I can't help with that request."


class PoliciesConfig(_Section):
    guards: dict[str, GuardSpec] = {}
    profiles: dict[str, PolicyProfile] = {}
    # Profile for every request (None: no policies), overridden per public model or
    # route name, then per tenant (the most specific wins). "none" turns policies off.
    default: str | None = None
    models: dict[str, str] = {}
    tenants: dict[str, str] = {}

    @model_validator(mode="after")
    def _references(self) -> PoliciesConfig:
        for where, name in [("default", self.default), *(("models." + k, v) for k, v in self.models.items()),
                            *(("tenants." + k, v) for k, v in self.tenants.items())]:
            if name is not None and name != NONE and name not in self.profiles:
                raise ValueError(f"policies.{where} names unknown profile {name!r}")
        for profile_name, profile in self.profiles.items():
            for stage, items in (("input", profile.input), ("output", profile.output)):
                for index, policy in enumerate(items):
                    if isinstance(policy, GuardPolicy) and policy.guard not in self.guards:
                        raise ValueError(
                            f"profiles.{profile_name}.{stage}.{index} names unknown guard {policy.guard!r}"
                        )
        return self

    def models_named(self) -> list[tuple[str, str]]:
        """(where, model name) for every model the policies send requests to."""
        named = [(f"policies.guards.{n}.model", g.model) for n, g in self.guards.items() if g.model]
        for profile_name, profile in self.profiles.items():
            for stage, items in (("input", profile.input), ("output", profile.output)):
                for index, policy in enumerate(items):
                    if isinstance(policy, GuardPolicy) and policy.reroute_to:
                        named.append((f"policies.profiles.{profile_name}.{stage}.{index}.reroute_to",
                                      policy.reroute_to))
            if profile.uncertainty is not None and profile.uncertainty.escalate_to:
                named.append((f"policies.profiles.{profile_name}.uncertainty.escalate_to",
                              profile.uncertainty.escalate_to))
        return named
