"""PII and secrets: detection, redaction to placeholders, restoration.

    from policies.pii import detect, Redactor, StreamRestorer, redact_messages

    detect("mail me: jean@exemple.fr")            # [Finding(kind='email', start=9, end=24, rule='email')]
    redacted, mapping = Redactor().redact(prompt)  # "... [EMAIL_1] ...", {"[EMAIL_1]": "jean@exemple.fr"}
    restorer = StreamRestorer(mapping)             # per streamed answer: feed(chunk) ... flush()

Pure Python, no I/O, no state shared between requests. See docs/pii.md.
"""

from policies.pii.bench import benchmark, sample_prompts
from policies.pii.chat import detect_messages, redact_messages
from policies.pii.detect import check_kinds, detect
from policies.pii.finding import KINDS, Finding, Kind
from policies.pii.redact import PLACEHOLDER, Redactor, StreamRestorer, restore, summarize

__all__ = [
    "KINDS",
    "PLACEHOLDER",
    "Finding",
    "Kind",
    "Redactor",
    "StreamRestorer",
    "benchmark",
    "check_kinds",
    "detect",
    "detect_messages",
    "redact_messages",
    "restore",
    "sample_prompts",
    "summarize",
]
