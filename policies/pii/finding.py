"""What a detector reports: one `Finding` per span of personal data or secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

Kind = Literal["email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6", "api_key", "secret"]

# Every kind, in the order detectors run. Placeholders are the upper-cased kind.
KINDS: Final[tuple[Kind, ...]] = (
    "email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6", "api_key", "secret",
)

# When two candidates overlap, the longer span wins; on equal length, the higher
# priority (the more specific detector) wins. A provider-shaped key inside
# `api_key=...` is an api_key, not a generic secret; a JWT after
# `Authorization: Bearer` is reported as the JWT.
PRIORITY: Final[dict[str, int]] = {
    "secret.private_key": 100,
    "api_key": 90,
    "iban": 80,
    "credit_card": 80,
    "us_ssn": 75,
    "email": 70,
    "ipv6": 60,
    "ipv4": 55,
    "phone": 50,
    "secret": 40,
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    start: int
    end: int
    # The matched value. Kept out of repr so that logging a Finding (or a list
    # of them) never writes the personal data or the secret itself.
    text: str = field(repr=False)
    # Which rule matched, e.g. "openai", "jwt", "e164", "fr": safe to log.
    rule: str = ""

    @property
    def priority(self) -> int:
        if self.kind == "secret" and self.rule == "private_key":
            return PRIORITY["secret.private_key"]
        return PRIORITY[self.kind]
